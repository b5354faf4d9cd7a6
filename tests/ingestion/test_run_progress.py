"""Progress of every kind of run, in its own unit: never 100% or "done" before the end, and
the time left from the run's own rate."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ingestion.management.progress import ProgressPrinter
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from ingestion.selectors import run_progress
from tests.ingestion.test_sync_engine import _run, _seed

pytestmark = pytest.mark.django_db


def _running(sync_run_factory, connection, kind, **fields):
    started = timezone.now() - timedelta(seconds=100)
    return sync_run_factory(
        connection, kind=kind, status=SyncRun.Status.RUNNING, started_at=started, **fields
    )


def test_an_initial_load_counts_records_to_load_and_stays_below_100_until_it_ends(
    connection, sync_run_factory
):
    connection.enabled_objects = ["Lead", "Contact"]
    connection.save()
    ObjectCursor.objects.create(
        connection=connection, sobject="Lead", estimated_total=1000, records_ingested=1000
    )
    ObjectCursor.objects.create(
        connection=connection, sobject="Contact", estimated_total=3000, records_ingested=1000
    )
    run = _running(
        sync_run_factory,
        connection,
        SyncRun.Kind.INITIAL,
        records_written=1000,
        object_stats={"Lead": {"status": "active"}, "Contact": {"status": "active"}},
    )

    progress = run_progress(run=run)

    assert progress.unit == "records to load"
    assert (progress.done, progress.total) == (2000, 4000)
    assert progress.percent == 50.0
    lead = progress.objects[0]
    assert lead.percent == 99.0  # every row read, but the object is not done yet
    # 1,000 records in 100 s: 10 records/s; 2,000 to go.
    assert progress.eta_seconds == pytest.approx(200, rel=0.05)


def test_an_incremental_counts_the_changes_it_found_not_the_whole_object(
    connection, sync_run_factory
):
    connection.enabled_objects = ["Lead", "Contact"]
    connection.save()
    for name in ("Lead", "Contact"):  # the initial load's figures must not leak in
        ObjectCursor.objects.create(
            connection=connection,
            sobject=name,
            estimated_total=30_000,
            records_ingested=30_000,
            initial_load_complete=True,
        )
    run = _running(
        sync_run_factory,
        connection,
        SyncRun.Kind.INCREMENTAL,
        records_read=384,
        object_stats={
            "Lead": {"status": "done", "expected": 384, "records_read": 384},
            "Contact": {"status": "pending"},
        },
    )

    progress = run_progress(run=run)

    assert progress.unit == "changed records to read"
    assert progress.objects[0].percent == 100.0
    assert progress.objects[1].state == "waiting"
    assert progress.total is None  # Contact's changes are not counted yet: no fake figure
    assert progress.percent is None


def test_a_full_resync_does_not_read_as_complete(client, world, sync_run_factory):
    connection = world["acme_connection"]
    connection.enabled_objects = ["Contact"]
    connection.initial_sync_completed_at = timezone.now() - timedelta(minutes=21)
    connection.save()
    ObjectCursor.objects.create(connection=connection, sobject="Contact")  # reset cursor
    _running(sync_run_factory, connection, SyncRun.Kind.FULL_RESYNC)
    client.force_login(world["alice"])

    html = client.get(f"/connections/{connection.pk}/").content.decode()

    assert "Full resync: in progress" in html
    assert "All 0 records" not in html
    assert "Complete" not in html
    assert "waiting" in html


def test_a_reconciliation_checks_the_ids_of_the_stored_records(connection, sync_run_factory):
    connection.enabled_objects = ["Contact"]
    connection.save()
    now = timezone.now()
    IngestedRecord.objects.bulk_create(
        IngestedRecord(
            connection=connection,
            sobject="Contact",
            sf_id=f"003{n:015d}",
            system_modstamp=now,
            first_seen_at=now,
            last_seen_at=now,
        )
        for n in range(8)
    )
    run = _running(
        sync_run_factory,
        connection,
        SyncRun.Kind.RECONCILE,
        records_read=2,
        object_stats={"Contact": {"status": "active", "records_read": 2}},
    )

    progress = run_progress(run=run)

    assert progress.unit == "record ids to check"
    assert (progress.done, progress.total, progress.percent) == (2, 8, 25.0)


def test_a_finished_run_is_100_and_has_no_time_left(connection, sync_run_factory):
    connection.enabled_objects = ["Lead"]
    connection.save()
    run = sync_run_factory(
        connection,
        kind=SyncRun.Kind.INCREMENTAL,
        status=SyncRun.Status.SUCCEEDED,
        started_at=timezone.now() - timedelta(seconds=5),
        finished_at=timezone.now(),
        object_stats={"Lead": {"status": "done", "expected": 0, "records_read": 0}},
    )
    progress = run_progress(run=run)
    assert progress.percent == 100.0
    assert progress.eta_seconds is None


@pytest.fixture
def fast(settings):
    settings.INGESTION = {**settings.INGESTION, "POLL_INITIAL_SECONDS": 0, "POLL_MAX_SECONDS": 0}


def test_the_sync_command_shows_an_incremental_in_changes(sync_connection, fake_org, fast):
    _seed(fake_org)
    _run(sync_connection)
    fake_org.upsert("Contact", Name="Newcomer", Email="new@acme.example")
    out = StringIO()
    call_command("sync", str(sync_connection.pk), "--wait", stdout=out)
    text = out.getvalue()
    contact = [line for line in text.splitlines() if line.strip().startswith("Contact")][-1]
    assert "/7" not in contact  # not measured against the 7 contacts of the initial load
    assert "Incremental:" in text
    assert "changed records to read" in text


def test_a_reconciliation_never_prints_100_of_nothing(sync_connection, fake_org, fast):
    _seed(fake_org)
    _run(sync_connection)
    out = StringIO()
    run = _run(sync_connection, kind=SyncRun.Kind.RECONCILE)
    printer = ProgressPrinter(out, live=False)
    printer(run, final=True)
    text = out.getvalue()
    assert "record ids to check" in text
    assert " 0/" not in text


def test_log_records_print_above_live_bars_not_inside_them(connection, sync_run_factory):
    import logging

    out = StringIO()
    printer = ProgressPrinter(out, live=True, interval=0)
    run = _running(sync_run_factory, connection, SyncRun.Kind.INCREMENTAL)
    with printer.holding_logs():
        printer(run)
        logging.getLogger("django-q").warning("a worker says hello")
        printer(run)
    text = out.getvalue()
    # The log line is written after erasing the bars ("\x1b[nF\x1b[J") and the bars are drawn
    # again below it: it never lands in the middle of a bar line.
    before, after = text.split("a worker says hello")
    _erased, prefix = before.rsplit("\x1b[7F\x1b[J", 1)
    assert "\n" not in prefix  # the log line starts where the bars were, on a line of its own
    assert prefix.endswith("WARNING django-q: ")
    assert after.startswith("\n  ")


def test_syncstatus_shows_the_current_run_in_its_own_unit(connection, sync_run_factory):
    connection.enabled_objects = ["Contact"]
    connection.save()
    ObjectCursor.objects.create(
        connection=connection, sobject="Contact", estimated_total=30_000, records_ingested=384
    )
    run = _running(sync_run_factory, connection, SyncRun.Kind.FULL_RESYNC, records_written=384)
    out = StringIO()
    call_command("syncstatus", str(connection.pk), stdout=out)
    text = out.getvalue()
    assert f"now: #{run.pk} Full resync running: 384 of 30,000 records to reload (1%)" in text
    assert "100%" not in text
