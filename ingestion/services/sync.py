"""Executing sync runs: one bounded slice per task, continued until every object is done."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import connection as db
from django.db import transaction
from django.utils import timezone

from connections.models import Connection
from connections.services import connection_mark_auth_failure, salesforce_client_for
from connections.services.preflight import connection_note_unreadable
from connections.services.visibility import connection_check_field_visibility
from ingestion.engine.config import EngineConfig
from ingestion.engine.context import RunContext
from ingestion.engine.errors import LeaseLost, RunPaused
from ingestion.engine.records import limit_malloc_arenas
from ingestion.engine.runner import DONE, UNREADABLE, SliceRunner
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from ingestion.partitions import load_begin, load_finish, partition_of
from ingestion.services.runs import hand_to_workers, sync_run_finish, sync_run_pause
from ingestion.signals import initial_sync_completed

logger = logging.getLogger(__name__)

Progress = Callable[[SyncRun], None]


def sync_run_execute(
    *,
    run_id: int,
    inline: bool = False,
    on_progress: Progress | None = None,
    config: EngineConfig | None = None,
) -> dict:
    """Work on a run for one slice. Queued work continues in a new task, or in this process
    when ``inline`` (management commands with --wait, the demo, the benchmark)."""
    config = config or EngineConfig.from_settings()
    limit_malloc_arenas(config.malloc_arenas)  # before the slice's threads make arenas
    while True:
        outcome = _execute_slice(run_id, config, on_progress)
        if not (inline and outcome["status"] == "continue"):
            return outcome


def _execute_slice(run_id: int, config: EngineConfig, on_progress: Progress | None) -> dict:
    lease = _acquire(run_id, config)
    if lease is None:
        return {"run": run_id, "status": "skipped"}
    ctx = RunContext(run=lease[0], config=config, lease_token=lease[1])
    ctx.on_progress = on_progress
    ctx.start_heartbeat()
    # One set of handlers for the slice and the run's end: a final commit that fails marks
    # the run failed then and there, rather than leaving it looking alive until taken over.
    try:
        return _slice(ctx)
    except RunPaused as pause:
        _pause(ctx, pause)
        return {"run": run_id, "status": "paused", "code": pause.code}
    except LeaseLost:
        logger.info("run %s: lease lost or cancelled; stopping", run_id)
        return {"run": run_id, "status": "stopped"}
    except Exception as error:
        _fail(ctx, error)
        raise


def _slice(ctx: RunContext) -> dict:
    """Read for one slice, then end the run or hand it on. The heartbeat stops with the
    reading: the final commit holds the run's row, which keeps a takeover out."""
    try:
        finished = _run_slice(ctx)
    finally:
        ctx.stop_heartbeat()
    if finished:
        _finish(ctx)
        return {"run": ctx.run.pk, "status": ctx.run.status}
    _release(ctx)
    return {"run": ctx.run.pk, "status": "continue"}


def _run_slice(ctx: RunContext) -> bool:
    ctx.client = salesforce_client_for(ctx.connection, on_call=ctx.count_call)
    load_begin(connection=ctx.connection)  # a first load writes into a table without indexes
    return SliceRunner(ctx, run_objects(ctx.run)).run()


def run_objects(run: SyncRun) -> list[str]:
    """The objects a run covers, in the connection's order."""
    enabled = list(run.connection.enabled_objects)
    return [name for name in enabled if name in run.sobjects] if run.sobjects else enabled


def _acquire(run_id: int, config: EngineConfig) -> tuple[SyncRun, str] | None:
    """Take the run's lease unless another live worker holds it (invariant 7)."""
    now = timezone.now()
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().select_related("connection").get(pk=run_id)
        if run.status not in SyncRun.ACTIVE_STATUSES:
            return None
        fresh = run.heartbeat_at and now - run.heartbeat_at < timedelta(
            seconds=config.stale_run_seconds
        )
        if run.lease_token and fresh:
            return None
        if run.connection.status != Connection.Status.ACTIVE:
            _cancel_inactive(run)
            return None
        token = uuid.uuid4().hex
        run.status, run.lease_token, run.heartbeat_at = SyncRun.Status.RUNNING, token, now
        run.started_at = run.started_at or now
        run.slices += 1
        run.save(update_fields=["status", "lease_token", "heartbeat_at", "started_at", "slices"])
        if run.connection.initial_sync_started_at is None:
            Connection.objects.filter(pk=run.connection_id).update(initial_sync_started_at=now)
            run.connection.initial_sync_started_at = now
    return run, token


def _cancel_inactive(run: SyncRun) -> None:
    status = run.connection.get_status_display().lower()
    run.status, run.finished_at = SyncRun.Status.CANCELLED, timezone.now()
    run.error_code = "connection_inactive"
    run.error_message = f"The connection is {status}; nothing was read."
    run.lease_token = ""
    run.save(update_fields=["status", "finished_at", "error_code", "error_message", "lease_token"])


def _release(ctx: RunContext) -> None:
    def work() -> None:
        ctx.run.lease_token = ""
        ctx.run.save(update_fields=["lease_token"])
        transaction.on_commit(lambda: hand_to_workers(ctx.run))

    ctx.commit(work)


def _pause(ctx: RunContext, pause: RunPaused) -> None:
    if pause.code in ("needs_reauth", "api_disabled") and pause.__cause__ is not None:
        connection_mark_auth_failure(connection=ctx.connection, error=pause.__cause__)
    message = pause.message
    if pause.resume_at:
        message += f" Resumes at {pause.resume_at:%Y-%m-%d %H:%M} UTC."
    else:
        message += " It resumes from its checkpoint once the connection is reconnected."
    ctx.commit(
        lambda: sync_run_pause(
            run=ctx.run, code=pause.code, message=message, resume_at=pause.resume_at
        )
    )


def _fail(ctx: RunContext, error: Exception) -> None:
    logger.exception("run %s failed unexpectedly", ctx.run.pk)
    with contextlib.suppress(LeaseLost):
        ctx.commit(
            lambda: sync_run_finish(
                run=ctx.run,
                status=SyncRun.Status.FAILED,
                code="internal_error",
                message=f"The sync stopped on an unexpected error: {type(error).__name__}.",
            )
        )


def _finish(ctx: RunContext) -> None:
    run = ctx.run
    objects = run_objects(run)
    states = {name: run.object_stats.get(name, {}) for name in objects}
    failed = {name: s for name, s in states.items() if s.get("status") != DONE}
    if not failed:
        status, code, message = SyncRun.Status.SUCCEEDED, "", ""
    else:
        status = SyncRun.Status.PARTIAL if len(failed) < len(objects) else SyncRun.Status.FAILED
        code = "objects_skipped"
        message = " ".join(f"{name}: {s.get('error', 'not read')}" for name, s in failed.items())

    if run.kind == SyncRun.Kind.RECONCILE:
        _check_field_visibility(ctx, objects)  # before the commit: its calls count in the run

    def work() -> bool:
        # A load under way is indexed and swapped in with the run's end (and within its time),
        # whatever the run covered: audiences see the new copy from this commit on. Objects
        # still to load (a run of some objects, one that failed) go through the indexes later.
        attached = load_finish(connection_id=run.connection_id)
        sync_run_finish(run=run, status=status, code=code, message=message)
        if _all_loaded(run.connection, states):
            _mark_initial_sync(run.connection)
        return attached

    attached = ctx.commit(work)
    _refresh_statistics(run, attached=attached)
    unreadable = [name for name, s in states.items() if s.get("status") == UNREADABLE]
    if unreadable:
        connection_note_unreadable(connection=run.connection, sobjects=unreadable)


def _check_field_visibility(ctx: RunContext, objects: list[str]) -> None:
    """At the end of a reconciliation: which fields does field-level security hide from the
    user now? The field plans the run just made say what the user's describe shows."""
    plans = ObjectCursor.objects.filter(connection=ctx.connection, sobject__in=objects)
    visible = {c.sobject: list((c.field_plan or {}).get("fields", {})) for c in plans}
    connection_check_field_visibility(connection=ctx.connection, client=ctx.client, visible=visible)


def _all_loaded(connection: Connection, states: dict[str, dict]) -> bool:
    """Whether every readable enabled object has finished its initial load."""
    unreadable = {name for name, s in states.items() if s.get("status") == UNREADABLE}
    required = [name for name in connection.enabled_objects if name not in unreadable]
    loaded = set(
        ObjectCursor.objects.filter(
            connection=connection, sobject__in=required, initial_load_complete=True
        ).values_list("sobject", flat=True)
    )
    return bool(required) and loaded == set(required)


def _mark_initial_sync(connection: Connection) -> None:
    """Set initial_sync_completed_at, the first time every object has loaded."""
    if connection.initial_sync_completed_at is not None:
        return
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(initial_sync_completed_at=now)
    connection.initial_sync_completed_at = now
    transaction.on_commit(
        lambda: initial_sync_completed.send(sender=Connection, connection=connection)
    )


# A run that wrote this many rows changes the record table enough for PostgreSQL's planner
# statistics to mislead audience queries and reconciliations until autovacuum catches up.
ANALYZE_AFTER_ROWS = 20_000


def _refresh_statistics(run: SyncRun, *, attached: bool) -> None:
    if db.vendor != "postgresql" or run.records_written < ANALYZE_AFTER_ROWS:
        return
    # The connection's own partition, which its queries are pruned to: not every connection's.
    table = partition_of(run.connection_id) or IngestedRecord._meta.db_table
    with db.cursor() as cursor:
        cursor.execute(f"{_statistics_command(attached)} {table}")


def _statistics_command(attached: bool) -> str:
    """VACUUM (ANALYZE) a partition the run has just attached (a load's end): counting
    audiences reads only the account index (ingestion migration 0013) where the visibility
    map says every row of a page is visible, and a freshly loaded partition has none marked
    until autovacuum comes by (bench/README.md, "Account joins index-only": 4.4 s against 0.8 s
    for ANALYZE alone on 3.2M records). Otherwise ANALYZE only, as autovacuum keeps up with
    incremental writes; and PostgreSQL refuses VACUUM inside a transaction (tests).
    https://www.postgresql.org/docs/15/indexes-index-only-scans.html
    """
    if attached and not db.in_atomic_block:
        return "VACUUM (ANALYZE)"
    return "ANALYZE"
