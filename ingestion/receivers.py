"""Receivers of the connections signals: a connection's syncs start when it is authorized and
stop when it is disconnected (connections announces both; it imports nothing of ingestion)."""

from django.dispatch import receiver
from django.utils import timezone

from connections.models import Connection
from connections.signals import connection_authorized, connection_disconnected
from ingestion.models import SyncRun
from ingestion.services import runs
from ingestion.services.purge import data_purge_request
from primer_sf.errors import ApplicationError


@receiver(connection_authorized, dispatch_uid="ingestion.enqueue_first_sync")
def enqueue_first_sync(sender, connection: Connection, **kwargs) -> str | None:
    """Queue the initial load (or, once an initial load has completed, an incremental
    catch-up); the notice for the customer if it cannot be queued."""
    kind = SyncRun.Kind.INCREMENTAL if connection.initial_sync_complete else SyncRun.Kind.INITIAL
    try:
        runs.sync_run_enqueue(connection=connection, kind=kind, trigger=SyncRun.Trigger.CUSTOMER)
    except ApplicationError as error:
        return error.message
    return None


@receiver(connection_disconnected, dispatch_uid="ingestion.stop_syncs")
def stop_syncs(sender, connection: Connection, delete_data: bool, **kwargs) -> None:
    """Cancel the runs that have not started; with ``delete_data``, also stop the running ones,
    forget the cursors and queue the deletion of the records in batches (``services.purge``).
    Runs in the disconnect's transaction."""
    SyncRun.objects.filter(connection=connection, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.CANCELLED,
        finished_at=timezone.now(),
        error_code="connection_disconnected",
        error_message="The connection was disconnected before this run started.",
    )
    if delete_data:
        data_purge_request(connection=connection)
