"""Resetting cursors (how a resync starts), and a sync on request from a page or the admin."""

from __future__ import annotations

from django.db import transaction

from connections.models import Connection
from ingestion.models import ObjectCursor, SyncRun
from ingestion.partitions import load_begin
from ingestion.services import runs
from ingestion.services.runs import sync_run_cancel, sync_run_enqueue
from primer_sf.errors import ApplicationError


def cursor_reset(*, connection: Connection, sobjects: list[str] | None = None) -> int:
    """Forget where ingestion of these objects stands; the next run reloads them in full.

    Ingested records stay: the reload upserts over them (or, for a whole connection on
    PostgreSQL, replaces them once complete: ingestion/partitions.py). The plan stays too, so
    the next run can tell which fields appeared or disappeared.
    """
    cursors = ObjectCursor.objects.filter(connection=connection)
    if sobjects:
        cursors = cursors.filter(sobject__in=sobjects)
    return cursors.update(
        watermark=None,
        initial_load_complete=False,
        initial_load_completed_at=None,
        window_start=None,
        window_end=None,
        job_id="",
        job_created_at=None,
        locator="",
        pending_windows=[],
        estimated_total=None,
        records_ingested=0,
        phase=ObjectCursor.Phase.ROWS,
        job_complete=False,
        job_failures=0,
        pass_in_flight=None,
        job_pace=None,
        backfill_fields=[],
        last_error="",
    )


@transaction.atomic
def connection_resync(
    *, connection: Connection, trigger: str, sobjects: list[str] | None = None, full: bool = False
) -> SyncRun:
    """Reset cursors (all, or some objects) and queue a run that reloads them."""
    unknown = sorted(set(sobjects or ()) - set(connection.enabled_objects))
    if unknown:
        raise ApplicationError(f"Not enabled on {connection}: {', '.join(unknown)}.")
    if connection.sync_runs.filter(status__in=SyncRun.ACTIVE_STATUSES).exists():
        raise ApplicationError(f"{connection} has a sync in flight; wait for it or cancel it.")
    for paused in connection.sync_runs.filter(status=SyncRun.Status.PAUSED):
        sync_run_cancel(run=paused, reason="Replaced by a resync.")
    whole = full or not sobjects
    cursor_reset(connection=connection, sobjects=None if whole else sobjects)
    if whole:
        # The reload goes to a table of its own; audiences read the current copy until the
        # new one is complete (PostgreSQL, ingestion/partitions.py).
        load_begin(connection=connection, fresh=True)
    kind = SyncRun.Kind.FULL_RESYNC if whole else SyncRun.Kind.OBJECT_RESYNC
    return sync_run_enqueue(
        connection=connection, kind=kind, trigger=trigger, sobjects=None if whole else sobjects
    )


def connection_sync_now(*, connection: Connection, kind: str, trigger: str) -> SyncRun:
    """Queue a sync of ``kind`` now; ``ApplicationError`` (worded for a person) if refused.

    A full resync first resets every cursor, so the run reloads each object in full.
    """
    if kind == SyncRun.Kind.FULL_RESYNC:
        return connection_resync(connection=connection, trigger=trigger, full=True)
    return runs.sync_run_enqueue(connection=connection, kind=kind, trigger=trigger)
