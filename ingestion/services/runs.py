"""Creating, enqueueing, pausing, resuming and finishing sync runs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from connections.models import Connection
from ingestion.engine.records import drop_seen_ids
from ingestion.models import DataPurge, SyncRun
from ingestion.signals import sync_run_finished

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """An illegal request (e.g. a sync of a disconnected connection), worded for a person."""

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


def sync_run_enqueue(
    *,
    connection: Connection,
    kind: str,
    trigger: str,
    sobjects: list[str] | None = None,
) -> SyncRun:
    """Queue a run and hand it to the workers once the transaction commits.

    A run paused earlier (API budget, reconnect needed) is resumed instead of starting a new
    one: it continues from its checkpoint. Refused (``ApplicationError``) when the connection
    cannot sync or a run is already queued or running (the database allows one).
    """
    if connection.status != Connection.Status.ACTIVE:
        raise ApplicationError(
            f"{connection} cannot sync while it is {connection.get_status_display().lower()}."
        )
    if connection.purges.filter(status__in=DataPurge.ACTIVE_STATUSES).exists():
        raise ApplicationError(
            f"The earlier data of {connection} is still being deleted; syncing starts once "
            "that is done."
        )
    paused = connection.sync_runs.filter(status=SyncRun.Status.PAUSED).first()
    if paused is not None:
        return sync_run_resume(run=paused)
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                connection=connection, kind=kind, trigger=trigger, sobjects=sobjects or []
            )
    except IntegrityError:
        raise ApplicationError(f"{connection} already has a sync queued or running.") from None
    transaction.on_commit(lambda: hand_to_workers(run))
    return run


def sync_run_resume(*, run: SyncRun) -> SyncRun:
    """Queue a paused (or stale running) run again; it continues from its checkpoint."""
    try:
        with transaction.atomic():
            updated = SyncRun.objects.filter(
                pk=run.pk, status__in=[SyncRun.Status.PAUSED, SyncRun.Status.RUNNING]
            ).update(status=SyncRun.Status.QUEUED, lease_token="", resume_at=None)
    except IntegrityError:
        raise ApplicationError(f"{run.connection} already has a sync queued or running.") from None
    if updated:
        transaction.on_commit(lambda: hand_to_workers(run))
    run.refresh_from_db()
    return run


def hand_to_workers(run: SyncRun) -> None:
    """Enqueue one slice of ``run`` on django-q2."""
    task_id = async_task(
        "ingestion.tasks.sync_run_execute",
        run.pk,
        task_name=f"sync-{run.connection_id}-{run.pk}-{timezone.now():%H%M%S%f}",
        group=f"connection-{run.connection_id}",
    )
    SyncRun.objects.filter(pk=run.pk).update(task_id=(task_id or "")[:64])


def sync_run_pause(*, run: SyncRun, code: str, message: str, resume_at: datetime | None) -> None:
    """Stop at the checkpoint; the scheduler resumes at ``resume_at`` (None: on reconnect)."""
    run.status = SyncRun.Status.PAUSED
    run.error_code, run.error_message, run.resume_at = code, message, resume_at
    run.lease_token = ""
    run.save(update_fields=["status", "error_code", "error_message", "resume_at", "lease_token"])
    transaction.on_commit(lambda: sync_run_finished.send(sender=SyncRun, run=run))


def sync_run_finish(*, run: SyncRun, status: str, code: str = "", message: str = "") -> None:
    """Record a final status, schedule the next incremental sync and tell listeners."""
    now = timezone.now()
    run.status, run.finished_at = status, now
    run.error_code, run.error_message = code, message
    run.lease_token = ""
    run.save(update_fields=["status", "finished_at", "error_code", "error_message", "lease_token"])
    drop_seen_ids(run_id=run.pk)
    interval = timedelta(minutes=run.connection.sync_interval_minutes)
    Connection.objects.filter(pk=run.connection_id).update(next_sync_at=now + interval)
    transaction.on_commit(lambda: sync_run_finished.send(sender=SyncRun, run=run))


def sync_run_cancel(*, run: SyncRun, reason: str = "Cancelled by ops.") -> bool:
    """Cancel a queued, running or paused run; a worker on it stops at its next commit."""
    updated = SyncRun.objects.filter(
        pk=run.pk, status__in=[*SyncRun.ACTIVE_STATUSES, SyncRun.Status.PAUSED]
    ).update(
        status=SyncRun.Status.CANCELLED,
        finished_at=timezone.now(),
        error_code="cancelled",
        error_message=reason,
        lease_token="",
    )
    drop_seen_ids(run_id=run.pk)
    return bool(updated)
