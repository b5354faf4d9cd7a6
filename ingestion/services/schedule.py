"""The scheduler's tick: start due syncs, resume paused ones, take over stale ones."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from connections.models import Connection
from ingestion.engine.config import EngineConfig
from ingestion.models import DataPurge, SyncRun
from ingestion.services.purge import data_purge_resume_stale
from ingestion.services.runs import ApplicationError, sync_run_enqueue, sync_run_resume

logger = logging.getLogger(__name__)

# A queued run whose task never started (lost by a broker, a crashed cluster) is handed out
# again after this long; a duplicate delivery is harmless (the lease admits one worker).
LOST_QUEUED_AFTER = timedelta(minutes=15)


def schedule_tick(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the scheduler (a django-q2 schedule runs it every minute)."""
    now = now or timezone.now()
    stale_seconds = EngineConfig.from_settings().stale_run_seconds
    return {
        "taken_over": _take_over_stale(now),
        "resumed": _resume_due(now),
        "started": _start_due(now),
        "purges_resumed": data_purge_resume_stale(now=now, stale_seconds=stale_seconds),
    }


def _take_over_stale(now: datetime) -> int:
    stale = now - timedelta(seconds=EngineConfig.from_settings().stale_run_seconds)
    runs = SyncRun.objects.filter(
        Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=stale)
        | Q(
            status=SyncRun.Status.QUEUED,
            heartbeat_at__isnull=True,
            created_at__lt=now - LOST_QUEUED_AFTER,
        )
        | Q(status=SyncRun.Status.QUEUED, heartbeat_at__lt=now - LOST_QUEUED_AFTER)
    ).select_related("connection")
    for run in runs:
        logger.warning(
            "run %s looks abandoned (heartbeat %s); resuming it", run.pk, run.heartbeat_at
        )
        sync_run_resume(run=run)
    return len(runs)


def _resume_due(now: datetime) -> int:
    runs = SyncRun.objects.filter(
        status=SyncRun.Status.PAUSED,
        resume_at__lte=now,
        connection__status=Connection.Status.ACTIVE,
    ).select_related("connection")
    for run in runs:
        sync_run_resume(run=run)
    return len(runs)


def _start_due(now: datetime) -> int:
    busy = SyncRun.objects.filter(
        status__in=[*SyncRun.ACTIVE_STATUSES, SyncRun.Status.PAUSED]
    ).values("connection_id")
    purging = DataPurge.objects.filter(status__in=DataPurge.ACTIVE_STATUSES).values("connection_id")
    due = (
        Connection.objects.filter(status=Connection.Status.ACTIVE)
        .filter(Q(next_sync_at__lte=now) | Q(next_sync_at__isnull=True))
        .exclude(pk__in=busy)
        .exclude(pk__in=purging)
    )
    started = 0
    for connection in due:
        kind = (
            SyncRun.Kind.INCREMENTAL if connection.initial_sync_complete else SyncRun.Kind.INITIAL
        )
        try:
            sync_run_enqueue(connection=connection, kind=kind, trigger=SyncRun.Trigger.SCHEDULE)
            started += 1
        except ApplicationError as error:
            logger.info("not starting a sync of %s: %s", connection, error.message)
    return started


def reconcile_due(*, now: datetime | None = None) -> int:
    """Queue a reconciliation for idle connections not reconciled in ``RECONCILE_HOURS``.

    One Bulk job of Id plus formula fields per object finds hard deletes and refreshes
    formulas together, and picks up fields that appeared (see ingestion.engine.passes).
    """
    now = now or timezone.now()
    hours = settings.INGESTION.get("RECONCILE_HOURS", 24)
    since = now - timedelta(hours=hours)
    busy = SyncRun.objects.filter(
        status__in=[*SyncRun.ACTIVE_STATUSES, SyncRun.Status.PAUSED]
    ).values("connection_id")
    candidates = (
        Connection.objects.filter(
            status=Connection.Status.ACTIVE, initial_sync_completed_at__isnull=False
        )
        .exclude(pk__in=busy)
        .annotate(
            oldest=Min("cursors__last_reconciled_at"),
            never=Count("cursors", filter=Q(cursors__last_reconciled_at__isnull=True)),
        )
        .filter(Q(oldest__lt=since) | Q(never__gt=0))
    )
    queued = 0
    for connection in candidates:
        try:
            sync_run_enqueue(
                connection=connection, kind=SyncRun.Kind.RECONCILE, trigger=SyncRun.Trigger.SCHEDULE
            )
            queued += 1
        except ApplicationError as error:
            logger.info("not reconciling %s: %s", connection, error.message)
    return queued
