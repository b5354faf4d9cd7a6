"""On 401 INVALID_SESSION_ID the client refreshes exactly once and retries exactly once."""

import pytest
from responses import matchers

from connections.salesforce.exceptions import SalesforceAuthError
from tests.connections.conftest import ACCESS_TOKEN, API, LIMIT_INFO, error, payload

NEW_TOKEN = "00D5g000004ZtQx!AQ8AQFreshAccessToken"


def test_it_refreshes_once_and_retries_with_the_new_token(sf, make_client):
    sf.get(f"{API}/limits", **error("invalid_session"))
    sf.get(
        f"{API}/limits",
        json=payload("limits.json"),
        headers=LIMIT_INFO,
        match=[matchers.header_matcher({"Authorization": f"Bearer {NEW_TOKEN}"})],
    )
    refreshes = []
    client = make_client(refresh=lambda: refreshes.append(1) or NEW_TOKEN)

    assert client.limits()["DailyApiRequests"]["Max"] == 15000
    assert refreshes == [1]
    assert sf.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert len(sf.calls) == 2


def test_a_second_401_after_the_refresh_is_an_auth_error(sf, make_client):
    sf.get(f"{API}/limits", **error("invalid_session"))
    sf.get(f"{API}/limits", **error("invalid_session"))
    refreshes = []
    client = make_client(refresh=lambda: refreshes.append(1) or NEW_TOKEN)

    with pytest.raises(SalesforceAuthError) as caught:
        client.limits()
    assert refreshes == [1]
    assert caught.value.reason == "session_invalid"
    assert len(sf.calls) == 2


def test_later_requests_use_the_refreshed_token(sf, make_client):
    sf.get(f"{API}/limits", **error("invalid_session"))
    sf.get(f"{API}/limits", json=payload("limits.json"))
    sf.get(
        f"{API}/sobjects",
        json=payload("describe_global.json"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {NEW_TOKEN}"})],
    )
    client = make_client(refresh=lambda: NEW_TOKEN)
    client.limits()
    client.describe_global()


def test_a_high_assurance_session_is_not_refreshed_in_a_loop(sf, make_client):
    sf.get(f"{API}/limits", **error("high_assurance"))
    refreshes = []
    client = make_client(refresh=lambda: refreshes.append(1) or NEW_TOKEN)

    with pytest.raises(SalesforceAuthError) as caught:
        client.limits()
    assert caught.value.reason == "high_assurance"
    assert refreshes == []  # another token of the same session level would fail the same way


def test_a_failed_refresh_surfaces_as_the_auth_error_it_raised(sf, make_client):
    sf.get(f"{API}/limits", **error("invalid_session"))

    def refresh():
        raise SalesforceAuthError("expired access/refresh token", reason="token_revoked")

    with pytest.raises(SalesforceAuthError) as caught:
        make_client(refresh=refresh).limits()
    assert caught.value.reason == "token_revoked"


def test_without_a_refresh_callback_a_401_is_an_auth_error(sf, make_client):
    sf.get(f"{API}/limits", **error("invalid_session"))
    with pytest.raises(SalesforceAuthError):
        make_client().limits()
