"""The retry bound (connections/salesforce/retries.py): the client's retries and the engine's
compose, so one result page costs at most TRIES_PER_PAGE requests, whichever layer spends them;
then the run pauses at its checkpoint."""

import pytest

from connections.salesforce.client import SalesforceClient
from connections.salesforce.retries import REQUEST_TRIES, TRIES_PER_PAGE, may_try_again
from ingestion.models import SyncRun
from tests.ingestion.e2e.conftest import run_sync


def _assert_paused_unavailable(run: SyncRun) -> None:
    assert run.status == SyncRun.Status.PAUSED, run.error_message
    assert run.error_code == "salesforce_unavailable"


def test_a_page_failing_every_time_costs_the_bound_and_no_more(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("http_500", rate=1.0, kinds="bulk_results")
    run = run_sync(connection)
    _assert_paused_unavailable(run)
    # Three engine tries of five client tries each.
    assert run.api_calls_by_kind["bulk_results"] == TRIES_PER_PAGE
    assert run.bulk_jobs == 1  # the job is read on after the pause, never re-created


def test_a_page_cut_every_time_gets_the_tries_the_client_did_not_spend(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("cut_stream", after_rows=5, rate=1.0)
    run = run_sync(connection)
    _assert_paused_unavailable(run)
    # Each cut try costs one request; the last one leaves room for a full client try.
    assert run.api_calls_by_kind["bulk_results"] == TRIES_PER_PAGE - REQUEST_TRIES + 1


def test_server_errors_and_cuts_mixed_stay_within_the_bound(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("http_500", rate=0.8, kinds="bulk_results", seed=3)
    live_org.org.faults.set("cut_stream", after_rows=5, rate=1.0)
    run = run_sync(connection)
    _assert_paused_unavailable(run)
    assert REQUEST_TRIES < run.api_calls_by_kind["bulk_results"] <= TRIES_PER_PAGE


@pytest.mark.parametrize("asked", [1, 2, 5, 15, 16, 100])
def test_a_client_never_takes_more_tries_than_the_bound(asked):
    client = SalesforceClient(
        instance_url="https://acme.my.salesforce.com",
        access_token="token",
        api_version="62.0",
        timeout=1,
        retry_attempts=asked,
    )
    assert client.retry_attempts == min(asked, TRIES_PER_PAGE)
    assert may_try_again(spent=0, request_tries=client.retry_attempts)
    assert not may_try_again(spent=1, request_tries=TRIES_PER_PAGE)
