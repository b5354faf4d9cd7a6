"""Writing records: idempotent upserts keyed on (connection, object, Id), in batches.

A row with an older SystemModstamp never overwrites a newer one (invariant 4). PostgreSQL
streams the page through COPY into a staging table and upserts it in one statement; other
databases (SQLite) use the ORM's bulk upsert after dropping rows older than what is stored.
Callers wrap a page's write and its checkpoint in one transaction; a load's COPY lanes commit
on connections of their own just before it (_LoadWriter), so a caller rolling back after
``write_records`` returns leaves those rows in the load table, read again and stored twice.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import logging
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Generic, TypeVar

import orjson
import psycopg
from django.db import connection as db
from django.db import transaction
from django.db.models import Exists, OuterRef
from psycopg.errors import UniqueViolation

from ingestion.models import IngestedRecord, ReconcileSeenId
from ingestion.partitions import load_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One record ready to store; ``modstamp`` is the stored datetime form (a string),
    ``facets`` the values audiences filter on by equality (see values.FACET_TYPES)."""

    sf_id: str
    data: dict[str, Any]
    modstamp: str
    is_deleted: bool
    facets: dict[str, Any] = field(default_factory=dict)


@dataclass
class WriteStats:
    read: int = 0
    written: int = 0
    deleted: int = 0

    def add(self, other: WriteStats) -> None:
        self.read += other.read
        self.written += other.written
        self.deleted += other.deleted


class SplittablePage(ABC):
    """A page whose records can be made into COPY lines in chunks, some of them elsewhere
    than in this thread (readers.CsvPage, parsed partly in a helper process)."""

    @abstractmethod
    def __iter__(self) -> Iterator[ParsedRecord]: ...

    @abstractmethod
    def copy_lines(self, maker: LineMaker, batch_size: int) -> Iterator[Lines]: ...


def batches(records: Iterable[ParsedRecord], size: int) -> Iterator[list[ParsedRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def _newest(batch: list[ParsedRecord]) -> list[ParsedRecord]:
    """One record per Id, the newest (a page can hold an Id twice when it changed mid-read)."""
    newest: dict[str, ParsedRecord] = {}
    for record in batch:
        kept = newest.get(record.sf_id)
        if kept is None or kept.modstamp <= record.modstamp:
            newest[record.sf_id] = record
    return list(newest.values()) if len(newest) < len(batch) else batch


_DONE = object()
T = TypeVar("T")


class _ReadAhead(Generic[T]):
    """Parse the next batch in a thread while the database writes this one.

    Parsing is Python (it holds the GIL); the upsert waits on PostgreSQL (psycopg releases the
    GIL), so the two overlap and a page costs about the larger of the two, not their sum.
    """

    def __init__(self, batches: Iterator[T]) -> None:
        self._batches = batches
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="read-ahead", daemon=True)

    def _produce(self) -> None:
        try:
            for batch in self._batches:
                if not self._offer(batch):
                    return
            self._offer(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            self._offer(error)

    def _offer(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        self._thread.start()
        try:
            while (item := self._queue.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._stop.set()
            self._thread.join()


@contextmanager
def rare_collections() -> Iterator[None]:
    """Run the cyclic garbage collector's young generation rarely while a page is written.

    A batch's records stay alive until it is written: with the default threshold (700
    allocations) the collector scanned them over and over and pushed them into full
    collections, about a fifth of the read path's time (bench/read_path.py). Records hold
    no reference cycles; reference counting frees them as each batch is written.
    """
    before = gc.get_threshold()
    gc.set_threshold(RARE_COLLECTIONS, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


RARE_COLLECTIONS = 50_000


def write_records(
    *,
    connection_id: int,
    sobject: str,
    run_id: int | None,
    records: Iterable[ParsedRecord],
    now: datetime,
    batch_size: int = 5000,
    loaded: bool = False,
    lanes: int = 1,
    helper: bool = False,
) -> WriteStats:
    """Upsert ``records`` (an iterator, consumed once) and return what happened. ``loaded``:
    the object's first load is complete, so most records read are already stored. ``lanes``:
    COPY streams a load writes over (_LoadWriter); ``helper``: a load parses a page partly
    in a helper process (SplittablePage)."""
    if db.vendor != "postgresql":
        writer = _OrmWriter(connection_id, sobject, run_id, now)
    elif (table := load_table(connection_id)) is not None:
        # A first load or full resync under way (ingestion/partitions.py).
        writer = _LoadWriter(connection_id, sobject, run_id, now, table, lanes, helper)
    else:
        writer = _PostgresWriter(connection_id, sobject, run_id, now)
        writer.fresh = not loaded
    with rare_collections():
        stats = writer.write(records, batch_size)
    release_free_memory()
    return stats


def _libc(name: str) -> Callable[..., int] | None:
    """A function of glibc, or None where the C library has none (macOS, musl)."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c")), name)
    except (OSError, AttributeError, TypeError):
        return None


_MALLOC_TRIM = _libc("malloc_trim")
_MALLOPT = _libc("mallopt")
M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system once a page is written.

    A page's rows, COPY text and read-ahead buffers are freed when it is written, but glibc
    keeps what it freed for reuse, spread over the heap and the read-ahead thread's arena:
    over a 10M-record load the worker's resident set grew page after page while Python's
    live objects stayed under 70 MB (bench/README.md, "Worker memory at 10M").
    ``malloc_trim(0)`` returns free pages from inside the heap too, in a few milliseconds.
    https://man7.org/linux/man-pages/man3/malloc_trim.3.html
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def limit_malloc_arenas(count: int) -> None:
    """Let glibc give this process's threads at most ``count`` heaps (0: glibc's default,
    eight per core). Call before the run's threads start: an arena, once made, stays.

    Each thread that allocates while another holds the main heap gets an arena of its own
    (the heartbeat, the result-page downloads), and memory freed in one arena is kept there.
    The GIL already serialises most allocation, so sharing one costs nothing measurable: the
    10M read path ran in 294 s either way and peaked at 194 MB with one arena against 237 MB
    with glibc's default (bench/README.md, "Worker memory: one malloc arena").
    https://man7.org/linux/man-pages/man3/mallopt.3.html
    """
    if count > 0 and _MALLOPT is not None:
        _MALLOPT(M_ARENA_MAX, count)


class _OrmWriter:
    """The portable path: bulk upsert through the ORM, batch by batch."""

    UPDATE_FIELDS = [
        "data",
        "facets",
        "system_modstamp",
        "is_deleted",
        "deleted_at",
        "last_seen_at",
        "last_sync_run",
    ]

    def __init__(self, connection_id: int, sobject: str, run_id: int | None, now: datetime):
        self.connection_id, self.sobject, self.run_id, self.now = (
            connection_id,
            sobject,
            run_id,
            now,
        )

    def write(self, records: Iterable[ParsedRecord], batch_size: int) -> WriteStats:
        stats = WriteStats()
        for batch in batches(records, batch_size):
            stats.read += len(batch)
            stats.deleted += sum(1 for r in batch if r.is_deleted)
            stats.written += self._write_batch(batch)
        return stats

    def _stored(self, ids: list[str]) -> dict[str, tuple[datetime, datetime | None]]:
        rows = IngestedRecord.objects.filter(
            connection_id=self.connection_id, sobject=self.sobject, sf_id__in=ids
        ).values_list("sf_id", "system_modstamp", "deleted_at")
        return {sf_id: (modstamp, deleted_at) for sf_id, modstamp, deleted_at in rows}

    def _write_batch(self, batch: list[ParsedRecord]) -> int:
        newest = _newest(batch)
        stored = self._stored([r.sf_id for r in newest])
        rows = [row for r in newest if (row := self._row(r, stored.get(r.sf_id)))]
        IngestedRecord.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["connection", "sobject", "sf_id"],
            update_fields=self.UPDATE_FIELDS,
        )
        return len(rows)

    def _row(self, record: ParsedRecord, stored) -> IngestedRecord | None:
        modstamp = datetime.fromisoformat(record.modstamp)
        if stored and stored[0] > modstamp:
            return None
        deleted_at = None
        if record.is_deleted:
            deleted_at = (stored[1] if stored else None) or self.now
        return IngestedRecord(
            connection_id=self.connection_id,
            sobject=self.sobject,
            sf_id=record.sf_id,
            data=record.data,
            facets=record.facets,
            system_modstamp=modstamp,
            is_deleted=record.is_deleted,
            deleted_at=deleted_at,
            first_seen_at=self.now,
            last_seen_at=self.now,
            last_sync_run_id=self.run_id,
        )


# Not account_sf_id: a generated column, which PostgreSQL computes and refuses to be given.
_COLUMNS = (
    "connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, deleted_at, "
    "first_seen_at, last_seen_at, last_sync_run_id"
)
_STAGE = "ingest_rows"
_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
    connection_id bigint NOT NULL,
    sobject varchar(80) NOT NULL,
    sf_id varchar(18) NOT NULL,
    data jsonb NOT NULL,
    facets jsonb NOT NULL,
    system_modstamp timestamptz NOT NULL,
    is_deleted boolean NOT NULL,
    deleted_at timestamptz,
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    last_sync_run_id bigint
) ON COMMIT DELETE ROWS
"""
# The batch has one row per Id (see _newest): ON CONFLICT cannot touch a row twice in one
# statement, and sorting ~2 KB rows in PostgreSQL (DISTINCT ON) cost more than the upsert.
_UPSERT = f"""
INSERT INTO ingestion_ingestedrecord AS r ({_COLUMNS})
SELECT {_COLUMNS} FROM {_STAGE}
ON CONFLICT (connection_id, sobject, sf_id) DO UPDATE SET
    data = EXCLUDED.data,
    facets = EXCLUDED.facets,
    system_modstamp = EXCLUDED.system_modstamp,
    is_deleted = EXCLUDED.is_deleted,
    deleted_at = CASE WHEN EXCLUDED.is_deleted THEN COALESCE(r.deleted_at, EXCLUDED.deleted_at)
                 END,
    last_seen_at = EXCLUDED.last_seen_at,
    last_sync_run_id = EXCLUDED.last_sync_run_id
WHERE r.system_modstamp <= EXCLUDED.system_modstamp
"""


@dataclass
class Lines:
    """A batch as COPY text-format lines (the _COLUMNS of each record, one line per Id)."""

    read: int
    deleted: int
    rows: int
    text: bytes


# JSON for a COPY text field: orjson escapes every control character, so only the backslash
# is special there (doubled, see LineMaker.lines); it encodes ~2x faster than the json module.
dumps = orjson.dumps


class LineMaker:
    """Turns batches of ParsedRecords into COPY lines for one writer's constants."""

    def __init__(self, connection_id: int, sobject: str, run_id: int | None, now: datetime):
        stamp = now.isoformat().encode()
        self.head = f"{connection_id}\t{sobject}".encode()
        self.alive = b"f\t\\N"
        self.gone = b"t\t" + stamp  # deleted_at: when we first saw it deleted
        run = str(run_id).encode() if run_id is not None else b"\\N"
        self.tail = b"\t".join((stamp, stamp, run))

    def lines(self, batches: Iterator[list[ParsedRecord]]) -> Iterator[Lines]:
        head, alive, gone, tail, tab = self.head, self.alive, self.gone, self.tail, b"\t"
        # Inlined (no call per record, bytes.replace returns the JSON itself when it holds no
        # backslash): this loop runs for every row of a load.
        for batch in batches:
            newest = _newest(batch)
            lines = [
                tab.join(
                    (
                        head,
                        r.sf_id.encode(),
                        dumps(r.data).replace(b"\\", b"\\\\"),
                        dumps(r.facets).replace(b"\\", b"\\\\"),
                        r.modstamp.encode(),
                        gone if r.is_deleted else alive,
                        tail,
                    )
                )
                for r in newest
            ]
            lines.append(b"")  # the last line ends with a newline too
            text = b"\n".join(lines)
            yield Lines(len(batch), sum(1 for r in batch if r.is_deleted), len(newest), text)


class _PostgresWriter(_OrmWriter):
    """Each batch is first COPied straight into the table; if any of its Ids is already stored
    (a unique violation), that is undone and the batch goes through a session-local staging
    table and one INSERT ... ON CONFLICT, as do the page's later batches.

    An initial load writes only new Ids, and the upsert costs twice the direct COPY (PostgreSQL
    15, 80,000 demo records: 1.8 s COPY to stage plus 1.8 s upsert, against 1.4 s for the
    insert). Asking first which Ids exist cost more than the COPY itself on a large table whose
    statistics lag behind its growth. Once an object has loaded, its pages are mostly stored
    Ids, so they start with the upsert: the COPY would insert rows through every index until
    the first stored Id, then be undone (0.8 s of an incremental of 10,000 changes at 10M).
    """

    fresh = True  # no stored Id met yet in this page, nor expected

    def write(self, records: Iterable[ParsedRecord], batch_size: int) -> WriteStats:
        stats = WriteStats()
        maker = LineMaker(self.connection_id, self.sobject, self.run_id, self.now)
        with self._batch_writer() as write_batch:
            # Parsing and encoding run in the read-ahead thread, beside the database.
            for batch in _ReadAhead(self._lines(records, maker, batch_size)):
                stats.read += batch.read
                stats.deleted += batch.deleted
                stats.written += write_batch(batch)
        return stats

    def _lines(self, records: Iterable[ParsedRecord], maker: LineMaker, batch_size: int):
        return maker.lines(batches(records, batch_size))

    @contextmanager
    def _batch_writer(self) -> Iterator[Callable[[Lines], int]]:
        """A function that writes one batch and returns the rows it wrote."""
        with db.cursor() as cursor:
            cursor.execute(_CREATE_STAGE)
            yield lambda batch: self._write_batch_pg(cursor, batch)

    def _write_batch_pg(self, cursor, batch: Lines) -> int:
        if self.fresh:
            try:
                with transaction.atomic():  # a savepoint: a refused COPY leaves no row behind
                    _copy(cursor, "ingestion_ingestedrecord", batch.text)
                    return batch.rows
            except UniqueViolation:
                self.fresh = False
        cursor.execute(f"TRUNCATE {_STAGE}")
        _copy(cursor, _STAGE, batch.text)
        cursor.execute(_UPSERT)
        return cursor.rowcount


class _LoadWriter(_PostgresWriter):
    """Into a load table, which has no index to check: every batch is COPied. An Id read twice
    (it changed between two windows' reads) is stored twice; the older copy is removed when
    the load ends (partitions.load_finish).

    With ``lanes`` above 1 the batches go over that many connections of the writer's own
    (_CopyLanes): one COPY stream is parsed and stored by one PostgreSQL backend, on one core,
    and that backend bounded the load while the worker's parse waited for it (bench/README.md,
    "...over two COPY streams"). The lanes commit the page's rows just before its checkpoint
    commits, so a worker that dies between the two leaves the page stored twice, removed at the
    load's end like any Id read twice; a checkpoint never passes rows that were not stored."""

    def __init__(self, connection_id, sobject, run_id, now, table: str, lanes=1, helper=False):
        super().__init__(connection_id, sobject, run_id, now)
        self.table, self.lanes, self.helper = table, lanes, helper

    def _lines(self, records: Iterable[ParsedRecord], maker: LineMaker, batch_size: int):
        """A page's batches in any order (no index here to care), some parsed in a helper
        process: the worker's one parsing thread bounded loads where a core stood idle."""
        if self.helper and isinstance(records, SplittablePage):
            return records.copy_lines(maker, batch_size)
        return super()._lines(records, maker, batch_size)

    @contextmanager
    def _batch_writer(self) -> Iterator[Callable[[Lines], int]]:
        lanes = _CopyLanes.open(self.table, self.lanes)
        if lanes is None:
            with db.cursor() as cursor:
                yield lambda batch: self._write_batch_pg(cursor, batch)
            return
        with lanes:
            yield lanes.copy
            lanes.commit()

    def _write_batch_pg(self, cursor, batch: Lines) -> int:
        _copy(cursor, self.table, batch.text)
        return batch.rows


class _CopyLanes:
    """COPY streams into one table, each over a connection of its own in a thread, fed a
    batch at a time by whichever is free; ``commit`` waits for every batch and commits them.
    Leaving the block without ``commit`` (an error) rolls every lane back."""

    # A lane never waits forever on a lock: the only one it could meet is an unforeseen
    # conflict with the page's own transaction, which would wait on the lane in turn.
    LOCK_TIMEOUT = "60s"

    def __init__(self, table: str, connections: list) -> None:
        self.table = table
        self._connections = connections
        self._queue: queue.Queue = queue.Queue(maxsize=1)  # little left to wait for at the end
        self._errors: list[BaseException] = []
        self._threads = [
            threading.Thread(target=self._run, args=(c,), name="copy-lane", daemon=True)
            for c in connections
        ]
        try:
            for thread in self._threads:
                thread.start()
        except BaseException:
            self._stop()  # the lanes started, so that none waits for a batch forever
            raise

    @classmethod
    def open(cls, table: str, count: int) -> _CopyLanes | None:
        """``count`` lanes into ``table``; None for one lane, when other sessions cannot see
        the table yet (made in a transaction still open: a test's), or when the database
        refuses more connections (the page's own connection writes it then)."""
        if count < 2:
            return None
        connections = []
        try:
            for _ in range(count):
                connections.append(cls._connect())
            with connections[0].cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
                if cursor.fetchone()[0]:
                    lanes, connections = cls(table, connections), []
                    return lanes
            return None
        except psycopg.OperationalError as error:
            logger.warning("COPY lanes into %s not opened (%s); one stream", table, error)
            return None
        finally:
            for connection in connections:
                connection.close()

    @staticmethod
    def _connect() -> psycopg.Connection:
        """A connection of the lane's own, made as Django makes the page's."""
        return psycopg.connect(**db.get_connection_params())

    def _run(self, connection) -> None:
        try:
            connection.execute(f"SET lock_timeout = '{self.LOCK_TIMEOUT}'")
        except BaseException as error:
            self._errors.append(error)
        while (text := self._queue.get()) is not None:
            if self._errors:
                continue  # drained, so that the writer never waits on a full queue
            try:
                self._write(connection, text)
            except BaseException as error:
                self._errors.append(error)

    def _write(self, connection, text: bytes) -> None:
        with connection.cursor() as cursor, cursor.copy(_copy_statement(self.table)) as copy:
            copy.write(text)

    def copy(self, batch: Lines) -> int:
        self._raise_any()
        self._queue.put(batch.text)
        return batch.rows

    def commit(self) -> None:
        self._stop()
        self._raise_any()
        for connection in self._connections:
            connection.commit()

    def _raise_any(self) -> None:
        if self._errors:
            raise self._errors[0]

    def _stop(self) -> None:
        for thread in self._threads:
            if thread.is_alive():
                self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> _CopyLanes:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._stop()
        finally:
            for connection in self._connections:
                connection.close()  # a transaction not committed is rolled back


def _copy(cursor, table: str, text: bytes) -> None:
    with cursor.cursor.copy(_copy_statement(table)) as copy:
        copy.write(text)


def _copy_statement(table: str) -> str:
    return f"COPY {table} ({_COLUMNS}) FROM STDIN"


def merge_fields(
    *,
    connection_id: int,
    sobject: str,
    values: dict[str, dict[str, Any]],
    facet_fields: frozenset[str] = frozenset(),
) -> int:
    """Set some keys of stored records' data (base64 bodies, refreshed formulas, backfills),
    and of their facets for the keys in ``facet_fields``. A None value clears the key: data
    leaves empty fields out (values.py).

    Only records already stored are touched, and on PostgreSQL only those whose values differ,
    so a daily formula refresh of an unchanged object rewrites nothing.
    """
    if not values:
        return 0
    if db.vendor == "postgresql":
        return _merge_pg(connection_id, sobject, values, facet_fields)
    records = IngestedRecord.objects.filter(
        connection_id=connection_id, sobject=sobject, sf_id__in=list(values)
    ).only("id", "sf_id", "data", "facets")
    changed = []
    for record in records:
        patch = values[record.sf_id]
        merged = _patched(record.data, patch)
        if merged != record.data:
            record.data = merged
            record.facets = _merged_facets(record.facets, patch, facet_fields)
            changed.append(record)
    IngestedRecord.objects.bulk_update(changed, ["data", "facets"], batch_size=1000)
    return len(changed)


def _patched(data: dict, patch: dict) -> dict:
    merged = {**data, **patch}
    for name, value in patch.items():
        if value is None:
            del merged[name]
    return merged


def _merged_facets(facets: dict, patch: dict, facet_fields: frozenset[str]) -> dict:
    kept = {name: value for name, value in facets.items() if name not in patch}
    return kept | {
        name: value for name, value in patch.items() if name in facet_fields and value is not None
    }


_PATCH = "ingest_patch"


def _merge_pg(
    connection_id: int, sobject: str, values: dict[str, dict[str, Any]], facet_fields
) -> int:
    with db.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_PATCH} (sf_id varchar(18), patch jsonb, "
            "cleared text[], facet_patch jsonb, facet_keys text[]) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_PATCH}")
        with cursor.cursor.copy(
            f"COPY {_PATCH} (sf_id, patch, cleared, facet_patch, facet_keys) FROM STDIN"
        ) as copy:
            for sf_id, patch in values.items():
                kept = {name: value for name, value in patch.items() if value is not None}
                cleared = [name for name in patch if name not in kept]
                facet_patch = _merged_facets({}, patch, facet_fields)
                keys = [name for name in patch if name in facet_fields]
                row = (sf_id, json.dumps(kept), cleared, json.dumps(facet_patch), keys)
                copy.write_row(row)
        table = load_table(connection_id) or IngestedRecord._meta.db_table
        cursor.execute(
            f"""UPDATE {table} r
            SET data = (r.data - p.cleared) || p.patch,
                facets = (r.facets - p.facet_keys) || p.facet_patch
            FROM {_PATCH} p
            WHERE r.connection_id = %s AND r.sobject = %s AND r.sf_id = p.sf_id
              AND NOT (r.data @> p.patch AND NOT r.data ?| p.cleared)""",
            [connection_id, sobject],
        )
        return cursor.rowcount


def stage_seen_ids(*, run_id: int, sobject: str, ids: list[str]) -> None:
    """Remember the Ids of one page a reconciliation saw (see ReconcileSeenId).

    On PostgreSQL through COPY: staging every Id through the ORM's INSERTs was most of a
    reconciliation (bench scale part, seed-example: 80 s; 100,000 Ids in 7.7 s against 2.5 s
    by COPY, 10M Ids in about 13 minutes), and it built a model instance per Id.
    """
    if db.vendor != "postgresql":
        ReconcileSeenId.objects.bulk_create(
            [ReconcileSeenId(run_id=run_id, sobject=sobject, sf_id=sf_id) for sf_id in ids],
            batch_size=5000,
        )
        return
    table = ReconcileSeenId._meta.db_table
    with (
        db.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} (run_id, sobject, sf_id) FROM STDIN") as copy,
    ):
        for sf_id in ids:
            copy.write_row((run_id, sobject, sf_id))


def sweep_unseen(
    *, connection_id: int, sobject: str, run_id: int, seen_before: datetime, now: datetime
) -> int:
    """Mark deleted the stored records a reconciliation did not see; return how many.

    Only records first seen before the reconciliation started are judged: one created since may
    simply be newer than the Id job's snapshot.
    """
    if db.vendor == "postgresql":
        # The seen Ids arrived moments ago: without fresh statistics the planner compares
        # every record with every seen Id (minutes instead of a second on the demo org).
        with db.cursor() as cursor:
            cursor.execute(f"ANALYZE {ReconcileSeenId._meta.db_table}")
    seen = ReconcileSeenId.objects.filter(run_id=run_id, sobject=sobject, sf_id=OuterRef("sf_id"))
    missing = IngestedRecord.objects.filter(
        connection_id=connection_id,
        sobject=sobject,
        is_deleted=False,
        first_seen_at__lt=seen_before,
    ).exclude(Exists(seen))
    return missing.update(is_deleted=True, deleted_at=now)


def drop_seen_ids(*, run_id: int) -> None:
    ReconcileSeenId.objects.filter(run_id=run_id).delete()
