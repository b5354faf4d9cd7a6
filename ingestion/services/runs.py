"""Creating, enqueueing, pausing, resuming and finishing sync runs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis
from django_q.tasks import async_task

from connections.models import Connection
from ingestion.engine.records import drop_seen_ids
from ingestion.models import DataPurge, SyncRun
from ingestion.signals import sync_run_finished
from primer_sf.errors import ApplicationError

logger = logging.getLogger(__name__)


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


# Long Bulk work: whole-object reads (initial loads, reloads) and reconciliations (every Id).
LOAD_KINDS = (
    SyncRun.Kind.INITIAL,
    SyncRun.Kind.FULL_RESYNC,
    SyncRun.Kind.OBJECT_RESYNC,
    SyncRun.Kind.RECONCILE,
)


def loads_queue() -> str | None:
    """The django-q2 queue ("cluster") of long Bulk work, when one is configured."""
    return settings.INGESTION_LOADS_QUEUE or None


def queue_for(kind: str) -> str | None:
    """Where a run of ``kind`` is queued: long Bulk work on the loads queue when one is named,
    so it never holds up other connections' incremental syncs; else the default queue."""
    return loads_queue() if kind in LOAD_KINDS else None


class BrokerPool:
    """Brokers for enqueueing many tasks at once: one per queue (``async_task`` otherwise
    opens a new connection per task, ~3 ms on Redis), and on Redis every push goes into one
    pipeline, sent by ``flush`` in one round trip instead of one per task."""

    def __init__(self) -> None:
        self._brokers: dict[str | None, object] = {}

    def get(self, queue: str | None):
        if queue not in self._brokers:
            broker = get_broker(queue)
            self._brokers[queue] = _Pipelined(broker) if isinstance(broker, Redis) else broker
        return self._brokers[queue]

    def flush(self) -> None:
        for broker in self._brokers.values():
            if isinstance(broker, _Pipelined):
                broker.pipeline.execute()


class _Pipelined:
    """What ``async_task`` needs of a broker (``enqueue``, ``list_key``), pushing into a Redis
    pipeline the way django-q2's Redis broker pushes (RPUSH onto its list)."""

    def __init__(self, broker: Redis) -> None:
        self.list_key = broker.list_key
        self.pipeline = broker.connection.pipeline(transaction=False)

    def enqueue(self, task) -> str:
        self.pipeline.rpush(self.list_key, task)
        return "pipelined"


def hand_to_workers(run: SyncRun, *, record: bool = True, brokers: BrokerPool | None = None) -> str:
    """Enqueue one slice of ``run`` on django-q2; its task id (saved unless ``record`` is off,
    for callers that hand out many at once with a ``BrokerPool``, then flush it)."""
    queue = queue_for(run.kind)
    options = {"broker": brokers.get(queue)} if brokers is not None else {}
    task_id = (
        async_task(
            "ingestion.tasks.sync_run_execute",
            run.pk,
            task_name=f"sync-{run.connection_id}-{run.pk}-{timezone.now():%H%M%S%f}",
            group=f"connection-{run.connection_id}",
            cluster=queue,
            **options,
        )
        or ""
    )[:64]
    if record:
        SyncRun.objects.filter(pk=run.pk).update(task_id=task_id)
    return task_id


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
