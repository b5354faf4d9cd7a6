"""The retry bound (connections/salesforce/retries.py): the client's retries and the engine's
compose, so one result page costs at most TRIES_PER_PAGE requests, whichever layer spends them;
then the run pauses at its checkpoint."""

import pytest

from connections.salesforce.client import SalesforceClient
from connections.salesforce.retries import REQUEST_TRIES, TRIES_PER_PAGE, page_tries
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
    # The client tries each request REQUEST_TRIES times, the engine the page page_tries times.
    assert run.api_calls_by_kind["bulk_results"] == TRIES_PER_PAGE
    assert run.bulk_jobs == 1  # the job is read on after the pause, never re-created


def test_a_page_cut_every_time_is_tried_by_the_engine_alone(live_org, connect_as):
    connection = connect_as(objects=["Contact"])
    live_org.org.faults.set("cut_stream", after_rows=5, rate=1.0)
    run = run_sync(connection)
    _assert_paused_unavailable(run)
    assert run.api_calls_by_kind["bulk_results"] == page_tries(REQUEST_TRIES)


@pytest.mark.parametrize("asked", [1, 2, 3, 4, 5, 7, 15, 16, 100])
def test_the_layers_stay_within_the_bound_whatever_the_client_is_given(asked):
    client = SalesforceClient(
        instance_url="https://acme.my.salesforce.com",
        access_token="token",
        api_version="62.0",
        timeout=1,
        retry_attempts=asked,
    )
    assert 1 <= client.retry_attempts <= TRIES_PER_PAGE
    assert client.retry_attempts * page_tries(client.retry_attempts) <= TRIES_PER_PAGE
    assert page_tries(client.retry_attempts) >= 1
