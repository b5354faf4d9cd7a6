"""The sync engine against a fake org: windows, Bulk jobs, REST, checkpoints and outcomes."""

from datetime import timedelta

import pytest

from ingestion.engine.values import canonical_datetime
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from ingestion.services.runs import sync_run_enqueue
from ingestion.services.sync import sync_run_execute
from ingestion.signals import initial_sync_completed


def _seed(org, accounts=5, contacts=7):
    for n in range(accounts):
        org.upsert(
            "Account",
            Name=f"Acme {n}",
            Industry="Technology" if n % 2 else None,
            AnnualRevenue=1000.5 * n,
            NumberOfEmployees=10 * n,
            BillingCity="Paris" if n % 3 else None,
            BillingCountry="France",
            BillingLatitude=48.85,
        )
    for n in range(contacts):
        org.upsert(
            "Contact",
            Name=f"Ada {n}",
            Email=f"ada{n}@acme.example" if n % 4 else None,
            Birthdate=f"1990-01-0{n % 9 + 1}",
            Interests__c=["Golf", "Chess"] if n % 2 else None,
            DoNotCall=bool(n % 2),
        )


def _run(connection, kind=SyncRun.Kind.INITIAL, config=None, **kwargs):
    run = sync_run_enqueue(connection=connection, kind=kind, trigger=SyncRun.Trigger.COMMAND)
    sync_run_execute(run_id=run.pk, inline=True, config=config, **kwargs)
    run.refresh_from_db()
    return run


def _typed(record: dict) -> dict:
    """The source record as the engine should store it."""
    out = {}
    for key, value in record.items():
        if key == "SystemModstamp":
            value = canonical_datetime(value)
        out[key] = value
    return out


def _assert_local_copy_equals(connection, org, sobject):
    stored = {
        r.sf_id: r for r in IngestedRecord.objects.filter(connection=connection, sobject=sobject)
    }
    assert set(stored) == set(org.records[sobject])
    for sf_id, source in org.records[sobject].items():
        local = stored[sf_id]
        assert local.is_deleted == source["IsDeleted"]
        for key, value in _typed(source).items():
            assert local.data.get(key) == value, (sf_id, key)


def test_an_initial_sync_stores_every_record_once_typed(
    sync_connection, fake_org, engine_config, django_capture_on_commit_callbacks
):
    _seed(fake_org)
    completed = []
    initial_sync_completed.connect(lambda **kw: completed.append(kw["connection"].pk), weak=False)
    with django_capture_on_commit_callbacks(execute=True):
        run = _run(sync_connection, config=engine_config)
    assert run.status == SyncRun.Status.SUCCEEDED
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)
    contact = IngestedRecord.objects.filter(
        sobject="Contact", data__Email="ada1@acme.example"
    ).get()
    assert contact.data["Interests__c"] == ["Golf", "Chess"]
    assert contact.data["DoNotCall"] is True
    assert contact.data["Birthdate"] == "1990-01-02"
    sync_connection.refresh_from_db()
    assert sync_connection.initial_sync_completed_at is not None
    assert completed == [sync_connection.pk]


def test_compound_addresses_are_rebuilt_from_their_components(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    account = IngestedRecord.objects.get(sobject="Account", data__Name="Acme 1")
    assert account.data["BillingAddress"] == {
        "street": None,
        "city": "Paris",
        "state": None,
        "postalCode": None,
        "country": "France",
        "latitude": 48.85,
        "longitude": None,
        "geocodeAccuracy": None,
    }
    assert account.data["AnnualRevenue"] == 1000.5
    assert account.data["NumberOfEmployees"] == 10


def test_the_initial_load_reads_over_bulk_and_counts_its_calls(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    run = _run(sync_connection, config=engine_config)
    assert run.bulk_jobs == 2
    assert run.api_calls == len(fake_org.calls)
    assert run.api_calls_by_kind == {
        "describe": 2,
        "count": 2,
        "bulk_create": 2,
        "bulk_poll": 2,
        "bulk_results": 2,
    }
    assert run.records_written == 12
    assert run.object_stats["Contact"]["records_written"] == 7


def test_an_incremental_sync_makes_the_copy_equal_to_the_org(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    contacts = list(fake_org.records["Contact"])
    fake_org.upsert("Contact", contacts[0], Email="changed@acme.example")
    fake_org.delete("Contact", contacts[1])
    fake_org.upsert("Contact", Name="New person", Email="new@acme.example")
    fake_org.upsert("Account", next(iter(fake_org.records["Account"])), Industry="Retail")
    fake_org.calls.clear()

    run = _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)

    assert run.status == SyncRun.Status.SUCCEEDED
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)
    deleted = IngestedRecord.objects.get(sf_id=contacts[1])
    assert deleted.is_deleted
    assert deleted.deleted_at is not None
    # A small window costs a describe and one REST page per object: no job, no polls.
    assert sorted(fake_org.calls) == ["describe", "describe", "query", "query"]
    assert run.bulk_jobs == 0


def test_an_undelete_is_picked_up(sync_connection, fake_org, engine_config):
    _seed(fake_org)
    gone = list(fake_org.records["Contact"])[2]
    fake_org.delete("Contact", gone)
    _run(sync_connection, config=engine_config)
    assert IngestedRecord.objects.get(sf_id=gone).is_deleted
    fake_org.upsert("Contact", gone, IsDeleted=False)
    _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
    record = IngestedRecord.objects.get(sf_id=gone)
    assert (record.is_deleted, record.deleted_at) == (False, None)


def test_a_late_commit_inside_the_lookback_is_not_missed(sync_connection, fake_org, engine_config):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    watermark = ObjectCursor.objects.get(sobject="Contact").watermark
    # Salesforce commits a row stamped five minutes before the window we already closed.
    late = fake_org.upsert("Contact", Name="Late")
    fake_org.records["Contact"][late]["SystemModstamp"] = (
        watermark - timedelta(minutes=5)
    ).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
    assert IngestedRecord.objects.filter(sf_id=late).exists()


def test_a_large_incremental_window_goes_to_bulk(sync_connection, fake_org, engine_config):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    for n in range(30):
        fake_org.upsert("Contact", Name=f"Batch {n}")
    config = engine_config.__class__(**{**engine_config.__dict__, "rest_threshold": 10})
    run = _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=config)
    assert run.api_calls_by_kind.get("bulk_create") == 1
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")


def test_big_objects_are_split_into_several_windows(sync_connection, fake_org, engine_config):
    _seed(fake_org, accounts=2, contacts=40)
    config = engine_config.__class__(
        **{**engine_config.__dict__, "max_window_records": 10, "page_max_records": 4}
    )
    run = _run(sync_connection, config=config)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.api_calls_by_kind["bulk_create"] >= 1 + 4
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    cursor = ObjectCursor.objects.get(sobject="Contact")
    assert cursor.initial_load_complete
    assert cursor.pending_windows == []


def test_an_unreadable_object_makes_the_run_partial_and_says_why(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    fake_org.unreadable.add("Account")
    run = _run(sync_connection, config=engine_config)
    assert run.status == SyncRun.Status.PARTIAL
    assert run.object_stats["Account"]["status"] == "unreadable"
    assert "Account" in run.error_message
    assert "Grant Read" in run.error_message
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")


def test_the_initial_sync_completes_without_unreadable_objects(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    fake_org.unreadable.add("Account")
    _run(sync_connection, config=engine_config)
    sync_connection.refresh_from_db()
    assert sync_connection.initial_sync_completed_at is not None


def test_a_failed_job_is_rerun_once_then_its_window_split(sync_connection, fake_org, engine_config):
    _seed(fake_org, accounts=0, contacts=6)
    fake_org.fail_jobs = 2
    run = _run(sync_connection, config=engine_config)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.api_calls_by_kind["bulk_create"] == 4  # failed, re-run failed, two halves
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")


def test_a_page_cut_mid_stream_is_read_again_from_its_locator(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org, accounts=0, contacts=12)
    fake_org.cut_pages = 1
    config = engine_config.__class__(**{**engine_config.__dict__, "page_max_records": 5})
    run = _run(sync_connection, config=config)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.api_calls_by_kind["bulk_create"] == 1
    assert run.api_calls_by_kind["bulk_results"] == 3 + 1
    assert IngestedRecord.objects.filter(sobject="Contact").count() == 12


def test_a_field_removed_between_describe_and_query_is_replanned(
    sync_connection, fake_org, engine_config, monkeypatch
):
    _seed(fake_org)
    from tests.ingestion.fake_salesforce import FakeClient

    real_describe = FakeClient.describe

    def describe_then_drop(self, sobject):
        body = real_describe(self, sobject)
        if sobject == "Contact" and any(
            f["name"] == "Birthdate" for f in fake_org.schema["Contact"]
        ):
            fake_org.schema["Contact"] = [
                f for f in fake_org.schema["Contact"] if f["name"] != "Birthdate"
            ]
        return body

    monkeypatch.setattr(FakeClient, "describe", describe_then_drop)
    run = _run(sync_connection, config=engine_config)
    assert run.status == SyncRun.Status.SUCCEEDED
    contact = IngestedRecord.objects.filter(sobject="Contact").first()
    assert "Birthdate" not in contact.data
    assert "Birthdate" in ObjectCursor.objects.get(sobject="Contact").removed_fields


def test_the_daily_limit_pauses_the_run_which_resumes_from_its_checkpoint(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    fake_org.rate_limited_after = 5
    run = _run(sync_connection, config=engine_config)
    assert run.status == SyncRun.Status.PAUSED
    assert run.resume_at is not None
    assert "Resumes at" in run.error_message
    fake_org.rate_limited_after = None
    resumed = _run(sync_connection, config=engine_config)
    assert resumed.pk == run.pk
    assert resumed.status == SyncRun.Status.SUCCEEDED
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


@pytest.mark.parametrize("fail_after_pages", [1, 2, 3])
def test_a_sync_interrupted_after_a_page_resumes_from_its_checkpoint(
    sync_connection, fake_org, engine_config, monkeypatch, fail_after_pages
):
    _seed(fake_org, accounts=3, contacts=10)
    config = engine_config.__class__(**{**engine_config.__dict__, "page_max_records": 3})
    from ingestion.engine import objects

    real_write = objects.write_records
    pages = {"n": 0}

    def crashing_write(**kwargs):
        pages["n"] += 1
        if pages["n"] == fail_after_pages + 1:
            raise RuntimeError("worker killed")
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", crashing_write)
    with pytest.raises(RuntimeError):
        _run(sync_connection, config=config)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    jobs_before = len(fake_org.jobs)

    monkeypatch.setattr(objects, "write_records", real_write)
    resumed = _run(sync_connection, config=config)
    assert resumed.status == SyncRun.Status.SUCCEEDED
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)
    # Both jobs were made before the first page: the resumed run reads on with them, from the
    # committed locators, and re-reads only the page the worker had in hand (invariant 6).
    assert len(fake_org.jobs) == jobs_before
    assert "bulk_create" not in resumed.api_calls_by_kind
    pages = 1 + 4  # Account: 3 records in one page; Contact: 10 records in pages of 3
    assert fake_org.calls.count("bulk_results") == pages + 1


def test_a_resumed_run_reads_on_from_the_committed_page_with_the_same_job(
    sync_connection, fake_org, engine_config, monkeypatch
):
    _seed(fake_org, accounts=0, contacts=10)  # one job of four pages: 3, 3, 3 and 1 records
    config = engine_config.__class__(**{**engine_config.__dict__, "page_max_records": 3})
    from ingestion.engine import objects

    real_write = objects.write_records
    written = []

    def killed_at_the_third_page(**kwargs):
        if len(written) == 2:
            raise RuntimeError("worker killed")
        written.append(kwargs["sobject"])
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", killed_at_the_third_page)
    with pytest.raises(RuntimeError):
        _run(sync_connection, config=config)
    assert fake_org.calls.count("bulk_results") == 3
    cursor = ObjectCursor.objects.get(sobject="Contact")
    assert (cursor.job_id, cursor.locator) == ("750000000000000001", "6")

    monkeypatch.setattr(objects, "write_records", real_write)
    fake_org.calls.clear()
    resumed = _run(sync_connection, config=config)

    assert resumed.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    assert len(fake_org.jobs) == 1
    # The third page again (it was never committed) and the fourth: nothing before them.
    assert fake_org.calls.count("bulk_results") == 2
    assert "bulk_create" not in fake_org.calls


def test_a_run_works_in_slices_and_continues(sync_connection, fake_org, engine_config):
    _seed(fake_org, accounts=3, contacts=10)
    config = engine_config.__class__(
        **{**engine_config.__dict__, "slice_seconds": 0, "page_max_records": 2}
    )
    run = _run(sync_connection, config=config)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.slices > 3
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    # Each slice reads on from the page the last one committed, with the same two jobs.
    assert run.api_calls_by_kind["bulk_results"] == 2 + 5  # pages of 2: 3 Accounts, 10 Contacts
    assert run.api_calls_by_kind["bulk_create"] == 2


def test_bulk_jobs_of_the_same_org_through_another_connection_use_up_the_cap(
    sync_connection, fake_org, engine_config, connection_factory
):
    _seed(fake_org)
    other = connection_factory(org_id=sync_connection.org_id)
    for n in range(3):
        ObjectCursor.objects.create(connection=other, sobject=f"Obj{n}", job_id=f"750{n:015d}")
    config = engine_config.__class__(**{**engine_config.__dict__, "slice_seconds": 0.2})
    run = sync_run_enqueue(
        connection=sync_connection, kind=SyncRun.Kind.INITIAL, trigger=SyncRun.Trigger.COMMAND
    )
    sync_run_execute(run_id=run.pk, config=config)  # one slice
    assert "bulk_create" not in fake_org.calls  # the org's three job slots are taken
    ObjectCursor.objects.filter(connection=other).update(job_id="")
    sync_run_execute(run_id=run.pk, inline=True, config=engine_config)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED


def test_a_run_whose_final_commit_fails_is_marked_failed_and_the_next_one_finishes(
    sync_connection, fake_org, engine_config, monkeypatch
):
    """Not left "running" with a lease nobody renews until the stale-run takeover."""
    from django.db import OperationalError

    from ingestion.services import sync

    _seed(fake_org)
    real_load_finish = sync.load_finish

    def deadlocked(**kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(sync, "load_finish", deadlocked)
    with pytest.raises(OperationalError):
        _run(sync_connection, config=engine_config)
    failed = SyncRun.objects.get()
    assert (failed.status, failed.error_code) == (SyncRun.Status.FAILED, "internal_error")
    assert failed.lease_token == ""
    sync_connection.refresh_from_db()
    assert sync_connection.initial_sync_completed_at is None

    monkeypatch.setattr(sync, "load_finish", real_load_finish)
    assert _run(sync_connection, config=engine_config).status == SyncRun.Status.SUCCEEDED
    sync_connection.refresh_from_db()
    assert sync_connection.initial_sync_completed_at is not None
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)
