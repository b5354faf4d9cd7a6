"""The scheduler's tick: start due syncs, resume paused ones, take over stale ones."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db import connection as db
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from connections.models import Connection
from ingestion.engine.config import EngineConfig
from ingestion.models import DataPurge, SyncRun
from ingestion.services.purge import data_purge_resume_stale
from ingestion.services.runs import (
    BrokerPool,
    hand_to_workers,
    sync_run_resume,
)
from primer_sf.errors import ApplicationError

logger = logging.getLogger(__name__)

# A queued run whose task never started (lost by a broker, a crashed cluster) is handed out
# again after this long; a duplicate delivery is harmless (the lease admits one worker).
LOST_QUEUED_AFTER = timedelta(minutes=15)


def schedule_tick(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the scheduler (a django-q2 schedule runs it every minute).

    It costs the same few queries whatever the number of connections: each step selects its
    rows in one query and writes them in one or two (the broker's enqueue is the only work
    per run; on Redis that is not a database query). ``bench/fleet.py`` times it at 1,000.
    """
    now = now or timezone.now()
    stale_seconds = EngineConfig.from_settings().stale_run_seconds
    return {
        "taken_over": _take_over_stale(now, stale_seconds),
        "resumed": _resume_due(now),
        "started": _start_due(now),
        "purges_resumed": data_purge_resume_stale(now=now, stale_seconds=stale_seconds),
    }


def _take_over_stale(now: datetime, stale_seconds: int) -> int:
    stale = now - timedelta(seconds=stale_seconds)
    with transaction.atomic():
        # A run whose row is locked is in the middle of a commit (a long page being written):
        # its worker is alive, whatever the heartbeat says. A dead worker holds no lock.
        runs = list(
            SyncRun.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=stale)
                | Q(
                    status=SyncRun.Status.QUEUED,
                    heartbeat_at__isnull=True,
                    created_at__lt=now - LOST_QUEUED_AFTER,
                )
                | Q(status=SyncRun.Status.QUEUED, heartbeat_at__lt=now - LOST_QUEUED_AFTER)
            )
            .only("pk", "connection_id", "kind", "heartbeat_at")
        )
        for run in runs:
            logger.warning(
                "run %s looks abandoned (heartbeat %s); resuming it", run.pk, run.heartbeat_at
            )
        return _requeue(runs, from_statuses=[SyncRun.Status.RUNNING, SyncRun.Status.QUEUED])


def _resume_due(now: datetime) -> int:
    runs = SyncRun.objects.filter(
        status=SyncRun.Status.PAUSED,
        resume_at__lte=now,
        connection__status=Connection.Status.ACTIVE,
    ).only("pk", "connection_id", "kind")
    return _requeue(list(runs), from_statuses=[SyncRun.Status.PAUSED])


def _requeue(runs: list[SyncRun], *, from_statuses: list[str]) -> int:
    """Queue ``runs`` again (they continue from their checkpoints) and hand them out."""
    if not runs:
        return 0
    pks = [run.pk for run in runs]
    try:
        with transaction.atomic():
            SyncRun.objects.filter(pk__in=pks, status__in=from_statuses).update(
                status=SyncRun.Status.QUEUED, lease_token="", resume_at=None
            )
    except IntegrityError:
        # Another run of one of these connections was queued meanwhile: one by one, so only
        # that one stays as it is.
        return sum(1 for run in runs if _requeue_one(run))
    transaction.on_commit(lambda: _hand_out(runs))
    return len(runs)


def _requeue_one(run: SyncRun) -> bool:
    try:
        sync_run_resume(run=run)
    except ApplicationError:
        return False
    return True


def _start_due(now: datetime) -> int:
    due = (
        Connection.objects.filter(status=Connection.Status.ACTIVE)
        .filter(Q(next_sync_at__lte=now) | Q(next_sync_at__isnull=True))
        .exclude(pk__in=_busy())
        .values_list("pk", "initial_sync_completed_at")
    )
    incremental, initial = SyncRun.Kind.INCREMENTAL, SyncRun.Kind.INITIAL
    return _queue_new([(pk, incremental if completed else initial) for pk, completed in due])


def _busy() -> QuerySet:
    """Connections with a run under way or paused, or whose data is being deleted."""
    runs = SyncRun.objects.filter(status__in=[*SyncRun.ACTIVE_STATUSES, SyncRun.Status.PAUSED])
    purges = DataPurge.objects.filter(status__in=DataPurge.ACTIVE_STATUSES)
    # Without their default ordering: SQLite refuses ORDER BY inside a UNION's parts.
    return runs.order_by().values("connection_id").union(purges.order_by().values("connection_id"))


def _queue_new(wanted: list[tuple[int, str]]) -> int:
    """Create a scheduled run of each (connection id, kind) and hand them out: three queries
    however many there are."""
    if not wanted:
        return 0
    batch = uuid.uuid4().hex  # marks this call's rows, so one query reads their ids back
    runs = [
        SyncRun(connection_id=pk, kind=kind, trigger=SyncRun.Trigger.SCHEDULE, task_id=batch)
        for pk, kind in wanted
    ]
    # A run queued meanwhile by a customer or another tick wins: the one-active-run
    # constraint turns this call's row for that connection into a no-op.
    SyncRun.objects.bulk_create(runs, ignore_conflicts=True, batch_size=1000)
    created = list(SyncRun.objects.filter(task_id=batch).only("pk", "connection_id", "kind"))
    transaction.on_commit(lambda: _hand_out(created))
    return len(created)


def _hand_out(runs: list[SyncRun]) -> None:
    """Enqueue a slice of each run, then save their task ids in one statement."""
    brokers = BrokerPool()
    for run in runs:
        run.task_id = hand_to_workers(run, record=False, brokers=brokers)
    brokers.flush()
    for start in range(0, len(runs), 1000):
        _save_task_ids(runs[start : start + 1000])


def _save_task_ids(runs: list[SyncRun]) -> None:
    # One UPDATE joined to a VALUES list: bulk_update's CASE of a thousand branches took
    # about half a second to build and run. PostgreSQL and SQLite (>= 3.33) both name the
    # columns of a VALUES list column1, column2.
    table = SyncRun._meta.db_table
    rows = ", ".join(["(%s, %s)"] * len(runs))
    params = [value for run in runs for value in (run.pk, run.task_id)]
    with db.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET task_id = v.column2 FROM (VALUES {rows}) AS v "
            f"WHERE {table}.id = v.column1",
            params,
        )


def reconcile_due(*, now: datetime | None = None) -> int:
    """Queue a reconciliation for idle connections not reconciled in ``RECONCILE_HOURS``.

    One Bulk job of Id plus formula fields per object finds hard deletes and refreshes
    formulas together, and picks up fields that appeared (see ingestion.engine.passes).
    """
    now = now or timezone.now()
    hours = settings.INGESTION.get("RECONCILE_HOURS", 24)
    since = now - timedelta(hours=hours)
    candidates = (
        Connection.objects.filter(
            status=Connection.Status.ACTIVE, initial_sync_completed_at__isnull=False
        )
        .exclude(pk__in=_busy())
        .annotate(
            oldest=Min("cursors__last_reconciled_at"),
            never=Count("cursors", filter=Q(cursors__last_reconciled_at__isnull=True)),
        )
        .filter(Q(oldest__lt=since) | Q(never__gt=0))
        .values_list("pk", flat=True)
    )
    return _queue_new([(pk, SyncRun.Kind.RECONCILE) for pk in candidates])
