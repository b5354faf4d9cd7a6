"""Enqueueing, resuming and cancelling runs; the lease admits one worker."""

import pytest
from django.utils import timezone

from connections.models import Connection
from ingestion.models import SyncRun
from ingestion.services.runs import sync_run_cancel, sync_run_enqueue
from ingestion.services.sync import sync_run_execute
from primer_sf.errors import ApplicationError
from tests.ingestion.test_sync_engine import _seed


def _enqueue(connection, **kwargs):
    return sync_run_enqueue(
        connection=connection,
        kind=kwargs.pop("kind", SyncRun.Kind.INCREMENTAL),
        trigger=SyncRun.Trigger.CUSTOMER,
        **kwargs,
    )


def test_the_run_is_handed_to_the_workers_only_after_commit(
    connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = _enqueue(connection)
    assert run.status == SyncRun.Status.QUEUED
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "status",
    [Connection.Status.NEEDS_REAUTH, Connection.Status.DISCONNECTED, Connection.Status.PAUSED],
)
def test_a_connection_that_cannot_sync_is_refused(connection_factory, status):
    with pytest.raises(ApplicationError, match="cannot sync"):
        _enqueue(connection_factory(status=status))


def test_enqueueing_while_paused_resumes_the_paused_run(connection, sync_run_factory):
    paused = sync_run_factory(connection, status=SyncRun.Status.PAUSED, kind=SyncRun.Kind.INITIAL)
    run = _enqueue(connection)
    assert run.pk == paused.pk
    assert run.status == SyncRun.Status.QUEUED
    assert SyncRun.objects.count() == 1


def test_a_cancelled_run_stops_and_can_be_replaced(connection, sync_run_factory):
    running = sync_run_factory(connection, status=SyncRun.Status.RUNNING)
    assert sync_run_cancel(run=running)
    running.refresh_from_db()
    assert running.status == SyncRun.Status.CANCELLED
    assert not sync_run_cancel(run=running)
    assert _enqueue(connection).status == SyncRun.Status.QUEUED


def test_a_live_lease_keeps_a_second_worker_out(sync_connection, fake_org, sync_run_factory):
    _seed(fake_org)
    run = sync_run_factory(
        sync_connection,
        status=SyncRun.Status.RUNNING,
        lease_token="other-worker",
        heartbeat_at=timezone.now(),
    )
    assert sync_run_execute(run_id=run.pk)["status"] == "skipped"
    assert fake_org.calls == []


def test_a_run_of_a_connection_that_lost_its_authorisation_is_cancelled(
    sync_connection, sync_run_factory
):
    run = sync_run_factory(sync_connection)
    Connection.objects.filter(pk=sync_connection.pk).update(status=Connection.Status.NEEDS_REAUTH)
    assert sync_run_execute(run_id=run.pk)["status"] == "skipped"
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED
    assert "needs reconnecting" in run.error_message


def test_a_cancelled_run_is_not_executed(sync_connection, fake_org, sync_run_factory):
    run = sync_run_factory(sync_connection, status=SyncRun.Status.CANCELLED)
    assert sync_run_execute(run_id=run.pk)["status"] == "skipped"
    assert fake_org.calls == []


def test_a_worker_limits_its_malloc_arenas_before_the_run_starts_a_thread(
    sync_connection, fake_org, sync_run_factory, settings, monkeypatch
):
    from ingestion import tasks
    from ingestion.engine import context, records

    settings.INGESTION = {**settings.INGESTION, "MALLOC_ARENAS": 3}
    events = []
    monkeypatch.setattr(records, "_MALLOPT", lambda *args: events.append(("mallopt", *args)))
    start_heartbeat = context.RunContext.start_heartbeat

    def heartbeat(ctx):
        events.append(("heartbeat",))
        start_heartbeat(ctx)

    monkeypatch.setattr(context.RunContext, "start_heartbeat", heartbeat)
    _seed(fake_org)
    run = sync_run_factory(sync_connection, kind=SyncRun.Kind.INITIAL)
    assert tasks.sync_run_execute(run.pk)["status"] != "skipped"
    assert events[:2] == [("mallopt", records.M_ARENA_MAX, 3), ("heartbeat",)]
