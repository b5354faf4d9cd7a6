"""Tokens never appear in logs, exception messages or reprs."""

import logging

import pytest

from connections.salesforce import oauth
from connections.salesforce.exceptions import SalesforceError
from tests.connections.conftest import ACCESS_TOKEN, API, LOGIN, error, payload

FRESH = payload("refresh_response.json")["access_token"]
REFRESH = "5Aep861RefreshTokenThatMustNeverLeak"
SECRET = "client-secret-that-must-never-leak"


def _refresh():
    return oauth.token_refresh(
        login_url=LOGIN,
        client_id="client-id",
        client_secret=SECRET,
        refresh_token=REFRESH,
        timeout=5.0,
        gate=oauth.Gate((".salesforce.com",)),
    ).access_token


def test_no_token_reaches_the_logs_even_at_debug(sf, make_client, caplog):
    sf.get(f"{API}/limits", **error("invalid_session"))
    sf.post(f"{LOGIN}/services/oauth2/token", json=payload("refresh_response.json"))
    sf.get(f"{API}/limits", **error("server_unavailable"))
    sf.get(f"{API}/limits", **error("invalid_session"))
    caplog.set_level(logging.DEBUG)

    client = make_client(refresh=_refresh)
    with pytest.raises(SalesforceError) as caught:
        client.limits()

    for secret in (ACCESS_TOKEN, FRESH, REFRESH, SECRET):
        assert secret not in caplog.text
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)
    assert "retry 1" in caplog.text  # the log was on, and said something


def test_reprs_hide_tokens(make_client):
    client = make_client()
    assert ACCESS_TOKEN not in repr(client)
    tokens = oauth._token_set(payload("token_response.json"), oauth.Gate((".salesforce.com",)))
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)
    request = oauth.authorization_start(
        login_url=LOGIN,
        client_id="client-id",
        redirect_uri="https://app.example/cb",
        gate=oauth.Gate((".salesforce.com",)),
    )
    assert request.code_verifier not in repr(request)


def test_a_failed_refresh_message_holds_no_token(sf):
    sf.post(f"{LOGIN}/services/oauth2/token", **error("oauth_expired"))
    with pytest.raises(SalesforceError) as caught:
        _refresh()
    assert REFRESH not in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "expired access/refresh token" in str(caught.value)
