"""Receivers of the ingestion signals: refresh ready audiences after each successful sync."""

import logging

from django.dispatch import receiver

from audiences import services
from ingestion.models import SyncRun
from ingestion.signals import initial_sync_completed, sync_run_finished

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
