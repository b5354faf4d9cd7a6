"""Creating and enqueueing sync runs."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django_q.tasks import async_task

from connections.models import Connection
from ingestion.models import SyncRun

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """An illegal request (e.g. a sync of a disconnected connection), worded for a person."""

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


SYNCABLE_STATUSES = (Connection.Status.ACTIVE, Connection.Status.PAUSED)


def sync_run_enqueue(
    *,
    connection: Connection,
    kind: str,
    trigger: str,
    sobjects: list[str] | None = None,
) -> SyncRun:
    """Create a queued run and hand it to the workers once the transaction commits.

    Refused (``ApplicationError``) when the connection cannot sync or already has a run in
    flight: the database allows one queued-or-running run per connection.
    """
    if connection.status not in SYNCABLE_STATUSES:
        raise ApplicationError(
            f"{connection} cannot sync while it is {connection.get_status_display().lower()}."
        )
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                connection=connection, kind=kind, trigger=trigger, sobjects=sobjects or []
            )
    except IntegrityError:
        raise ApplicationError(f"{connection} already has a sync queued or running.") from None
    transaction.on_commit(lambda: _hand_to_workers(run))
    return run


def _hand_to_workers(run: SyncRun) -> None:
    task_id = async_task(
        "ingestion.tasks.sync_run_execute",
        run.pk,
        task_name=f"sync-{run.connection_id}-{run.pk}",
        group=f"connection-{run.connection_id}",
    )
    SyncRun.objects.filter(pk=run.pk).update(task_id=task_id or "")
