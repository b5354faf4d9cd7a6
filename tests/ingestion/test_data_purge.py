"""Disconnect with data deletion: a background task deletes the records in committed batches."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from connections.salesforce import oauth
from connections.services import connection_disconnect
from ingestion.models import DataPurge, IngestedRecord, ObjectCursor, SyncRun
from ingestion.services.purge import data_purge_execute
from ingestion.services.runs import ApplicationError, sync_run_enqueue
from ingestion.services.schedule import schedule_tick
from ingestion.signals import records_deleting


@pytest.fixture(autouse=True)
def revoke():
    with mock.patch(
        "connections.services.authorization.oauth.token_revoke", autospec=oauth.token_revoke
    ) as patched:
        patched.return_value = True
        yield patched


def _records(connection, count: int, sobject: str = "Contact") -> None:
    now = timezone.now()
    IngestedRecord.objects.bulk_create(
        IngestedRecord(
            connection=connection,
            sobject=sobject,
            sf_id=f"0035g{n:013d}",
            data={"Id": n},
            system_modstamp=now,
            first_seen_at=now,
            last_seen_at=now,
        )
        for n in range(count)
    )


@pytest.fixture
def loaded(connection):
    ObjectCursor.objects.create(connection=connection, sobject="Contact")
    _records(connection, 7, "Contact")
    _records(connection, 4, "Lead")
    return connection


def _disconnect(connection) -> None:
    connection_disconnect(connection=connection, delete_data=True)


def test_the_request_only_queues_the_deletion(loaded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _disconnect(loaded)
    assert IngestedRecord.objects.filter(connection=loaded).count() == 11
    assert not ObjectCursor.objects.filter(connection=loaded).exists()
    purge = DataPurge.objects.get(connection=loaded)
    assert purge.status == DataPurge.Status.QUEUED
    assert callbacks, "the task is handed out once the disconnect commits"


def test_the_worker_deletes_every_record_in_batches(
    loaded, connection_factory, settings, django_capture_on_commit_callbacks
):
    other = connection_factory()
    _records(other, 3)
    settings.INGESTION = {**settings.INGESTION, "PURGE_BATCH_RECORDS": 3}
    with django_capture_on_commit_callbacks(execute=True):
        _disconnect(loaded)
    purge = DataPurge.objects.get(connection=loaded)
    assert (purge.status, purge.records_total, purge.records_deleted) == ("done", 11, 11)
    assert purge.batches == 4  # ceil(11 / 3): never more than a batch in memory
    assert purge.finished_at is not None
    assert not IngestedRecord.objects.filter(connection=loaded).exists()
    assert IngestedRecord.objects.filter(connection=other).count() == 3


def test_each_batch_commits_so_a_killed_worker_loses_only_its_batch(
    loaded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _disconnect(loaded)
    purge = DataPurge.objects.get(connection=loaded)
    batches = []

    def die_on_the_third(sender, record_ids, **kwargs):
        batches.append(record_ids)
        if len(batches) == 3:
            raise SystemExit("worker killed")

    records_deleting.connect(die_on_the_third)
    try:
        with pytest.raises(SystemExit):
            data_purge_execute(purge_id=purge.pk, batch_records=2)
    finally:
        records_deleting.disconnect(die_on_the_third)
    purge.refresh_from_db()
    assert (purge.status, purge.records_deleted) == ("running", 4)
    assert IngestedRecord.objects.filter(connection=loaded).count() == 7


def test_the_scheduler_hands_a_dead_workers_deletion_out_again(
    loaded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _disconnect(loaded)
    purge = DataPurge.objects.get(connection=loaded)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    DataPurge.objects.filter(pk=purge.pk).update(
        status="running", lease_token="dead-worker", heartbeat_at=an_hour_ago
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_tick()["purges_resumed"] == 1
    purge.refresh_from_db()
    assert purge.status == "done"
    assert not IngestedRecord.objects.filter(connection=loaded).exists()


def test_a_live_workers_deletion_is_not_taken_over(loaded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        _disconnect(loaded)
    purge = DataPurge.objects.get(connection=loaded)
    DataPurge.objects.filter(pk=purge.pk).update(
        status="running", lease_token="live", heartbeat_at=timezone.now()
    )
    assert data_purge_execute(purge_id=purge.pk)["status"] == "skipped"
    assert schedule_tick()["purges_resumed"] == 0
    assert IngestedRecord.objects.filter(connection=loaded).count() == 11


def test_a_slice_out_of_time_enqueues_its_continuation(loaded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        _disconnect(loaded)
    purge = DataPurge.objects.get(connection=loaded)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = data_purge_execute(purge_id=purge.pk, batch_records=5, slice_seconds=0)
    assert outcome == {"purge": purge.pk, "status": "continue", "deleted": 5}
    assert len(callbacks) == 1
    stored = DataPurge.objects.get(pk=purge.pk)
    assert stored.lease_token == ""
    assert (stored.after_sobject, stored.after_sf_id) == ("Contact", f"0035g{4:013d}")
    assert data_purge_execute(purge_id=purge.pk, batch_records=5, inline=True)["status"] == "done"
    assert not IngestedRecord.objects.filter(connection=loaded).exists()


def test_running_syncs_are_cancelled_and_none_start_until_it_is_done(
    loaded, sync_run_factory, django_capture_on_commit_callbacks
):
    run = sync_run_factory(loaded, status=SyncRun.Status.RUNNING, lease_token="w1")
    with django_capture_on_commit_callbacks(execute=False):
        _disconnect(loaded)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED
    loaded.status = "active"
    loaded.save()
    with pytest.raises(ApplicationError, match="still being deleted"):
        sync_run_enqueue(connection=loaded, kind="initial", trigger="customer")
    assert schedule_tick()["started"] == 0
    DataPurge.objects.filter(connection=loaded).update(status=DataPurge.Status.DONE)
    with django_capture_on_commit_callbacks(execute=False):
        assert schedule_tick()["started"] == 1
    assert SyncRun.objects.get(connection=loaded, status="queued").kind == "initial"


def test_the_connection_page_says_it_is_deleting_and_how_far(
    loaded, client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _disconnect(loaded)
    DataPurge.objects.filter(connection=loaded).update(
        status="running", records_total=80_207, records_deleted=40_000
    )
    client.force_login(user)
    html = client.get(f"/connections/{loaded.pk}/").content.decode()
    assert "Deleting this org&#x27;s data." in html or "Deleting this org's data." in html
    assert "40,000 of 80,207 records deleted (50%)" in html


def test_records_left_behind_the_walk_are_found_before_it_is_done(
    loaded, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _disconnect(loaded)
    purge = DataPurge.objects.get(connection=loaded)
    # as if an earlier slice had got past every record (and a late write landed behind it)
    DataPurge.objects.filter(pk=purge.pk).update(after_sobject="Lead", after_sf_id="zzz")
    with django_capture_on_commit_callbacks(execute=True):
        data_purge_execute(purge_id=purge.pk)
    purge.refresh_from_db()
    assert purge.status == "done"
    assert not IngestedRecord.objects.filter(connection=loaded).exists()
