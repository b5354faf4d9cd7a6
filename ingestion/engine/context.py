"""One slice's hold on a sync run: the lease, the counters, and lease-checked commits."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DatabaseError, transaction
from django.db import connection as db
from django.db.models import F
from django.utils import timezone

from ingestion.engine.config import EngineConfig
from ingestion.engine.errors import LeaseLost
from ingestion.engine.records import WriteStats
from ingestion.models import SyncRun

logger = logging.getLogger(__name__)

T = TypeVar("T")

# api_calls and api_calls_by_kind are not here: count_call writes them as each call is made.
_RUN_FIELDS = [
    "records_read",
    "records_written",
    "records_deleted",
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
        self._stats: dict[str, WriteStats] = {}
        self._jobs = 0
        self._retries_seen = 0
        self._last_flush = time.monotonic()
        self._beating = threading.Event()
        self._beater: threading.Thread | None = None

    # -- counting ---------------------------------------------------------------------------
    def count_call(self, kind: str) -> None:
        """Handed to the client (``on_call``): a call counted against the org is being made.

        Written to the run at once, in its own small transaction, so the run's figure is exact
        even if this worker dies the next moment or another takes the run over (the calls a
        worker made stay the run's calls whoever holds the lease).
        """
        with transaction.atomic():
            row = SyncRun.objects.select_for_update().only("api_calls_by_kind").get(pk=self.run.pk)
            by_kind = row.api_calls_by_kind or {}
            by_kind[kind] = by_kind.get(kind, 0) + 1
            SyncRun.objects.filter(pk=self.run.pk).update(
                api_calls=F("api_calls") + 1, api_calls_by_kind=by_kind
            )
        self.run.api_calls += 1
        self.run.api_calls_by_kind = by_kind

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

    # -- liveness ---------------------------------------------------------------------------
    def start_heartbeat(self) -> None:
        """Beat from a thread while the slice works, so a long read (one Bulk page can take
        minutes) never looks like a dead worker; the beats stop with the slice or the lease."""
        interval = self._beat_interval()
        if interval is None:
            return
        self._beating.clear()
        self._beater = threading.Thread(
            target=self._beat, args=(interval,), name=f"heartbeat-run-{self.run.pk}", daemon=True
        )
        self._beater.start()

    def stop_heartbeat(self) -> None:
        if self._beater is not None:
            self._beating.set()
            self._beater.join()
            self._beater = None

    def _beat_interval(self) -> float | None:
        if self.config.heartbeat_seconds <= 0:
            return None
        if db.vendor == "sqlite" and db.is_in_memory_db():
            return None  # the test database: a second connection would only see locks
        # Three beats within the stale threshold, however the two are configured.
        return min(self.config.heartbeat_seconds, self.config.stale_run_seconds / 3)

    def _beat(self, interval: float) -> None:
        try:
            while not self._beating.wait(interval) and self._beat_once():
                pass
        except DatabaseError:
            logger.warning("run %s: heartbeat failed", self.run.pk, exc_info=True)
        finally:
            db.close()  # this thread's own connection

    def _beat_once(self) -> bool:
        """Refresh the heartbeat; False once the lease is gone. A row locked by a commit is
        skipped, never waited for (that commit writes the heartbeat itself, and this thread
        must stay joinable)."""
        mine = SyncRun.objects.filter(
            pk=self.run.pk, lease_token=self.lease_token, status=SyncRun.Status.RUNNING
        )
        with transaction.atomic():
            if mine.select_for_update(skip_locked=True).exists():
                mine.update(heartbeat_at=timezone.now())
                return True
        return mine.exists()

    def _flush(self) -> None:
        run = self.run
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
