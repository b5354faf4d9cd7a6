"""Reads of the ingestion app: progress, described fields, run history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from connections.models import Connection
from ingestion.engine.state import FieldPlan
from ingestion.models import DataPurge, IngestedRecord, ObjectCursor, SyncRun


@dataclass(frozen=True)
class FieldInfo:
    """A field of an ingested object, as the connected user can read it."""

    name: str
    type: str
    label: str
    picklist_values: tuple[str, ...] = ()
    reference_to: tuple[str, ...] = ()
    calculated: bool = False


def object_fields(*, connection: Connection, sobject: str) -> dict[str, FieldInfo]:
    """The fields of ``sobject`` known from the last describe (empty before the first run)."""
    cursor = ObjectCursor.objects.filter(connection=connection, sobject=sobject).first()
    plan = FieldPlan.from_json(cursor.field_plan if cursor else None)
    return {
        name: FieldInfo(
            name=name,
            type=info.type,
            label=info.label,
            picklist_values=info.picklist_values,
            reference_to=info.reference_to,
            calculated=info.calculated,
        )
        for name, info in plan.fields.items()
    }


@dataclass(frozen=True)
class ObjectProgress:
    """Initial-load progress of one object."""

    sobject: str
    ingested: int
    estimated_total: int | None
    complete: bool
    percent: float | None
    eta_seconds: float | None


@dataclass(frozen=True)
class ConnectionProgress:
    """Initial-load progress of a connection, per object and overall."""

    objects: list[ObjectProgress]
    ingested: int
    estimated_total: int | None
    percent: float | None
    eta_seconds: float | None
    complete: bool
    last_run: SyncRun | None
    next_sync_at: datetime | None


def _rate(connection: Connection, ingested: int) -> float | None:
    # A load running now is the best measure: the connection's first start may be days old
    # (a full resync, a load resumed after a pause).
    running = connection.sync_runs.filter(
        status=SyncRun.Status.RUNNING, kind__in=LOAD_KINDS
    ).first()
    if running is not None:
        return _run_rate(running)
    started = connection.initial_sync_started_at
    if not started or not ingested:
        return None
    elapsed = (timezone.now() - started).total_seconds()
    return ingested / elapsed if elapsed > 0 else None


def _object_progress(cursor: ObjectCursor, rate: float | None) -> ObjectProgress:
    total = cursor.estimated_total
    done = cursor.records_ingested
    complete = cursor.initial_load_complete
    percent = 100.0 if complete else (min(done / total * 100, 99.9) if total else None)
    remaining = max((total or 0) - done, 0)
    eta = 0.0 if complete else (remaining / rate if rate and total else None)
    return ObjectProgress(cursor.sobject, done, total, complete, percent, eta)


def connection_progress(*, connection: Connection) -> ConnectionProgress:
    """Records ingested of the estimated total, per enabled object, with time remaining."""
    cursors = {
        c.sobject: c
        for c in ObjectCursor.objects.filter(
            connection=connection, sobject__in=connection.enabled_objects
        )
    }
    ingested = sum(c.records_ingested for c in cursors.values())
    rate = _rate(connection, ingested)
    objects = [
        _object_progress(cursors[name], rate)
        if name in cursors
        else ObjectProgress(name, 0, None, False, None, None)
        for name in connection.enabled_objects
    ]
    totals = [o.estimated_total for o in objects]
    total = sum(totals) if all(t is not None for t in totals) else None
    complete = connection.initial_sync_complete
    percent = 100.0 if complete else (min(ingested / total * 100, 99.9) if total else None)
    etas = [o.eta_seconds for o in objects if not o.complete]
    eta = 0.0 if complete else (max(etas) if etas and None not in etas else None)
    return ConnectionProgress(
        objects=objects,
        ingested=ingested,
        estimated_total=total,
        percent=percent,
        eta_seconds=eta,
        complete=complete,
        last_run=connection.sync_runs.order_by("-created_at").first(),
        next_sync_at=connection.next_sync_at,
    )


@dataclass(frozen=True)
class ObjectStatus:
    """Where one object of a connection stands, for ``syncstatus`` and ops."""

    sobject: str
    records: int
    deleted: int
    watermark: datetime | None
    initial_load_complete: bool
    progress: ObjectProgress
    last_error: str


def connection_object_status(*, connection: Connection) -> list[ObjectStatus]:
    """Per enabled object: records, deleted, watermark, initial load, progress."""
    counts = {
        row["sobject"]: row
        for row in IngestedRecord.objects.filter(connection=connection)
        .values("sobject")
        .annotate(total=Count("id"), deleted=Count("id", filter=Q(is_deleted=True)))
    }
    cursors = {c.sobject: c for c in ObjectCursor.objects.filter(connection=connection)}
    progress = {p.sobject: p for p in connection_progress(connection=connection).objects}
    return [
        ObjectStatus(
            sobject=name,
            records=counts.get(name, {}).get("total", 0),
            deleted=counts.get(name, {}).get("deleted", 0),
            watermark=cursors[name].watermark if name in cursors else None,
            initial_load_complete=bool(name in cursors and cursors[name].initial_load_complete),
            progress=progress[name],
            last_error=cursors[name].last_error if name in cursors else "",
        )
        for name in connection.enabled_objects
    ]


def connection_api_calls_today(*, connection: Connection) -> int:
    """This connection's API calls over the rolling last 24 hours."""
    since = timezone.now() - timedelta(hours=24)
    total = connection.api_usage.filter(hour__gte=since).aggregate(total=Sum("calls"))["total"]
    return total or 0


# --- the progress of one run, whatever its kind ------------------------------------------------

WAITING, COUNTING, READING, DONE, FAILED = "waiting", "counting", "reading", "done", "failed"
LOAD_KINDS = (SyncRun.Kind.INITIAL, SyncRun.Kind.FULL_RESYNC, SyncRun.Kind.OBJECT_RESYNC)
# What "total" means for each kind of run: the thing progress is counted in.
TOTAL_MEANING = {
    SyncRun.Kind.INITIAL: "records to load",
    SyncRun.Kind.FULL_RESYNC: "records to reload",
    SyncRun.Kind.OBJECT_RESYNC: "records to reload",
    SyncRun.Kind.INCREMENTAL: "changed records to read",
    SyncRun.Kind.RECONCILE: "record ids to check",
}


@dataclass(frozen=True)
class ObjectRunProgress:
    """One object in one run: its state and how far it got, in the run kind's own unit."""

    sobject: str
    state: str
    done: int
    total: int | None
    error: str = ""

    @property
    def percent(self) -> float | None:
        """Never 100 before the object is done."""
        if self.state == DONE:
            return 100.0
        if not self.total:
            return None
        return min(self.done / self.total * 100, 99.0)


@dataclass(frozen=True)
class RunProgress:
    """How far a run is: per object and overall, with an ETA from this run's observed rate."""

    run: SyncRun
    unit: str
    objects: list[ObjectRunProgress]
    done: int
    total: int | None
    percent: float | None
    rate: float | None
    eta_seconds: float | None

    @property
    def active(self) -> bool:
        return self.run.status in SyncRun.ACTIVE_STATUSES

    @property
    def objects_done(self) -> int:
        return sum(1 for o in self.objects if o.state == DONE)


def _object_state(stats: dict, done: int, total: int | None) -> str:
    status = stats.get("status", "pending")
    if status == "done":
        return DONE
    if status in ("failed", "unreadable"):
        return FAILED
    if status == "pending" and not done:
        return WAITING
    return READING if total is not None else COUNTING


def _object_figures(run: SyncRun, sobject: str, cursor, stats: dict, stored: dict[str, int]):
    """(done, total) in the run kind's unit."""
    read = stats.get("records_read", 0)
    if run.kind in LOAD_KINDS and cursor is not None and cursor.estimated_total is not None:
        return cursor.records_ingested, cursor.estimated_total
    if run.kind == SyncRun.Kind.RECONCILE:
        return read, stored.get(sobject, 0)
    return read, stats.get("expected")


def _stored_counts(run: SyncRun, objects: list[str]) -> dict[str, int]:
    """Live records per object: what a reconciliation checks against Salesforce."""
    if run.kind != SyncRun.Kind.RECONCILE:
        return {}
    rows = (
        IngestedRecord.objects.filter(
            connection_id=run.connection_id, sobject__in=objects, is_deleted=False
        )
        .values("sobject")
        .annotate(n=Count("id"))
    )
    return {row["sobject"]: row["n"] for row in rows}


def run_progress(*, run: SyncRun) -> RunProgress:
    """Progress of ``run`` in its own terms (see ``TOTAL_MEANING``). Percentages stay below 100
    until the run has finished, and the ETA comes from what this run has done so far."""
    enabled = list(run.connection.enabled_objects)
    objects = [n for n in enabled if n in run.sobjects] if run.sobjects else enabled
    cursors = {
        c.sobject: c
        for c in ObjectCursor.objects.filter(connection_id=run.connection_id, sobject__in=objects)
    }
    stored = _stored_counts(run, objects)
    rows = []
    for name in objects:
        stats = run.object_stats.get(name, {})
        done, total = _object_figures(run, name, cursors.get(name), stats, stored)
        state = _object_state(stats, done, total)
        if state == DONE:
            total = done  # what it took: counts are estimates (rows change while reading)
        rows.append(ObjectRunProgress(name, state, done, total, stats.get("error", "")))
    return _overall(run, rows)


def _overall(run: SyncRun, rows: list[ObjectRunProgress]) -> RunProgress:
    counted = [r for r in rows if r.state != FAILED]
    done = sum(min(r.done, r.total) if r.total is not None else r.done for r in counted)
    known = all(r.total is not None for r in counted)
    total = sum(r.total or 0 for r in counted) if known else None
    finished = run.status == SyncRun.Status.SUCCEEDED
    if finished:
        percent = 100.0
    elif total:
        percent = min(done / total * 100, 99.0)
    else:
        percent = 0.0 if total == 0 and not finished else None
    rate = _run_rate(run)
    eta = None
    if run.status in SyncRun.ACTIVE_STATUSES and total is not None and rate:
        eta = max(total - done, 0) / rate
    return RunProgress(
        run=run,
        unit=TOTAL_MEANING.get(run.kind, "records"),
        objects=rows,
        done=done,
        total=total,
        percent=percent,
        rate=rate,
        eta_seconds=eta,
    )


def _run_rate(run: SyncRun) -> float | None:
    """Records per second this run has managed while it ran (what it wrote or read)."""
    if not run.started_at:
        return None
    end = run.finished_at or timezone.now()
    elapsed = (end - run.started_at).total_seconds()
    amount = max(run.records_written, run.records_read)
    return amount / elapsed if elapsed > 0 and amount else None


def connection_current_run(*, connection: Connection) -> SyncRun | None:
    """The run queued, running or paused now, if any (at most one is queued or running)."""
    return (
        connection.sync_runs.filter(status__in=[*SyncRun.ACTIVE_STATUSES, SyncRun.Status.PAUSED])
        .order_by("-created_at")
        .first()
    )


def connection_last_finished_run(*, connection: Connection) -> SyncRun | None:
    """The most recent run that reached a final status."""
    return (
        connection.sync_runs.filter(status__in=SyncRun.FINISHED_STATUSES)
        .order_by("-finished_at", "-created_at")
        .first()
    )


def connection_data_purge(*, connection: Connection) -> DataPurge | None:
    """The deletion of the connection's records under way, if any (for its page)."""
    return connection.purges.filter(status__in=DataPurge.ACTIVE_STATUSES).first()
