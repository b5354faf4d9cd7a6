"""Faults injected in the emulator: each ends in the stated state, and the local copy equals
the org afterwards."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import Connection, OrgUsage
from connections.salesforce.types import TokenSet
from connections.services import connection_mark_active, connection_store_tokens
from ingestion.engine import objects
from ingestion.models import ObjectCursor, SyncRun
from ingestion.services.runs import sync_run_enqueue
from ingestion.services.schedule import schedule_tick
from ingestion.services.sync import sync_run_execute
from tests.ingestion.e2e.conftest import assert_copy_equals_org, run_sync

PEOPLE = ["Contact", "Lead"]


def _assert_all_equal(live_org, connection, sobjects):
    for sobject in sobjects:
        assert_copy_equals_org(live_org, connection, sobject)


@pytest.mark.parametrize("fault", ["http_500", "unavailable_503", "lock_row", "concurrent_limit"])
def test_transient_errors_are_retried_and_lose_nothing(live_org, connect_as, fault):
    connection = connect_as(objects=PEOPLE)
    live_org.org.faults.set(fault, rate=0.3, seed=11)
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert run.retries > 0
    _assert_all_equal(live_org, connection, PEOPLE)


def test_a_page_cut_mid_stream_is_fetched_again_from_its_locator(live_org, connect_as, settings):
    settings.INGESTION = {**settings.INGESTION, "PAGE_MAX_RECORDS": 50}
    connection = connect_as(objects=PEOPLE)
    live_org.org.faults.set("cut_stream", after_rows=20, count=3)
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    _assert_all_equal(live_org, connection, PEOPLE)
    pages = sum(-(-live_org.org.count(s, include_deleted=True) // 50) for s in PEOPLE)
    assert run.api_calls_by_kind["bulk_results"] == pages + 3  # each cut page read once more
    assert run.bulk_jobs == 2  # no job was re-run for a cut


@pytest.mark.parametrize("ahead", [0, 2])
def test_a_worker_killed_mid_job_resumes_at_its_page_with_the_same_job(
    live_org, connect_as, settings, monkeypatch, ahead
):
    settings.INGESTION = {**settings.INGESTION, "PAGE_MAX_RECORDS": 30, "PAGES_AHEAD": ahead}
    connection = connect_as(objects=["Contact"])
    pages = -(-live_org.org.count("Contact", include_deleted=True) // 30)
    assert pages >= 4
    real_write = objects.write_records
    written = []

    def killed_at_the_third_page(**kwargs):
        if len(written) == 2:
            raise RuntimeError("worker killed")
        written.append(kwargs["sobject"])
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", killed_at_the_third_page)
    with pytest.raises(RuntimeError):
        run_sync(connection)
    monkeypatch.setattr(objects, "write_records", real_write)
    run_sync(connection)

    calls = live_org.org.counters()["api_calls"]
    assert calls["bulk_create"] == 1  # the resumed run read on with the job it had
    # Only the page in hand was read twice, and the pages fetched ahead of it (resultPages).
    assert calls["bulk_results"] == pages + 1 + min(ahead, pages - 3)
    assert_copy_equals_org(live_org, connection, "Contact")


def test_a_failed_job_is_rerun_once(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("job_fail", count=1, object="Contact")
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.bulk_jobs == 2
    assert_copy_equals_org(live_org, connection, "Contact")


def test_a_job_failing_twice_has_its_window_split(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("job_fail", count=2, object="Contact")
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.bulk_jobs == 4  # failed, re-run failed, then one job per half
    assert_copy_equals_org(live_org, connection, "Contact")


def test_a_job_stuck_past_its_deadline_is_aborted_and_split(live_org, connect_as, settings):
    settings.INGESTION = {**settings.INGESTION, "JOB_DEADLINE_SECONDS": 1}
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("job_stuck", count=1, object="Contact")
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.api_calls_by_kind["bulk_abort"] == 1
    assert live_org.org.counters()["jobs_by_state"].get("Aborted") == 1
    assert_copy_equals_org(live_org, connection, "Contact")


def test_a_field_removed_between_describe_and_query_is_replanned(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("field_removed", object="Contact", field="Title")
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED
    cursor = ObjectCursor.objects.get(sobject="Contact")
    assert "Title" not in cursor.field_plan["fields"]
    assert_copy_equals_org(live_org, connection, "Contact")


def test_read_access_lost_mid_run_fails_that_object_only(live_org, connect_as):
    connection = connect_as()
    live_org.org.faults.set("revoke_read", object="Campaign", after=8)
    run = run_sync(connection)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.object_stats["Campaign"]["status"] == "unreadable"
    assert "Campaign" in run.error_message
    _assert_all_equal(live_org, connection, ["Lead", "Contact", "Account", "Opportunity"])
    connection.refresh_from_db()
    item = next(i for i in connection.preflight["items"] if i["key"] == "object:Campaign")
    assert item["status"] == "warn"
    assert "Read on Campaign" in item["fix"]


def _revoke_after_first_page(monkeypatch, action):
    real_write = objects.write_records
    state = {"pages": 0}

    def write(**kwargs):
        state["pages"] += 1
        if state["pages"] == 2:
            action()
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", write)


def _reconnect(live_org, connection, username="integration@example.com"):
    tokens = live_org.org.issue_tokens(username)
    connection_store_tokens(
        connection=connection,
        tokens=TokenSet(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            instance_url=tokens["instance_url"],
            identity_url=tokens["id"],
        ),
    )
    connection.save()
    connection_mark_active(connection=connection)


def test_a_token_revoked_mid_run_pauses_it_until_the_customer_reconnects(
    live_org, connect_as, monkeypatch, settings
):
    settings.INGESTION = {**settings.INGESTION, "PAGE_MAX_RECORDS": 40}
    connection = connect_as(objects=PEOPLE)
    org = live_org.org

    def revoke():
        org.faults.set("revoke_refresh_token", token=connection.refresh_token)
        org.faults.set("expire_tokens")

    _revoke_after_first_page(monkeypatch, revoke)
    run = run_sync(connection)
    assert run.status == SyncRun.Status.PAUSED
    assert run.error_code == "needs_reauth"
    assert "reconnected" in run.error_message
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert connection.status_reason == "token_revoked"
    jobs = org.counters()["jobs_created"]

    monkeypatch.undo()
    _reconnect(live_org, connection)
    resumed = sync_run_enqueue(
        connection=connection, kind=SyncRun.Kind.INITIAL, trigger=SyncRun.Trigger.CUSTOMER
    )
    assert resumed.pk == run.pk
    sync_run_execute(run_id=run.pk, inline=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert org.counters()["jobs_created"] == jobs  # read on from the checkpoint
    _assert_all_equal(live_org, connection, PEOPLE)


def test_a_user_deactivated_mid_run_turns_the_connection_needs_reauth(
    live_org, connect_as, monkeypatch, settings
):
    settings.INGESTION = {**settings.INGESTION, "PAGE_MAX_RECORDS": 40}
    connection = connect_as(objects=PEOPLE)
    org = live_org.org

    def deactivate():
        org.set_user_active("integration@example.com", False)
        org.faults.set("expire_tokens")

    _revoke_after_first_page(monkeypatch, deactivate)
    run = run_sync(connection)
    assert run.status == SyncRun.Status.PAUSED
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == (
        Connection.Status.NEEDS_REAUTH,
        "inactive_user",
    )


def test_the_daily_limit_pauses_the_run_until_it_resets(live_org, connect_as):
    connection = connect_as(objects=PEOPLE)
    live_org.org.faults.set("daily_limit_reached")
    run = run_sync(connection)
    assert run.status == SyncRun.Status.PAUSED
    assert run.error_code == "daily_limit"
    assert run.resume_at > timezone.now()
    live_org.org.faults.clear("daily_limit_reached")
    # Time passes: the org usage read an hour ago is no longer trusted, so one call may go
    # out to read it afresh.
    OrgUsage.objects.update(checked_at=timezone.now() - timedelta(hours=2))
    schedule_tick(now=run.resume_at + timedelta(seconds=1))
    sync_run_execute(run_id=run.pk, inline=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_all_equal(live_org, connection, PEOPLE)


def test_a_run_whose_worker_died_is_taken_over_from_its_checkpoint(
    live_org, connect_as, monkeypatch, settings
):
    settings.INGESTION = {**settings.INGESTION, "PAGE_MAX_RECORDS": 40}
    connection = connect_as(objects=PEOPLE)
    real_write = objects.write_records
    pages = {"n": 0}

    def killed(**kwargs):
        pages["n"] += 1
        if pages["n"] == 3:
            raise SystemExit("SIGKILL")  # nothing below the worker gets to clean up
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", killed)
    run = sync_run_enqueue(
        connection=connection, kind=SyncRun.Kind.INITIAL, trigger=SyncRun.Trigger.COMMAND
    )
    with pytest.raises(SystemExit):
        sync_run_execute(run_id=run.pk, inline=True)
    monkeypatch.setattr(objects, "write_records", real_write)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING  # the row still says so: nobody is on it
    assert schedule_tick()["taken_over"] == 0  # the heartbeat is fresh
    jobs = live_org.org.counters()["jobs_created"]

    later = timezone.now() + timedelta(seconds=settings.INGESTION["STALE_RUN_SECONDS"] + 5)
    assert schedule_tick(now=later)["taken_over"] == 1
    sync_run_execute(run_id=run.pk, inline=True)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert live_org.org.counters()["jobs_created"] == jobs
    _assert_all_equal(live_org, connection, PEOPLE)
