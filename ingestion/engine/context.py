"""One slice's hold on a sync run: the lease, the counters, and lease-checked commits."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from connections.salesforce.types import CallRecord
from ingestion.engine.config import EngineConfig
from ingestion.engine.errors import LeaseLost
from ingestion.engine.records import WriteStats
from ingestion.models import SyncRun

T = TypeVar("T")

_RUN_FIELDS = [
    "records_read",
    "records_written",
    "records_deleted",
    "api_calls",
    "api_calls_by_kind",
    "bulk_jobs",
    "retries",
    "object_stats",
    "heartbeat_at",
]


class RunContext:
    """What every step of a slice shares. Only the lease holder may write the run's rows."""

    def __init__(self, *, run: SyncRun, config: EngineConfig, lease_token: str, client=None):
        self.run = run
        self.connection = run.connection
        self.config = config
        self.lease_token = lease_token
        self.client = client
        self.on_progress: Callable[[SyncRun], None] | None = None
        self._calls: Counter[str] = Counter()
        self._stats: dict[str, WriteStats] = {}
        self._jobs = 0
        self._retries_seen = 0
        self._last_flush = time.monotonic()

    # -- counting ---------------------------------------------------------------------------
    def record_call(self, call: CallRecord) -> None:
        """The usage recorder handed to the client: every call counted against the org."""
        if call.counts_against_limit:
            self._calls[call.kind] += 1

    def count_write(self, sobject: str, stats: WriteStats) -> None:
        self._stats.setdefault(sobject, WriteStats()).add(stats)

    def count_job(self) -> None:
        self._jobs += 1

    def object_stats(self, sobject: str) -> dict[str, Any]:
        return self.run.object_stats.setdefault(sobject, {"status": "pending"})

    # -- committing -------------------------------------------------------------------------
    def commit(self, work: Callable[[], T]) -> T:
        """Run ``work`` in one transaction with the run's counters, if we still hold the lease.

        The run row is locked for the transaction, so a takeover by another worker waits for
        it; a cancelled run or a lost lease rolls the work back.
        """
        with transaction.atomic():
            locked = SyncRun.objects.select_for_update().only("status", "lease_token")
            row = locked.get(pk=self.run.pk)
            if row.status != SyncRun.Status.RUNNING or row.lease_token != self.lease_token:
                raise LeaseLost(f"run {self.run.pk} is {row.status} / lease changed")
            result = work()
            self._flush()
        if self.on_progress:
            self.on_progress(self.run)
        return result

    def heartbeat(self, force: bool = False) -> None:
        """Keep the lease alive while waiting (throttled)."""
        if force or time.monotonic() - self._last_flush >= self.config.heartbeat_seconds:
            self.commit(lambda: None)

    def _flush(self) -> None:
        run = self.run
        for kind, n in self._calls.items():
            run.api_calls += n
            run.api_calls_by_kind[kind] = run.api_calls_by_kind.get(kind, 0) + n
        self._calls.clear()
        for sobject, stats in self._stats.items():
            run.records_read += stats.read
            run.records_written += stats.written
            run.records_deleted += stats.deleted
            entry = self.object_stats(sobject)
            for key in ("read", "written", "deleted"):
                entry[f"records_{key}"] = entry.get(f"records_{key}", 0) + getattr(stats, key)
        self._stats.clear()
        run.bulk_jobs += self._jobs
        self._jobs = 0
        retries = getattr(self.client, "retries", 0) or 0
        run.retries += retries - self._retries_seen
        self._retries_seen = retries
        run.heartbeat_at = timezone.now()
        run.save(update_fields=_RUN_FIELDS)
        self._last_flush = time.monotonic()
