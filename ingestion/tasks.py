"""Queue entry points. Ids in, one service call, a small summary out."""

from ingestion.services import purge, schedule, sync


def sync_run_execute(run_id: int) -> dict:
    """Work on a sync run for one bounded slice; the service enqueues the continuation."""
    return sync.sync_run_execute(run_id=run_id)


def scheduler_tick() -> dict:
    """Start due syncs, resume paused ones, take over stale ones."""
    return schedule.schedule_tick()


def reconcile_due() -> int:
    """Queue the daily reconciliation (hard deletes, formula fields, new fields) where due."""
    return schedule.reconcile_due()


def data_purge_execute(purge_id: int) -> dict:
    """Delete a disconnected connection's records for one bounded slice; the service enqueues
    the continuation."""
    return purge.data_purge_execute(purge_id=purge_id)
