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

from ingestion.models import IngestedRecord


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
    """Set some keys of stored records' data (base64 bodies, refreshed formulas, backfills)."""
    records = IngestedRecord.objects.filter(
        connection_id=connection_id, sobject=sobject, sf_id__in=list(values)
    ).only("id", "sf_id", "data")
    changed = []
    for record in records:
        record.data = {**record.data, **values[record.sf_id]}
        changed.append(record)
    IngestedRecord.objects.bulk_update(changed, ["data"], batch_size=1000)
    return len(changed)
