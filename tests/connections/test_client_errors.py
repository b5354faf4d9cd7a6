"""Every Salesforce error response becomes the right typed exception, transient or permanent."""

import pytest

from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceBulkJobCapReached,
    SalesforceError,
    SalesforceNotFound,
    SalesforcePermissionError,
    SalesforceQueryError,
    SalesforceRateLimited,
    SalesforceUnavailable,
)
from tests.connections.conftest import API, error

CASES = [
    ("total_requests", SalesforceRateLimited, "REQUEST_LIMIT_EXCEEDED"),
    ("bulk_limit", SalesforceBulkJobCapReached, "LIMIT_EXCEEDED"),
    ("api_disabled_user", SalesforcePermissionError, "API_CURRENTLY_DISABLED"),
    ("api_disabled_org", SalesforcePermissionError, "API_DISABLED_FOR_ORG"),
    ("insufficient_access", SalesforcePermissionError, "INSUFFICIENT_ACCESS_OR_READONLY"),
    ("app_blocked", SalesforceAuthError, "OAUTH_APP_BLOCKED"),
    ("not_found", SalesforceNotFound, "NOT_FOUND"),
    ("malformed_query", SalesforceQueryError, "MALFORMED_QUERY"),
    ("invalid_field", SalesforceQueryError, "INVALID_FIELD"),
    ("query_timeout", SalesforceQueryError, "QUERY_TIMEOUT"),
    ("bulk_compound", SalesforceQueryError, "API_ERROR"),
    ("bulk_invalid_entity", SalesforceQueryError, "INVALIDENTITY"),
    ("job_not_complete", SalesforceError, "JOB_NOT_COMPLETE"),
]


@pytest.mark.parametrize(("name", "expected", "code"), CASES, ids=[c[0] for c in CASES])
def test_it_maps_each_permanent_error_to_its_class(sf, make_client, name, expected, code):
    sf.get(f"{API}/limits", **error(name))
    with pytest.raises(expected) as caught:
        make_client().limits()
    assert type(caught.value) is expected
    assert caught.value.error_code == code
    assert caught.value.status == error(name)["status"]
    assert caught.value.url == "/services/data/v62.0/limits"


TRANSIENT = ["server_unavailable", "unknown_exception", "unable_to_lock_row", "concurrent_requests"]


@pytest.mark.parametrize("name", TRANSIENT)
def test_it_maps_transient_errors_to_unavailable(sf, make_client, name):
    sf.get(f"{API}/limits", **error(name))
    with pytest.raises(SalesforceUnavailable) as caught:
        make_client(retry_attempts=1).limits()
    assert caught.value.permanent is False


def test_the_daily_limit_is_not_permanent_and_says_when_to_resume(sf, make_client):
    sf.get(f"{API}/limits", **error("total_requests"))
    with pytest.raises(SalesforceRateLimited) as caught:
        make_client().limits()
    assert caught.value.permanent is False
    assert caught.value.resume_at is not None


def test_an_app_blocked_by_the_admin_is_an_auth_error_with_its_reason(sf, make_client):
    sf.get(f"{API}/limits", **error("app_blocked"))
    with pytest.raises(SalesforceAuthError) as caught:
        make_client().limits()
    assert caught.value.reason == "app_blocked"


def test_api_disabled_for_the_user_carries_its_reason(sf, make_client):
    sf.get(f"{API}/limits", **error("api_disabled_user"))
    with pytest.raises(SalesforcePermissionError) as caught:
        make_client().limits()
    assert caught.value.reason == "api_disabled"


def test_a_timeout_is_transient(sf, make_client):
    import requests

    sf.get(f"{API}/limits", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(SalesforceUnavailable) as caught:
        make_client(retry_attempts=1).limits()
    assert caught.value.error_code == "TIMEOUT"


def test_a_connection_reset_is_transient(sf, make_client):
    import requests

    sf.get(f"{API}/limits", body=requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(SalesforceUnavailable) as caught:
        make_client(retry_attempts=1).limits()
    assert caught.value.error_code == "CONNECTION_ERROR"
