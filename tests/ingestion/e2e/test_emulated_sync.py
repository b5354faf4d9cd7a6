"""Initial and incremental syncs against the emulator through the real client."""

import pytest

from ingestion.engine import objects
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from tests.ingestion.e2e.conftest import ALL_OBJECTS, assert_copy_equals_org, run_sync


def test_an_initial_sync_copies_every_record_exactly(live_org, connect_as):
    connection = connect_as(objects=[*ALL_OBJECTS, "Document"])
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    total = sum(
        assert_copy_equals_org(live_org, connection, sobject, blobs=True)
        for sobject in [*ALL_OBJECTS, "Document"]
    )
    assert run.records_written == total
    connection.refresh_from_db()
    assert connection.initial_sync_completed_at is not None


def test_compound_fields_are_rebuilt_and_base64_read_over_rest(live_org, connect_as):
    connection = connect_as(objects=["Account", "Document"])
    run = run_sync(connection)
    account = (
        IngestedRecord.objects.filter(sobject="Account").exclude(data__BillingCity=None).first()
    )
    assert account.data["BillingAddress"]["city"] == account.data["BillingCity"]
    assert set(account.data["Location__c"]) == {"latitude", "longitude"}
    document = IngestedRecord.objects.filter(sobject="Document").first()
    assert document.data["Body"]
    assert not document.data["Body"].startswith("/services")
    plan = ObjectCursor.objects.get(sobject="Account").field_plan
    assert "BillingAddress" not in plan["bulk_fields"]  # never in a Bulk query
    assert "Body" not in ObjectCursor.objects.get(sobject="Document").field_plan["bulk_fields"]
    # Document stays on Bulk; only its base64 field went over REST, one blob GET per record.
    assert run.api_calls_by_kind["bulk_create"] == 2
    assert run.api_calls_by_kind["blob"] == live_org.org.count("Document", include_deleted=True)


def test_an_incremental_sync_makes_the_copy_equal_to_the_live_org(live_org, connect_as):
    connection = connect_as()
    run_sync(connection)
    org = live_org.org
    contact = next(r["Id"] for r in org.iter_records("Contact", include_deleted=False))
    lead = next(r["Id"] for r in org.iter_records("Lead", include_deleted=False))
    org.update("Contact", contact, {"Title": "Chief Everything Officer"})
    org.delete("Lead", lead)
    new_id = org.create("Lead", {"LastName": "Newman", "Company": "Initech"})
    org.apply_random_changes(60, seed=7)
    org.undelete("Lead", lead)
    before = org.counters()["limit_counted_total"]

    run = run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert IngestedRecord.objects.get(sf_id=contact).data["Title"] == "Chief Everything Officer"
    assert IngestedRecord.objects.filter(sf_id=new_id).exists()
    # Small windows go over REST: one describe and one query page per object, no Bulk job.
    assert run.bulk_jobs == 0
    assert run.api_calls_by_kind == {"describe": 6, "query": 6}
    assert run.api_calls == org.counters()["limit_counted_total"] - before
    # CampaignMember deletes are hard deletes: the reconciliation finds them.
    run_sync(connection, kind=SyncRun.Kind.RECONCILE)
    for sobject in ALL_OBJECTS:
        assert_copy_equals_org(live_org, connection, sobject)


def test_soft_deletes_are_marked_and_kept(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    run_sync(connection)
    gone = next(r["Id"] for r in live_org.org.iter_records("Contact", include_deleted=False))
    live_org.org.delete("Contact", gone)
    run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)
    record = IngestedRecord.objects.get(sf_id=gone)
    assert record.is_deleted
    assert record.deleted_at is not None


def test_a_row_committed_late_inside_the_lookback_is_not_missed(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    run_sync(connection)
    watermark = ObjectCursor.objects.get(sobject="Contact").watermark
    late = live_org.org.create("Contact", {"LastName": "Late", "FirstName": "Lou"})
    # Salesforce stamps SystemModstamp at the start of a transaction and makes the row visible
    # at commit: a row can appear stamped before a window we already closed.
    stamp = watermark.replace(microsecond=0).timestamp() - 300
    from datetime import UTC, datetime

    text = datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    live_org.org.set_field_value_without_modstamp("Contact", late, "SystemModstamp", text)
    run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)
    assert IngestedRecord.objects.filter(sf_id=late).exists()


def test_an_unreadable_object_ends_the_run_partial_and_says_which(live_org, connect_as):
    connection = connect_as("nocampaign@example.com")
    run = run_sync(connection)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.object_stats["Campaign"]["status"] == "unreadable"
    assert "Campaign:" in run.error_message
    assert "Grant Read" in run.error_message
    assert_copy_equals_org(live_org, connection, "Lead")


def test_the_runs_api_call_counts_match_the_emulators_own(live_org, connect_as):
    connection = connect_as()
    run = run_sync(connection)
    counters = live_org.org.counters()
    assert run.api_calls == counters["limit_counted_total"]
    assert run.bulk_jobs == counters["jobs_created"] == 6
    ours = run.api_calls_by_kind
    theirs = counters["api_calls"]
    assert ours["describe"] == theirs["describe"] == 6
    assert ours["bulk_create"] == theirs["bulk_create"]
    assert ours["bulk_poll"] == theirs["bulk_poll"]
    assert ours["bulk_results"] == theirs["bulk_results"]


@pytest.mark.parametrize("crash_after", [1, 4])
def test_an_interrupted_sync_resumes_from_its_checkpoint(
    live_org, connect_as, monkeypatch, settings, crash_after
):
    settings.INGESTION = {**settings.INGESTION, "PAGE_MAX_RECORDS": 40}
    connection = connect_as(objects=["Contact", "Lead"])
    real_write = objects.write_records
    pages = {"n": 0}

    def crash(**kwargs):
        pages["n"] += 1
        if pages["n"] > crash_after:
            raise RuntimeError("worker killed")
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", crash)
    with pytest.raises(RuntimeError):
        run_sync(connection)
    jobs_before = live_org.org.counters()["jobs_created"]
    monkeypatch.setattr(objects, "write_records", real_write)

    resumed = run_sync(connection)

    assert resumed.status == SyncRun.Status.SUCCEEDED
    for sobject in ("Contact", "Lead"):
        assert_copy_equals_org(live_org, connection, sobject)
    # Jobs that had finished were read on from their locators, not created again.
    assert live_org.org.counters()["jobs_created"] == jobs_before


@pytest.mark.slow
def test_the_demo_profile_loads_completely(settings, connection_factory):
    from emulator import Org
    from tests.connections.emulated import _server_for

    org = Org.from_profile("demo", seed=42)
    server = _server_for(org)
    try:
        settings.SALESFORCE_LOGIN_URL = settings.SALESFORCE_SANDBOX_LOGIN_URL = server.base_url
        settings.SALESFORCE_CLIENT_ID = "emulator-client-id"
        settings.SALESFORCE_CLIENT_SECRET = "emulator-client-secret"
        settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS = ["127.0.0.1"]
        settings.INGESTION = {**settings.INGESTION, "POLL_INITIAL_SECONDS": 0.1}
        tokens = org.issue_tokens("integration@example.com")
        org_id, user_id = tokens["id"].rstrip("/").split("/")[-2:]
        connection = connection_factory(
            login_host=server.base_url,
            instance_url=tokens["instance_url"],
            org_id=org_id,
            sf_user_id=user_id,
            sf_username="integration@example.com",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )
        run = run_sync(connection)
        assert run.status == SyncRun.Status.SUCCEEDED
        live = type("Live", (), {"org": org, "url": server.base_url})
        total = sum(assert_copy_equals_org(live, connection, s) for s in ALL_OBJECTS)
        assert total == run.records_written >= 80_000
    finally:
        server.stop()


def test_rest_read_mode_reads_every_window_without_bulk(live_org, connect_as, settings):
    settings.INGESTION = {**settings.INGESTION, "READ_MODE": "rest", "REST_THRESHOLD": 10}
    connection = connect_as()
    run = run_sync(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert run.bulk_jobs == 0
    assert live_org.org.counters()["jobs_created"] == 0
    for sobject in ALL_OBJECTS:
        assert_copy_equals_org(live_org, connection, sobject)
    live_org.org.apply_random_changes(60, seed=3)  # more rows than REST_THRESHOLD

    run = run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)

    assert run.bulk_jobs == 0
    for sobject in ALL_OBJECTS:
        assert_copy_equals_org(live_org, connection, sobject)
