"""Refusals that are not ordinary API errors: Salesforce's front door turning away an oversized
request (414 / 431, HTML bodies), and Bulk API 2.0's rolling daily query-job cap."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connections.salesforce.errors import bulk_job_cap_resets_at
from connections.salesforce.exceptions import (
    SalesforceBulkJobCapReached,
    SalesforceRateLimited,
    SalesforceRequestTooLarge,
)
from tests.connections.conftest import API

# The body Salesforce sends with 414 (simple-salesforce issue #271, jsforce issue #1134).
URI_TOO_LONG = "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>"
HEADERS_TOO_LARGE = "<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>"
HTML = "text/html;charset=iso-8859-1"
JOB_CAP = [
    {
        "message": "Max bulk v2 query jobs (10000) per 24 hrs has been reached",
        "errorCode": "LIMIT_EXCEEDED",
    }
]


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (414, URI_TOO_LONG, "URI_TOO_LONG"),
        (431, HEADERS_TOO_LARGE, "REQUEST_HEADER_FIELDS_TOO_LARGE"),
    ],
)
def test_an_oversized_request_is_a_permanent_typed_error_sent_once(
    sf, make_client, status, body, code
):
    fields = ", ".join(f"Field_{n:03d}__c" for n in range(1200))
    call = sf.get(f"{API}/query", status=status, body=body, content_type=HTML)
    with pytest.raises(SalesforceRequestTooLarge) as caught:
        list(make_client(retry_attempts=3).query(f"SELECT {fields} FROM Account"))
    error = caught.value
    assert error.permanent is True
    assert (error.status, error.error_code) == (status, code)
    assert error.url == "/services/data/v62.0/query"
    assert "16,384 bytes" in str(error)
    assert "<h1>" not in str(error)
    assert call.call_count == 1


def test_the_bulk_job_cap_is_a_rate_limit_that_says_when_it_has_surely_lifted(sf, make_client):
    sf.post(f"{API}/jobs/query", status=400, json=JOB_CAP)
    before = datetime.now(UTC)
    with pytest.raises(SalesforceBulkJobCapReached) as caught:
        make_client().bulk_create_query_job("SELECT Id FROM Account")
    error = caught.value
    assert isinstance(error, SalesforceRateLimited)
    assert error.permanent is False
    assert error.error_code == "LIMIT_EXCEEDED"
    assert before + timedelta(hours=24) <= error.resume_at
    assert error.resume_at <= datetime.now(UTC) + timedelta(hours=24)


def test_the_result_storage_cap_is_a_plain_rate_limit(sf, make_client):
    message = "Max bulk v2 query result size stored (1000000000) kb per 24 hrs has been exceeded"
    sf.post(
        f"{API}/jobs/query", status=400, json=[{"message": message, "errorCode": "LIMIT_EXCEEDED"}]
    )
    with pytest.raises(SalesforceRateLimited) as caught:
        make_client().bulk_create_query_job("SELECT Id FROM Account")
    assert type(caught.value) is SalesforceRateLimited


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_the_cap_lifts_a_day_after_the_job_that_must_roll_off():
    created = [NOW - timedelta(hours=h) for h in (30, 20, 10, 5, 1)]
    # Four jobs in the window, cap 3: two must roll off, the older at -20 h, then -10 h.
    assert bulk_job_cap_resets_at(created, 3, NOW) == NOW + timedelta(hours=14)
    assert bulk_job_cap_resets_at(created, 4, NOW) == NOW + timedelta(hours=4)
    assert bulk_job_cap_resets_at(created, 5, NOW) == NOW


@given(st.lists(st.integers(min_value=0, max_value=48 * 60), max_size=40), st.integers(1, 20))
def test_at_the_reset_time_fewer_jobs_than_the_cap_are_in_the_window(minutes_ago, cap):
    created = [NOW - timedelta(minutes=m) for m in minutes_ago]
    resets = bulk_job_cap_resets_at(created, cap, NOW)
    assert resets >= NOW

    def in_window(at):
        return sum(1 for t in created if at - timedelta(hours=24) < t <= at)

    assert in_window(resets) < cap
    if resets > NOW:
        assert in_window(resets - timedelta(seconds=1)) >= cap
