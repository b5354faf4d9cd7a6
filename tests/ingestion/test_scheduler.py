"""The scheduler tick: due syncs start, paused runs resume, abandoned runs are taken over."""

from datetime import timedelta

from django.utils import timezone

from connections.models import Connection
from ingestion.models import SyncRun
from ingestion.services.schedule import schedule_tick
from ingestion.tasks import scheduler_tick


def _tick(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=False) as handed:
        result = schedule_tick(**kwargs)
    return result, handed


def test_a_connection_whose_interval_elapsed_gets_an_incremental_sync(
    connection_factory, django_capture_on_commit_callbacks
):
    now = timezone.now()
    due = connection_factory(next_sync_at=now - timedelta(minutes=1), initial_sync_completed_at=now)
    connection_factory(next_sync_at=now + timedelta(minutes=5), initial_sync_completed_at=now)
    result, handed = _tick(django_capture_on_commit_callbacks)
    run = SyncRun.objects.get()
    assert (run.connection, run.kind, run.trigger) == (
        due,
        SyncRun.Kind.INCREMENTAL,
        SyncRun.Trigger.SCHEDULE,
    )
    assert result["started"] == 1
    assert len(handed) == 1


def test_a_connection_without_its_initial_load_gets_an_initial_run(connection_factory, db):
    connection_factory(next_sync_at=None)
    schedule_tick()
    assert SyncRun.objects.get().kind == SyncRun.Kind.INITIAL


def test_busy_paused_and_inactive_connections_are_left_alone(connection_factory, sync_run_factory):
    busy = connection_factory()
    sync_run_factory(busy, status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now())
    waiting = connection_factory()
    sync_run_factory(
        waiting, status=SyncRun.Status.PAUSED, resume_at=timezone.now() + timedelta(hours=1)
    )
    connection_factory(status=Connection.Status.NEEDS_REAUTH)
    connection_factory(status=Connection.Status.DISCONNECTED)
    assert schedule_tick() == {"taken_over": 0, "resumed": 0, "started": 0, "purges_resumed": 0}


def test_a_paused_run_resumes_when_its_time_comes(connection_factory, sync_run_factory):
    connection = connection_factory()
    run = sync_run_factory(
        connection, status=SyncRun.Status.PAUSED, resume_at=timezone.now() - timedelta(seconds=1)
    )
    assert schedule_tick()["resumed"] == 1
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED
    assert run.resume_at is None


def test_a_run_paused_for_reconnection_waits_for_the_customer(connection_factory, sync_run_factory):
    connection = connection_factory(status=Connection.Status.NEEDS_REAUTH)
    sync_run_factory(connection, status=SyncRun.Status.PAUSED, resume_at=None)
    assert schedule_tick()["resumed"] == 0


def test_a_running_run_with_a_stale_heartbeat_is_taken_over(connection_factory, sync_run_factory):
    connection = connection_factory()
    stale = sync_run_factory(
        connection,
        status=SyncRun.Status.RUNNING,
        lease_token="dead-worker",
        heartbeat_at=timezone.now() - timedelta(minutes=30),
    )
    assert schedule_tick()["taken_over"] == 1
    stale.refresh_from_db()
    assert (stale.status, stale.lease_token) == (SyncRun.Status.QUEUED, "")


def test_the_task_runs_the_tick(connection_factory, db):
    connection_factory(next_sync_at=None)
    assert scheduler_tick()["started"] == 1
