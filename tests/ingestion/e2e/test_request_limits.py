"""Salesforce's limits reached mid-sync: an oversized request (414/431) and the daily Bulk
query-job cap. Neither fails a run as ``internal_error``."""

from datetime import UTC, datetime, timedelta

import pytest

from ingestion.models import ObjectCursor, SyncRun
from tests.connections.emulated import start_emulator
from tests.ingestion.e2e.conftest import assert_copy_equals_org, run_sync


def _quick(settings, **more):
    settings.INGESTION = {
        **settings.INGESTION,
        "POLL_INITIAL_SECONDS": 0.05,
        "POLL_MAX_SECONDS": 0.2,
        "RETRY_MAX_WAIT_SECONDS": 0.05,
        **more,
    }


@pytest.fixture
def small_front_door(settings):
    """An org whose front door takes requests of 1,000 bytes at most: the engine's field
    groups (sized for Salesforce's 16,384) do not keep a plain Account query under it."""
    _quick(settings)
    emulated = start_emulator(settings, max_request_bytes=1_000)
    yield emulated
    emulated.server.stop()


def test_a_rest_window_refused_as_too_large_is_read_through_bulk(
    small_front_door, connect_as_factory
):
    org = small_front_door.org
    connection = connect_as_factory(small_front_door, objects=["Account"])
    run_sync(connection)
    org.apply_random_changes(50, seed=3)

    run = run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert org.counters()["refused_requests"] == {"414": 1}
    assert run.bulk_jobs == 1  # the query went in the job's POST body
    assert_copy_equals_org(small_front_door, connection, "Account")


def test_a_request_too_large_without_bulk_fails_the_object_with_its_own_code(
    small_front_door, connect_as_factory, settings
):
    settings.INGESTION = {**settings.INGESTION, "READ_MODE": "rest"}
    connection = connect_as_factory(small_front_door, objects=["Account"])

    run = run_sync(connection)

    assert run.status == SyncRun.Status.FAILED
    assert run.error_code == "objects_skipped"  # not internal_error
    stats = run.object_stats["Account"]
    assert stats["error_code"] == "request_too_large"
    assert "16,384 bytes" in stats["error"]
    assert "too large" in ObjectCursor.objects.get(sobject="Account").last_error


def _created(job) -> datetime:
    return datetime.fromtimestamp(job.created, tz=UTC).replace(
        microsecond=int(job.created * 1000) % 1000 * 1000
    )


def test_the_daily_bulk_job_cap_pauses_the_run_until_its_24_hours_roll(
    settings, connect_as_factory
):
    _quick(settings, MAX_BULK_JOBS=1)
    emulated = start_emulator(settings, bulk_daily_jobs=1)
    try:
        connection = connect_as_factory(emulated, objects=["Account", "Contact"])
        run = run_sync(connection)
        (job,) = emulated.org.jobs.jobs.values()
    finally:
        emulated.server.stop()

    assert run.status == SyncRun.Status.PAUSED
    assert run.error_code == "bulk_job_cap"
    assert "daily Bulk API query-job cap (1 jobs in any 24 hours" in run.error_message
    assert "Max bulk v2 query jobs (1) per 24 hrs has been reached" in run.error_message
    # From the org's job list: the one job counted turns a day old then (not a day from now).
    assert run.resume_at == _created(job) + timedelta(hours=24)
    assert f"Resumes at {run.resume_at:%Y-%m-%d %H:%M} UTC." in run.error_message
    assert ObjectCursor.objects.get(sobject="Account").initial_load_complete
