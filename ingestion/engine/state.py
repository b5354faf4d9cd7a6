"""The engine's saved state, typed: the field plan, the pass in flight and the checkpoint.

ObjectCursor keeps this state between slices and between workers. The field plan and the pass
in flight are stored as JSON; the checkpoint has columns of its own. Only this module converts
between the two forms:
- ``to_json``/``from_json`` on ``FieldPlan`` and ``PassState`` are the one JSON codec. Reading
  fills in keys that older versions did not store.
- ``Checkpoint.load``/``Checkpoint.store`` map a checkpoint to the cursor's columns and back.

A checkpoint changes only through its own methods (the transitions). ``Checkpoint.step`` says
what to do next. engine/objects.py shows the state machine on one screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from ingestion.engine.windows import Window
from ingestion.models import ObjectCursor

ReadMode = ObjectCursor.ReadMode
Phase = ObjectCursor.Phase


class Step(StrEnum):
    """What reading an object does next. The checkpoint decides it (``Checkpoint.step``)."""

    DONE = "done"
    CREATE_JOB = "create_job"  # ask Salesforce for a Bulk query job
    POLL_JOB = "poll_job"  # wait for the job (bulk_steps.poll_wait)
    READ_RESULT_PAGE = "read_result_page"  # write the job's next page of rows
    READ_PASS_PAGE = "read_pass_page"  # apply the next page of a whole-object pass's job
    READ_REST_PAGE = "read_rest_page"  # write the window's next REST query page
    READ_BLOB_PAGE = "read_blob_page"  # fetch the base64 fields of the window's next page


class Pacing(StrEnum):
    """Where a large initial load stands in learning Salesforce's pace (bulk_steps)."""

    NONE = ""  # windows as they were opened
    TRIAL = "trial"  # the first window's job: done by its first poll, and nothing changes
    PROBE = "probe"  # it was not: a small first window, whose job measures the pace
    PACED = "paced"  # each next window cut to run about window_seconds (windows.paced_cut)


class Purpose(StrEnum):
    """Why a whole-object pass runs (see engine/passes.py)."""

    RECONCILE = "reconcile"
    BACKFILL = "backfill"


# -- the field plan ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedField:
    """One field of an object, with the describe attributes the engine and audiences use."""

    type: str = "string"
    label: str = ""
    calculated: bool = False
    filterable: bool = True
    nillable: bool = True
    picklist_values: tuple[str, ...] = ()
    reference_to: tuple[str, ...] = ()
    compound_field_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "label": self.label,
            "calculated": self.calculated,
            "filterable": self.filterable,
            "nillable": self.nillable,
            "picklist_values": list(self.picklist_values),
            "reference_to": list(self.reference_to),
            "compound_field_name": self.compound_field_name,
        }

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> PlannedField:
        return cls(
            type=data.get("type") or "string",
            label=data.get("label") or name,
            calculated=bool(data.get("calculated")),
            filterable=bool(data.get("filterable", True)),
            nillable=bool(data.get("nillable", True)),
            picklist_values=tuple(data.get("picklist_values") or ()),
            reference_to=tuple(data.get("reference_to") or ()),
            compound_field_name=data.get("compound_field_name"),
        )


@dataclass(frozen=True)
class Compound:
    """An address or geolocation field, rebuilt from its component fields."""

    type: str
    components: dict[str, str]  # key in the rebuilt value -> component field name


@dataclass(frozen=True)
class FieldPlan:
    """Which fields of an object to read, and how (built by engine/plan.py from a describe)."""

    fields: dict[str, PlannedField] = field(default_factory=dict)
    bulk_fields: tuple[str, ...] = ()  # selected in Bulk queries and REST window reads
    rest_fields: tuple[str, ...] = ()  # base64 fields, read over REST after a window's rows
    compounds: dict[str, Compound] = field(default_factory=dict)
    cursor_field: str | None = None  # SystemModstamp, or the best field after it
    has_is_deleted: bool = False
    queryable: bool = True

    def type_of(self, name: str) -> str | None:
        """The describe type of a field, or None for a name the plan does not know."""
        return self.types.get(name)

    @cached_property
    def types(self) -> dict[str, str]:
        return {name: info.type for name, info in self.fields.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": {name: info.to_json() for name, info in self.fields.items()},
            "bulk_fields": list(self.bulk_fields),
            "rest_fields": list(self.rest_fields),
            "compounds": {
                name: {"type": c.type, "components": dict(c.components)}
                for name, c in self.compounds.items()
            },
            "cursor_field": self.cursor_field,
            "has_is_deleted": self.has_is_deleted,
            "queryable": self.queryable,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> FieldPlan:
        """A stored plan; an empty one (before the first describe) has no fields."""
        data = data or {}
        fields = {
            name: PlannedField.from_json(name, f) for name, f in data.get("fields", {}).items()
        }
        compounds = {
            name: Compound(c["type"], dict(c["components"]))
            for name, c in (data.get("compounds") or {}).items()
        }
        return cls(
            fields=fields,
            bulk_fields=tuple(data.get("bulk_fields") or ()),
            rest_fields=tuple(data.get("rest_fields") or ()),
            compounds=compounds,
            cursor_field=data.get("cursor_field"),
            has_is_deleted=bool(data.get("has_is_deleted", "IsDeleted" in fields)),
            queryable=bool(data.get("queryable", True)),
        )


# -- the pass in flight -----------------------------------------------------------------------
@dataclass(frozen=True)
class PassState:
    """A whole-object pass being read: why, which fields beside Id, and since when."""

    purpose: Purpose
    fields: tuple[str, ...]
    started: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "purpose": str(self.purpose),
            "fields": list(self.fields),
            "started": self.started.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> PassState | None:
        if not data:
            return None
        return cls(
            purpose=Purpose(data["purpose"]),
            fields=tuple(data.get("fields") or ()),
            started=datetime.fromisoformat(data["started"]),
        )


# -- the pace of Salesforce's jobs ------------------------------------------------------------
@dataclass(frozen=True)
class Pace:
    """How fast Salesforce ran a load's probe job (its first, small window), measured from the
    job's own info, and how dense the window read last was: the next window is cut by them
    (windows.paced_cut), and its job first polled when it should be done (bulk_steps.poll_wait)."""

    queue_seconds: float  # from the job's creation to its processing
    seconds_per_record: float  # processing time per record (0: too fast to measure)
    density: float  # records per second of cursor-field span, in the window read last
    window_seconds: float = 0.0  # the run each window's job is cut for (0: not cut)

    def records_in(self, window: Window) -> float:
        if window.start is None:
            return 0.0
        return self.density * max((window.end - window.start).total_seconds(), 0.0)

    def expected_run(self, window: Window) -> float:
        """Seconds a job reading ``window`` should take at Salesforce, from its creation."""
        return self.queue_seconds + self.records_in(window) * self.seconds_per_record

    def to_json(self) -> dict[str, float]:
        return {
            "queue_seconds": self.queue_seconds,
            "seconds_per_record": self.seconds_per_record,
            "density": self.density,
            "window_seconds": self.window_seconds,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Pace | None:
        if not data or "seconds_per_record" not in data:
            return None
        return cls(
            queue_seconds=float(data.get("queue_seconds") or 0.0),
            seconds_per_record=float(data["seconds_per_record"]),
            density=float(data.get("density") or 0.0),
            window_seconds=float(data.get("window_seconds") or 0.0),
        )


# -- the checkpoint ---------------------------------------------------------------------------
@dataclass
class Checkpoint:
    """How far reading an object has got. Committed with the rows it covers (invariant 6)."""

    window: Window | None = None  # the window being read; None once the window set is read
    pending: list[Window] = field(default_factory=list)  # windows still to read, in order
    read_mode: str = ReadMode.BULK
    phase: str = Phase.ROWS
    job_id: str = ""  # the Bulk job being read, for the window or for a pass
    job_created_at: datetime | None = None
    job_complete: bool = False  # the job reached JobComplete: read its pages, poll no more
    job_failures: int = 0  # failed jobs of this window; the second failure splits it
    locator: str = ""  # where the next page starts: Bulk locator or REST nextRecordsUrl
    pass_in_flight: PassState | None = None
    # Bulk jobs created ahead for pending windows (job id, created at), so Salesforce runs the
    # next window's job while this one is read; stored beside its window in pending_windows.
    jobs_ahead: dict[Window, tuple[str, datetime]] = field(default_factory=dict)
    # A large initial load learning Salesforce's pace (objects.ObjectReader._open_initial).
    pacing: Pacing = Pacing.NONE
    pace: Pace | None = None

    @classmethod
    def load(cls, cursor: ObjectCursor) -> Checkpoint:
        window = Window(cursor.window_start, cursor.window_end) if cursor.window_end else None
        pending = [Window.from_json(w) for w in cursor.pending_windows]
        return cls(
            window=window,
            pending=pending,
            jobs_ahead={
                pending[n]: (entry[2], datetime.fromisoformat(entry[3]))
                for n, entry in enumerate(cursor.pending_windows)
                if len(entry) > 2
            },
            read_mode=cursor.read_mode,
            phase=cursor.phase,
            job_id=cursor.job_id,
            job_created_at=cursor.job_created_at,
            job_complete=cursor.job_complete,
            job_failures=cursor.job_failures,
            locator=cursor.locator,
            pass_in_flight=PassState.from_json(cursor.pass_in_flight),
            pacing=Pacing((cursor.job_pace or {}).get("stage") or Pacing.NONE),
            pace=Pace.from_json(cursor.job_pace),
        )

    def store(self, cursor: ObjectCursor) -> None:
        cursor.window_start = self.window.start if self.window else None
        cursor.window_end = self.window.end if self.window else None
        cursor.pending_windows = [self._pending_json(w) for w in self.pending]
        cursor.read_mode = self.read_mode
        cursor.phase = self.phase
        cursor.job_id = self.job_id
        cursor.job_created_at = self.job_created_at
        cursor.job_complete = self.job_complete
        cursor.job_failures = self.job_failures
        cursor.locator = self.locator
        cursor.pass_in_flight = self.pass_in_flight.to_json() if self.pass_in_flight else None
        stage = {"stage": str(self.pacing)} if self.pacing else {}
        cursor.job_pace = {**stage, **(self.pace.to_json() if self.pace else {})} or None

    def _pending_json(self, window: Window) -> list:
        ahead = self.jobs_ahead.get(window)
        return window.to_json() + ([ahead[0], ahead[1].isoformat()] if ahead else [])

    # -- where it stands ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.window is None and self.pass_in_flight is None

    @property
    def step(self) -> Step:
        """The next thing to do; every transition below moves to another step."""
        if self.done:
            return Step.DONE
        if self.pass_in_flight or (self.read_mode == ReadMode.BULK and self.phase == Phase.ROWS):
            if not self.job_id:
                return Step.CREATE_JOB
            if not self.job_complete:
                return Step.POLL_JOB
            return Step.READ_PASS_PAGE if self.pass_in_flight else Step.READ_RESULT_PAGE
        return Step.READ_BLOB_PAGE if self.phase == Phase.BLOBS else Step.READ_REST_PAGE

    @property
    def next_window_wants_job(self) -> bool:
        """The window after this Bulk one has no job yet (one may be created ahead for it)."""
        return (
            bool(self.pending)
            and self.pending[0] not in self.jobs_ahead
            and self.read_mode == ReadMode.BULK
            and self.pass_in_flight is None
        )

    # -- transitions: the only code that changes a checkpoint ---------------------------------

    def open_windows(self, windows: list[Window], read_mode: str, *, trial: bool = False) -> None:
        """Start a window set: read the first window now and the others after it; ``trial``:
        a large initial load, whose first job shows whether Salesforce is slow."""
        self.window, *self.pending = windows
        self.jobs_ahead = {}
        self.read_mode = read_mode
        self.pacing, self.pace = (Pacing.TRIAL if trial else Pacing.NONE), None
        self.drop_job()

    def trial_passed(self) -> None:
        """The first job was done by its first poll: Salesforce is quick; windows stay."""
        self.pacing = Pacing.NONE

    def probe_first(self, windows: list[Window]) -> None:
        """The first job was still running: it was aborted, and ``windows`` (a small probe
        window first) replace the window set."""
        self.window, *self.pending = windows
        self.pacing = Pacing.PROBE
        self.drop_job()

    def paced(self, pace: Pace, pending: list[Window]) -> None:
        """The window's job is complete (the probe's, or a paced window's): the windows after
        it, cut by the pace measured. No job is made ahead for them yet (it is made next)."""
        self.pace, self.pending, self.pacing = pace, pending, Pacing.PACED

    def job_created_ahead(self, job_id: str, at: datetime) -> None:
        """A job for the next window, created while this one is read."""
        self.jobs_ahead[self.pending[0]] = (job_id, at)

    def job_created(self, job_id: str, at: datetime) -> None:
        self.job_id, self.job_created_at = job_id, at
        self.job_complete, self.locator = False, ""

    def job_completed(self) -> None:
        self.job_complete = True

    def drop_job(self) -> None:
        """Forget the job and the page reached: the window (or pass) is read from its start."""
        self.job_id, self.job_created_at = "", None
        self.job_complete, self.locator = False, ""

    def restart_pages(self) -> None:
        """Read the window's pages again from the first (an expired REST locator)."""
        self.locator = ""

    def retry_failed_job(self) -> bool:
        """After a failed job: True if it may run once more, False if the window must split."""
        if self.job_failures:
            return False
        self.job_failures = 1
        self.drop_job()
        return True

    def split_window(self, first: Window, second: Window) -> None:
        self.window = first
        self.pending = [second, *self.pending]
        self.job_failures = 0
        self.drop_job()

    def move_to_bulk(self) -> None:
        """A REST window too slow for a synchronous query is read by a Bulk job instead."""
        self.read_mode = ReadMode.BULK
        self.drop_job()

    def page_read(self, next_locator: str | None) -> bool:
        """Move past a page. Returns True if it was the last page of the job or query."""
        if next_locator:
            self.locator = next_locator
            return False
        return True

    def read_blobs(self) -> None:
        """The window's rows are written; its base64 fields are read next, over REST."""
        self.phase = Phase.BLOBS
        self.drop_job()

    def next_window(self) -> Window | None:
        """The window is read: make the next pending window current. Returns the one read."""
        finished = self.window
        self.window = self.pending.pop(0) if self.pending else None
        self.phase, self.job_failures = Phase.ROWS, 0
        self.drop_job()
        ahead = self.jobs_ahead.pop(self.window, None) if self.window else None
        if ahead is not None and self.read_mode == ReadMode.BULK:
            self.job_created(*ahead)  # poll the job made ahead: never a second one
        return finished

    def start_pass(self, state: PassState) -> None:
        self.pass_in_flight = state
        self.drop_job()

    def end_pass(self) -> None:
        self.pass_in_flight = None
        self.drop_job()
