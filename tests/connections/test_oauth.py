"""The OAuth web-server flow: authorize URL with state and PKCE, code exchange, refresh
(rotation kept), revoke, and every token-endpoint error as a typed exception."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from responses import matchers

from connections.salesforce import oauth
from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceError,
    SalesforceInstanceNotAllowed,
    SalesforceUnavailable,
)
from tests.connections.conftest import LOGIN, error, payload

ALLOWED = (".salesforce.com",)
GATE = oauth.Gate(ALLOWED)
REDIRECT = "https://app.primer.example/connections/oauth/callback/"
CODE = "aPrx82nMYNwxhssbu18miXqdGJ2xZVN4oT2tFg_2QqhFseIQiY8SEUVlSVeEeTiEq1fPkRo.ag=="
TOKEN_URL = f"{LOGIN}/services/oauth2/token"


def test_the_authorize_url_carries_state_pkce_scopes_and_prompt():
    request = oauth.authorization_start(
        login_url=LOGIN, client_id="client-id", redirect_uri=REDIRECT, gate=GATE
    )
    url = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{LOGIN}/services/oauth2/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == "client-id"
    assert query["redirect_uri"] == REDIRECT
    assert query["scope"] == "api refresh_token"
    assert query["state"] == request.state
    assert len(request.state) >= 20
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert query["prompt"] == "login"


def test_each_authorization_gets_a_fresh_state_and_verifier():
    a = oauth.authorization_start(login_url=LOGIN, client_id="c", redirect_uri=REDIRECT, gate=GATE)
    b = oauth.authorization_start(login_url=LOGIN, client_id="c", redirect_uri=REDIRECT, gate=GATE)
    assert a.state != b.state
    assert a.code_verifier != b.code_verifier


def _exchange(**overrides):
    options = {
        "login_url": LOGIN,
        "client_id": "client-id",
        "client_secret": "client-secret",
        "redirect_uri": REDIRECT,
        "code": CODE,
        "code_verifier": "verifier-" + "v" * 50,
        "timeout": 5.0,
        "gate": GATE,
    }
    options.update(overrides)
    return oauth.token_exchange(**options)


def test_the_code_exchange_sends_code_verifier_and_secret_and_reads_the_tokens(sf):
    sf.post(
        TOKEN_URL,
        json=payload("token_response.json"),
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": CODE,
                    "redirect_uri": REDIRECT,
                    "client_id": "client-id",
                    "client_secret": "client-secret",
                    "code_verifier": "verifier-" + "v" * 50,
                }
            )
        ],
    )
    tokens = _exchange()
    assert tokens.instance_url == "https://acme.my.salesforce.com"
    assert tokens.identity_url.endswith("/id/00D5g000004ZtQxEAK/0055g00000BxYzQAAV")
    assert tokens.refresh_token.startswith("5Aep861")
    assert tokens.issued_at_ms == 1708058728442
    assert tokens.scope == "refresh_token api"


def test_an_instance_outside_the_allow_list_is_refused(sf):
    body = dict(payload("token_response.json"), instance_url="https://evil.example.com")
    sf.post(TOKEN_URL, json=body)
    with pytest.raises(SalesforceInstanceNotAllowed):
        _exchange()


def test_an_http_instance_is_refused_even_on_an_allowed_host(sf):
    body = dict(payload("token_response.json"), instance_url="http://acme.my.salesforce.com")
    sf.post(TOKEN_URL, json=body)
    with pytest.raises(SalesforceInstanceNotAllowed):
        _exchange()


def test_a_refresh_without_a_new_refresh_token_is_not_a_rotation(sf):
    sf.post(
        TOKEN_URL,
        json=payload("refresh_response.json"),
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "5Aep861-old",
                    "client_id": "client-id",
                    "client_secret": "client-secret",
                }
            )
        ],
    )
    tokens = oauth.token_refresh(
        login_url=LOGIN,
        client_id="client-id",
        client_secret="client-secret",
        refresh_token="5Aep861-old",
        timeout=5.0,
        gate=GATE,
    )
    assert tokens.refresh_token is None
    assert tokens.access_token == payload("refresh_response.json")["access_token"]


def test_a_rotated_refresh_token_is_returned(sf):
    sf.post(TOKEN_URL, json=payload("refresh_rotated_response.json"))
    tokens = oauth.token_refresh(
        login_url=LOGIN,
        client_id="c",
        client_secret="s",
        refresh_token="5Aep861-old",
        timeout=5.0,
        gate=GATE,
    )
    assert tokens.refresh_token == payload("refresh_rotated_response.json")["refresh_token"]


GRANT_ERRORS = [
    ("oauth_expired", "token_revoked"),
    ("oauth_inactive_user", "inactive_user"),
    ("oauth_authentication_failure", "authentication_failure"),
    ("oauth_not_approved", "not_approved"),
    ("oauth_ip_restricted", "ip_restricted"),
    ("oauth_expired_code", "expired_code"),
    ("oauth_invalid_client_id", "invalid_client"),
    ("oauth_invalid_client", "invalid_client"),
]


@pytest.mark.parametrize(("name", "reason"), GRANT_ERRORS)
def test_token_endpoint_errors_become_auth_errors_with_a_reason(sf, name, reason):
    sf.post(TOKEN_URL, **error(name))
    with pytest.raises(SalesforceAuthError) as caught:
        _exchange()
    assert caught.value.reason == reason
    assert caught.value.status == 400


def test_a_login_service_outage_is_transient(sf):
    sf.post(TOKEN_URL, status=503, body="<html>Maintenance</html>")
    with pytest.raises(SalesforceUnavailable):
        _exchange()


def test_revoke_posts_the_token(sf):
    sf.post(
        f"{LOGIN}/services/oauth2/revoke",
        body="",
        match=[matchers.urlencoded_params_matcher({"token": "5Aep861-old"})],
    )
    assert oauth.token_revoke(login_url=LOGIN, token="5Aep861-old", timeout=5.0, gate=GATE) is True


def test_revoking_an_already_invalid_token_is_not_an_error(sf):
    sf.post(f"{LOGIN}/services/oauth2/revoke", **error("revoke_invalid_token"))
    assert (
        oauth.token_revoke(login_url=LOGIN, token="5Aep861-gone", timeout=5.0, gate=GATE) is False
    )


@pytest.mark.parametrize(
    "login_url", ["http://login.salesforce.com", "ftp://login.salesforce.com", "login"]
)
def test_a_login_host_must_be_https(login_url):
    with pytest.raises(SalesforceError):
        oauth.authorization_start(
            login_url=login_url, client_id="c", redirect_uri=REDIRECT, gate=GATE
        )


def test_plain_http_is_allowed_on_loopback_for_the_emulator():
    request = oauth.authorization_start(
        login_url="http://127.0.0.1:8765",
        client_id="c",
        redirect_uri=REDIRECT,
        gate=oauth.Gate(("127.0.0.1",), loopback_http=True),
    )
    assert request.url.startswith("http://127.0.0.1:8765/services/oauth2/authorize?")
