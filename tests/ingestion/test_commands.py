"""The ingestion management commands, through call_command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from tests.ingestion.test_sync_engine import _seed


def _call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def fast(settings):
    settings.INGESTION = {**settings.INGESTION, "POLL_INITIAL_SECONDS": 0, "POLL_MAX_SECONDS": 0}


def test_sync_wait_runs_the_sync_here_and_reports(sync_connection, fake_org, fast):
    _seed(fake_org)
    out = _call("sync", str(sync_connection.pk), "--wait")
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.trigger == SyncRun.Trigger.COMMAND
    assert run.kind == SyncRun.Kind.INITIAL
    assert f"Run #{run.pk} succeeded" in out
    assert "Contact" in out
    assert IngestedRecord.objects.count() == 12


def test_sync_without_wait_only_queues(
    sync_connection, fake_org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        out = _call("sync", sync_connection.org_id, "--objects", "Contact")
    run = SyncRun.objects.get()
    assert (run.status, run.sobjects) == (SyncRun.Status.QUEUED, ["Contact"])
    assert len(callbacks) == 1
    assert f"Queued initial load run #{run.pk}" in out


def test_sync_refuses_unknown_objects_and_connections(sync_connection):
    with pytest.raises(CommandError, match="Not enabled"):
        _call("sync", str(sync_connection.pk), "--objects", "Case")
    with pytest.raises(CommandError, match="No connection"):
        _call("sync", "99999")


def test_sync_refuses_a_second_run_in_flight(sync_connection, sync_run_factory):
    sync_run_factory(sync_connection, status=SyncRun.Status.RUNNING)
    with pytest.raises(CommandError, match="already has a sync"):
        _call("sync", str(sync_connection.pk))


def test_resync_resets_the_cursors_and_reloads(sync_connection, fake_org, fast):
    _seed(fake_org)
    _call("sync", str(sync_connection.pk), "--wait")
    out = _call("resync", str(sync_connection.pk), "--objects", "Contact", "--wait")
    run = SyncRun.objects.order_by("-pk").first()
    assert run.kind == SyncRun.Kind.OBJECT_RESYNC
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.object_stats["Contact"]["records_written"] == 7
    assert "Account" not in run.object_stats
    assert "Cursors reset for Contact" in out
    assert ObjectCursor.objects.get(sobject="Contact").initial_load_complete


def test_resync_full_reloads_everything(sync_connection, fake_org, fast):
    _seed(fake_org)
    _call("sync", str(sync_connection.pk), "--wait")
    _call("resync", str(sync_connection.pk), "--full", "--wait")
    run = SyncRun.objects.order_by("-pk").first()
    assert run.kind == SyncRun.Kind.FULL_RESYNC
    assert run.records_written == 12


def test_resync_refuses_both_full_and_objects(sync_connection):
    with pytest.raises(CommandError, match="either"):
        _call("resync", str(sync_connection.pk), "--full", "--objects", "Contact")


def test_syncstatus_shows_each_object(sync_connection, fake_org, fast):
    _seed(fake_org)
    _call("sync", str(sync_connection.pk), "--wait")
    fake_org.delete("Contact", next(iter(fake_org.records["Contact"])))
    _call("sync", str(sync_connection.pk), "--wait")
    out = _call("syncstatus", str(sync_connection.pk))
    assert "initial ingestion: complete" in out
    contact_line = next(line for line in out.splitlines() if line.strip().startswith("Contact"))
    assert contact_line.split()[1:3] == ["7", "1"]
    assert "100%" in contact_line


def test_syncstatus_lists_every_connection(sync_connection, connection_factory):
    other = connection_factory(label="Second org")
    out = _call("syncstatus")
    assert str(sync_connection) in out
    assert str(other) in out


def test_setupschedules_upserts_by_name(db):
    _call("setupschedules")
    _call("setupschedules")
    tick = Schedule.objects.get(name="primer_sf: scheduler tick")
    assert tick.func == "ingestion.tasks.scheduler_tick"
    assert Schedule.objects.filter(name="primer_sf: scheduler tick").count() == 1


def test_the_tick_runs_twice_a_minute_half_a_minute_apart(db):
    _call("setupschedules")
    ticks = Schedule.objects.filter(func="ingestion.tasks.scheduler_tick").order_by("next_run")
    first, second = ticks
    assert (first.minutes, second.minutes) == (1, 1)
    assert abs((second.next_run - first.next_run).total_seconds() - 30) < 5
    # Added to a running system: half a minute after the first tick, whatever its phase.
    Schedule.objects.filter(pk=second.pk).delete()
    Schedule.objects.filter(pk=first.pk).update(next_run=first.next_run - timedelta(seconds=17))
    _call("setupschedules")
    first.refresh_from_db()
    second = Schedule.objects.get(name="primer_sf: scheduler tick (half past)")
    assert (second.next_run - first.next_run).total_seconds() == 30
    # A later deploy keeps their phase.
    Schedule.objects.filter(pk=second.pk).update(next_run=first.next_run + timedelta(seconds=31))
    _call("setupschedules")
    second.refresh_from_db()
    assert (second.next_run - first.next_run).total_seconds() == 31
