"""Writing records: idempotent upserts keyed on (connection, object, Id), in batches.

A row with an older SystemModstamp never overwrites a newer one (invariant 4). PostgreSQL
streams the page through COPY into a staging table and upserts it in one statement; other
databases (SQLite) use the ORM's bulk upsert after dropping rows older than what is stored.
Callers wrap a page's write and its checkpoint in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection as db
from django.db.models import Exists, OuterRef

from ingestion.models import IngestedRecord, ReconcileSeenId


@dataclass(frozen=True)
class ParsedRecord:
    """One record ready to store; ``modstamp`` is the stored datetime form (a string)."""

    sf_id: str
    data: dict[str, Any]
    modstamp: str
    is_deleted: bool


@dataclass
class WriteStats:
    read: int = 0
    written: int = 0
    deleted: int = 0

    def add(self, other: WriteStats) -> None:
        self.read += other.read
        self.written += other.written
        self.deleted += other.deleted


def _batches(records: Iterable[ParsedRecord], size: int) -> Iterator[list[ParsedRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def write_records(
    *,
    connection_id: int,
    sobject: str,
    run_id: int | None,
    records: Iterable[ParsedRecord],
    now: datetime,
    batch_size: int = 5000,
) -> WriteStats:
    """Upsert ``records`` (an iterator, consumed once) and return what happened."""
    writer = _PostgresWriter if db.vendor == "postgresql" else _OrmWriter
    return writer(connection_id, sobject, run_id, now).write(records, batch_size)


class _OrmWriter:
    """The portable path: bulk upsert through the ORM, batch by batch."""

    UPDATE_FIELDS = [
        "data",
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
        for batch in _batches(records, batch_size):
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
        newest: dict[str, ParsedRecord] = {}
        for record in batch:
            kept = newest.get(record.sf_id)
            if kept is None or kept.modstamp <= record.modstamp:
                newest[record.sf_id] = record
        stored = self._stored(list(newest))
        rows = [row for r in newest.values() if (row := self._row(r, stored.get(r.sf_id)))]
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
            system_modstamp=modstamp,
            is_deleted=record.is_deleted,
            deleted_at=deleted_at,
            first_seen_at=self.now,
            last_seen_at=self.now,
            last_sync_run_id=self.run_id,
        )


_STAGE = "ingest_stage"
_CREATE_STAGE = f"""
CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (
    sf_id varchar(18) NOT NULL,
    data jsonb NOT NULL,
    system_modstamp timestamptz NOT NULL,
    is_deleted boolean NOT NULL
) ON COMMIT DELETE ROWS
"""
_UPSERT = f"""
INSERT INTO ingestion_ingestedrecord AS r (
    connection_id, sobject, sf_id, data, system_modstamp, is_deleted, deleted_at,
    first_seen_at, last_seen_at, last_sync_run_id)
SELECT DISTINCT ON (s.sf_id)
    %(connection)s, %(sobject)s, s.sf_id, s.data, s.system_modstamp, s.is_deleted,
    CASE WHEN s.is_deleted THEN %(now)s::timestamptz END, %(now)s, %(now)s, %(run)s
FROM {_STAGE} s
ORDER BY s.sf_id, s.system_modstamp DESC
ON CONFLICT (connection_id, sobject, sf_id) DO UPDATE SET
    data = EXCLUDED.data,
    system_modstamp = EXCLUDED.system_modstamp,
    is_deleted = EXCLUDED.is_deleted,
    deleted_at = CASE WHEN EXCLUDED.is_deleted THEN COALESCE(r.deleted_at, EXCLUDED.deleted_at)
                 END,
    last_seen_at = EXCLUDED.last_seen_at,
    last_sync_run_id = EXCLUDED.last_sync_run_id
WHERE r.system_modstamp <= EXCLUDED.system_modstamp
"""


class _PostgresWriter(_OrmWriter):
    """COPY into a session-local staging table, then one INSERT ... ON CONFLICT per batch."""

    def write(self, records: Iterable[ParsedRecord], batch_size: int) -> WriteStats:
        stats = WriteStats()
        with db.cursor() as cursor:
            cursor.execute(_CREATE_STAGE)
            for batch in _batches(records, batch_size):
                stats.read += len(batch)
                stats.deleted += sum(1 for r in batch if r.is_deleted)
                stats.written += self._write_batch_pg(cursor, batch)
        return stats

    def _write_batch_pg(self, cursor, batch: list[ParsedRecord]) -> int:
        cursor.execute(f"TRUNCATE {_STAGE}")
        dumps = json.dumps
        with cursor.cursor.copy(
            f"COPY {_STAGE} (sf_id, data, system_modstamp, is_deleted) FROM STDIN"
        ) as copy:
            for r in batch:
                copy.write_row((r.sf_id, dumps(r.data), r.modstamp, r.is_deleted))
        cursor.execute(
            _UPSERT,
            {
                "connection": self.connection_id,
                "sobject": self.sobject,
                "now": self.now,
                "run": self.run_id,
            },
        )
        return cursor.rowcount


def merge_fields(*, connection_id: int, sobject: str, values: dict[str, dict[str, Any]]) -> int:
    """Set some keys of stored records' data (base64 bodies, refreshed formulas, backfills).

    Only records already stored are touched, and on PostgreSQL only those whose values differ,
    so a daily formula refresh of an unchanged object rewrites nothing.
    """
    if not values:
        return 0
    if db.vendor == "postgresql":
        return _merge_pg(connection_id, sobject, values)
    records = IngestedRecord.objects.filter(
        connection_id=connection_id, sobject=sobject, sf_id__in=list(values)
    ).only("id", "sf_id", "data")
    changed = []
    for record in records:
        merged = {**record.data, **values[record.sf_id]}
        if merged != record.data:
            record.data = merged
            changed.append(record)
    IngestedRecord.objects.bulk_update(changed, ["data"], batch_size=1000)
    return len(changed)


_PATCH = "ingest_patch"


def _merge_pg(connection_id: int, sobject: str, values: dict[str, dict[str, Any]]) -> int:
    with db.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_PATCH} (sf_id varchar(18), patch jsonb) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_PATCH}")
        with cursor.cursor.copy(f"COPY {_PATCH} (sf_id, patch) FROM STDIN") as copy:
            for sf_id, patch in values.items():
                copy.write_row((sf_id, json.dumps(patch)))
        cursor.execute(
            f"""UPDATE ingestion_ingestedrecord r SET data = r.data || p.patch
            FROM {_PATCH} p
            WHERE r.connection_id = %s AND r.sobject = %s AND r.sf_id = p.sf_id
              AND NOT (r.data @> p.patch)""",
            [connection_id, sobject],
        )
        return cursor.rowcount


def stage_seen_ids(*, run_id: int, sobject: str, ids: list[str]) -> None:
    """Remember Ids a reconciliation saw (see ReconcileSeenId)."""
    ReconcileSeenId.objects.bulk_create(
        [ReconcileSeenId(run_id=run_id, sobject=sobject, sf_id=sf_id) for sf_id in ids],
        batch_size=5000,
    )


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
