"""Receivers of the ingestion signals: refresh ready audiences after each successful sync, and
let go of records being deleted."""

import logging

from django.db import router
from django.dispatch import receiver

from audiences import services
from audiences.models import AudienceMember, CsvRowMatch
from ingestion.models import SyncRun
from ingestion.signals import (
    initial_sync_completed,
    records_deleting,
    records_dropping,
    sync_run_finished,
)

logger = logging.getLogger(__name__)

REFRESH_AFTER = (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)


@receiver(sync_run_finished, dispatch_uid="audiences.refresh_after_sync")
def refresh_after_sync(sender, run: SyncRun, **kwargs) -> None:
    """Re-evaluate the connection's ready audiences after a run that brought data in.

    A partial run still committed what it read; a failed or paused one may have left objects
    half-updated, and the next good run refreshes anyway.
    """
    if run.status not in REFRESH_AFTER:
        return
    count = services.audience_refresh_enqueue(connection=run.connection, sync_run_id=run.pk)
    logger.info("Queued refresh of %d audiences after sync run %s", count, run.pk)


@receiver(initial_sync_completed, dispatch_uid="audiences.refresh_after_initial_sync")
def refresh_after_initial_sync(sender, connection, **kwargs) -> None:
    """CSV-only audiences built during the initial load now match against the whole org."""
    services.audience_refresh_enqueue(connection=connection, sync_run_id=None)


@receiver(records_deleting, dispatch_uid="audiences.forget_deleted_records")
def forget_deleted_records(sender, connection_id: int, record_ids: list[int], **kwargs) -> None:
    """Drop audience members and CSV matches of a batch of records about to be deleted, in the
    same transaction (what the ORM cascade did, without loading a row)."""
    for model in (AudienceMember, CsvRowMatch):
        rows = model.objects.filter(record_id__in=record_ids)
        rows._raw_delete(router.db_for_write(model))


@receiver(records_dropping, dispatch_uid="audiences.forget_dropped_records")
def forget_dropped_records(sender, connection_id: int, **kwargs) -> None:
    """Drop the audience members and CSV matches of a connection whose records all go: an
    audience's members are records of its own connection."""
    members = AudienceMember.objects.filter(audience__connection_id=connection_id)
    members._raw_delete(router.db_for_write(AudienceMember))
    matches = CsvRowMatch.objects.filter(connection_id=connection_id)
    matches._raw_delete(router.db_for_write(CsvRowMatch))
