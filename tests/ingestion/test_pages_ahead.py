"""Bulk result pages fetched ahead (API 58.0+, resultPages) while one is written."""

import pytest

from ingestion.models import ObjectCursor, SyncRun
from tests.ingestion.test_sync_engine import _assert_local_copy_equals, _run, _seed


@pytest.fixture
def paged(fake_org, engine_config):
    """A 58.0+ org with one Contact job of four pages: 3, 3, 3 and 1 records."""
    fake_org.api_version = "62.0"
    _seed(fake_org, accounts=0, contacts=10)
    return engine_config.__class__(
        **{**engine_config.__dict__, "page_max_records": 3, "pages_ahead": 2}
    )


def test_pages_are_fetched_ahead_and_each_is_read_once(
    sync_connection, fake_org, paged, monkeypatch
):
    from ingestion.engine import objects

    real_write = objects.write_records
    asked = []  # pages asked for when each page is written

    def write(**kwargs):
        asked.append(fake_org.calls.count("bulk_results"))
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", write)
    run = _run(sync_connection, config=paged)
    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    assert fake_org.calls.count("bulk_results") == 4
    assert fake_org.calls.count("bulk_result_pages") == 1  # five locators a response
    # Every call counted against the run as before: the list is one more.
    assert run.api_calls_by_kind["bulk_results"] == 4
    assert run.api_calls_by_kind["bulk_result_pages"] == 1
    # While each page is written, the two after it are on their way (and no more).
    assert asked == [3, 4, 4, 4]


def test_a_run_killed_while_writing_page_3_of_4_resumes_at_page_3(
    sync_connection, fake_org, paged, monkeypatch
):
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
        _run(sync_connection, config=paged)
    cursor = ObjectCursor.objects.get(sobject="Contact")
    # The checkpoint is the next unwritten page, whatever was fetched ahead of it.
    assert (cursor.job_id, cursor.locator) == ("750000000000000001", "6")

    monkeypatch.setattr(objects, "write_records", real_write)
    fake_org.calls.clear()
    resumed = _run(sync_connection, config=paged)

    assert resumed.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    assert len(fake_org.jobs) == 1
    assert fake_org.calls.count("bulk_results") == 2  # pages 3 and 4, nothing before them
    assert "bulk_create" not in fake_org.calls


@pytest.mark.parametrize("fault", ["result_pages_fail", "result_pages_skew"])
def test_without_a_usable_page_list_the_job_is_read_locator_by_locator(
    sync_connection, fake_org, paged, fault
):
    setattr(fake_org, fault, True)
    run = _run(sync_connection, config=paged)
    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    assert fake_org.calls.count("bulk_result_pages") == 1


def test_a_page_cut_while_fetched_ahead_is_read_again(sync_connection, fake_org, paged):
    fake_org.cut_pages = 2  # the first page and the first page fetched ahead break
    run = _run(sync_connection, config=paged)
    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")


def test_before_api_58_pages_are_read_one_after_another(sync_connection, fake_org, paged):
    fake_org.api_version = "57.0"
    run = _run(sync_connection, config=paged)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert "bulk_result_pages" not in fake_org.calls
    assert fake_org.calls.count("bulk_results") == 4


def test_a_one_page_job_costs_no_list_call(sync_connection, fake_org, paged):
    config = paged.__class__(**{**paged.__dict__, "page_max_records": 50})
    run = _run(sync_connection, config=config)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert "bulk_result_pages" not in fake_org.calls
    assert fake_org.calls.count("bulk_results") == 1


def test_pages_fetched_ahead_carry_over_to_the_next_slice(sync_connection, fake_org, paged):
    config = paged.__class__(**{**paged.__dict__, "slice_seconds": 0})  # a step a slice
    run = _run(sync_connection, config=config)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.slices > 4
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    assert fake_org.calls.count("bulk_results") == 4  # none fetched twice
    assert fake_org.calls.count("bulk_result_pages") == 1
