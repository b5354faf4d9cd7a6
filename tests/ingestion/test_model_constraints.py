"""The database refuses duplicate records and cursors, and a second active sync."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from ingestion.models import IngestedRecord, ObjectCursor, SyncRun


def _record(connection, sf_id="0035g00000ABCDEAAA", sobject="Contact"):
    now = timezone.now()
    return IngestedRecord.objects.create(
        connection=connection,
        sobject=sobject,
        sf_id=sf_id,
        data={"Id": sf_id},
        system_modstamp=now,
        first_seen_at=now,
        last_seen_at=now,
    )


def test_a_duplicate_record_is_refused(connection):
    _record(connection)
    with pytest.raises(IntegrityError), transaction.atomic():
        _record(connection)


def test_the_same_id_may_exist_in_another_connection(connection, connection_factory):
    _record(connection)
    _record(connection_factory())
    assert IngestedRecord.objects.count() == 2


def test_a_duplicate_cursor_is_refused(connection):
    ObjectCursor.objects.create(connection=connection, sobject="Lead")
    with pytest.raises(IntegrityError), transaction.atomic():
        ObjectCursor.objects.create(connection=connection, sobject="Lead")


@pytest.mark.parametrize("active", [SyncRun.Status.QUEUED, SyncRun.Status.RUNNING])
def test_a_second_active_sync_of_one_connection_is_refused(connection, sync_run_factory, active):
    sync_run_factory(connection, status=active)
    with pytest.raises(IntegrityError), transaction.atomic():
        sync_run_factory(connection, status=SyncRun.Status.QUEUED)


def test_finished_runs_do_not_block_a_new_one(connection, sync_run_factory, connection_factory):
    for status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED, SyncRun.Status.PAUSED):
        sync_run_factory(connection, status=status)
    sync_run_factory(connection, status=SyncRun.Status.RUNNING)
    sync_run_factory(connection_factory(), status=SyncRun.Status.RUNNING)
    assert SyncRun.objects.filter(status=SyncRun.Status.RUNNING).count() == 2
