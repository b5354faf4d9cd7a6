"""The next window's Bulk job is created while this window's pages are read."""

import pytest

from ingestion.engine.state import Checkpoint
from ingestion.models import ObjectCursor, SyncRun
from tests.ingestion.test_sync_engine import _assert_local_copy_equals, _run, _seed


@pytest.fixture
def windowed(fake_org, engine_config):
    """Contact in three windows (30 records, at most 10 a window), one page each."""
    _seed(fake_org, accounts=0, contacts=30)
    return engine_config.__class__(
        **{**engine_config.__dict__, "max_window_records": 10, "page_max_records": 50}
    )


def test_the_next_windows_job_exists_before_this_windows_rows_are_written(
    sync_connection, fake_org, windowed, monkeypatch
):
    from ingestion.engine import objects

    real_write = objects.write_records
    jobs_when_written = []

    def write(**kwargs):
        jobs_when_written.append(len(fake_org.jobs))
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", write)
    run = _run(sync_connection, config=windowed)
    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    windows = run.api_calls_by_kind["bulk_create"]
    assert windows >= 3
    assert len(fake_org.jobs) == windows  # one job a window, none twice
    # While window n is written, window n+1's job is already at Salesforce.
    assert jobs_when_written == [min(n + 2, windows) for n in range(windows)]


def test_a_run_killed_after_making_a_job_ahead_resumes_with_it(
    sync_connection, fake_org, windowed, monkeypatch
):
    from ingestion.engine import objects

    real_write = objects.write_records

    def killed(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(objects, "write_records", killed)
    with pytest.raises(RuntimeError):
        _run(sync_connection, config=windowed)
    checkpoint = Checkpoint.load(ObjectCursor.objects.get(sobject="Contact"))
    (ahead,) = checkpoint.jobs_ahead.values()  # committed with the first job's completion
    jobs_before = set(fake_org.jobs)
    assert ahead[0] in jobs_before

    monkeypatch.setattr(objects, "write_records", real_write)
    fake_org.calls.clear()
    resumed = _run(sync_connection, config=windowed)
    assert resumed.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    # The job made ahead was polled and read, never made again: one new job per window after.
    new_jobs = set(fake_org.jobs) - jobs_before
    windows = len(jobs_before) + len(new_jobs)
    assert fake_org.calls.count("bulk_create") == len(new_jobs) == windows - 2


def test_a_job_made_ahead_is_kept_beside_its_window(sync_connection, fake_org, windowed):
    cursor = ObjectCursor(connection=sync_connection, sobject="Contact")
    checkpoint = Checkpoint()
    from datetime import UTC, datetime

    from ingestion.engine.windows import Window

    a, b, c = (Window(None, datetime(2026, 1, d, tzinfo=UTC)) for d in (1, 2, 3))
    checkpoint.open_windows([a, b, c], "bulk")
    made = datetime(2026, 1, 1, 12, tzinfo=UTC)
    checkpoint.job_created_ahead("750B", made)
    checkpoint.split_window(a, Window(datetime(2025, 12, 31, tzinfo=UTC), a.end))
    checkpoint.store(cursor)
    loaded = Checkpoint.load(cursor)
    assert loaded.jobs_ahead == {b: ("750B", made)}
    loaded.next_window()  # the split half: no job of its own yet
    assert loaded.job_id == ""
    loaded.next_window()
    assert (loaded.window, loaded.job_id, loaded.job_created_at) == (b, "750B", made)


def test_the_daily_job_cap_met_ahead_still_lets_this_windows_pages_be_read(
    sync_connection, fake_org, windowed, monkeypatch
):
    """A job made ahead is a head start only: the cap refusing it must not hold back the
    window whose job is done (the run would otherwise wait a day to write finished results)."""
    from connections.salesforce.exceptions import SalesforceBulkJobCapReached
    from tests.ingestion.fake_salesforce import FakeClient

    real_create = FakeClient.bulk_create_query_job
    made = []

    def capped(self, soql, **kwargs):
        if made:
            raise SalesforceBulkJobCapReached(
                "Max bulk v2 query jobs per 24 hrs has been reached", status=400
            )
        made.append(soql)
        return real_create(self, soql, **kwargs)

    monkeypatch.setattr(FakeClient, "bulk_create_query_job", capped)
    run = _run(sync_connection, config=windowed)
    assert run.status == SyncRun.Status.PAUSED
    assert run.error_code == "bulk_job_cap"
    # Window 1 is written (on PostgreSQL into the load table, attached when the load ends).
    assert run.records_written >= 10
