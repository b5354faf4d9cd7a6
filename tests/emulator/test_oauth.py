"""OAuth over real HTTP: the authorize page, code + PKCE + state, refresh, password, revoke,
identity, the problem users, the five-approval limit and session expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from emulator.auth import pkce_challenge

CLIENT = {"client_id": "emulator-client-id", "client_secret": "emulator-client-secret"}
CALLBACK = "http://localhost:8000/connections/callback"


def authorize_url(api, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": CLIENT["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "api refresh_token",
        "state": "st-123",
        **extra,
    }
    return f"{api.base}/services/oauth2/authorize?{urlencode(params)}"


def approve(api, username="integration@example.com", action="allow", **extra):
    """Drive the login-and-consent form as a browser would; returns the 302 response."""
    url = authorize_url(api, **extra)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    assert '<form method="post"' in page.text
    assert '<select id="username" name="username">' in page.text
    assert 'name="password" type="password" value="emulator"' in page.text
    assert 'name="action" value="allow"' in page.text
    assert 'name="action" value="deny"' in page.text
    action_url = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    action_url = action_url.replace("&amp;", "&")
    return requests.post(
        api.base + action_url,
        data={"username": username, "password": "emulator", "action": action},
        allow_redirects=False,
        timeout=10,
    )


def code_from(resp) -> tuple[str, dict]:
    assert resp.status_code == 302, resp.text
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    return query.get("code", [None])[0], query


def exchange(api, code, verifier=None, **extra) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **CLIENT}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    return requests.post(f"{api.base}/services/oauth2/token", data=data, timeout=10)


def connect(api, username="integration@example.com") -> dict:
    verifier = secrets.token_urlsafe(48)
    code, _ = code_from(
        approve(
            api, username, code_challenge=pkce_challenge(verifier), code_challenge_method="S256"
        )
    )
    r = exchange(api, code, verifier)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(api, token) -> requests.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token, **CLIENT}
    return requests.post(f"{api.base}/services/oauth2/token", data=data, timeout=10)


def data_call(api, access_token) -> requests.Response:
    return requests.get(
        f"{api.base}/services/data/v62.0/sobjects",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )


def test_code_flow_with_pkce_and_state_returns_a_salesforce_token_body(api):
    verifier = secrets.token_urlsafe(48)
    resp = approve(api, code_challenge=pkce_challenge(verifier), code_challenge_method="S256")
    code, query = code_from(resp)
    assert resp.headers["Location"].startswith(CALLBACK + "?")
    assert query["state"] == ["st-123"]
    assert code.startswith("aPrx")
    r = exchange(api, code, verifier)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert list(body) == [
        "access_token",
        "refresh_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    ]
    assert "expires_in" not in body
    assert body["instance_url"] == api.base
    assert body["id"].startswith(api.base + "/id/00D")
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api refresh_token"
    assert body["issued_at"].isdigit()
    assert len(body["issued_at"]) == 13
    assert body["access_token"].startswith(api.org.org_id[:15] + "!")
    mac = hmac.new(
        b"emulator-client-secret", (body["id"] + body["issued_at"]).encode(), hashlib.sha256
    )
    assert body["signature"] == base64.b64encode(mac.digest()).decode()
    assert data_call(api, body["access_token"]).status_code == 200


def test_deny_redirects_with_access_denied_and_the_state(api):
    _, query = code_from(approve(api, action="deny"))
    assert query["error"] == ["access_denied"]
    assert query["error_description"] == ["end-user denied authorization"]
    assert query["state"] == ["st-123"]


def test_a_code_is_single_use(api):
    code, _ = code_from(approve(api))
    assert exchange(api, code).status_code == 200
    again = exchange(api, code)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "expired authorization code",
    }


def test_a_code_expires_after_15_emulated_minutes(api):
    code, _ = code_from(approve(api))
    api.org.clock.advance(15 * 60 + 1)
    assert exchange(api, code).json()["error_description"] == "expired authorization code"


def test_pkce_verifier_is_checked(api):
    verifier = secrets.token_urlsafe(48)
    challenge = {"code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"}
    code, _ = code_from(approve(api, **challenge))
    missing = exchange(api, code)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_grant"
    code, _ = code_from(approve(api, **challenge))
    wrong = exchange(api, code, "not-the-verifier-" + verifier)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_request"
    assert "code verifier" in wrong.json()["error_description"]


def test_client_and_grant_errors_have_the_real_bodies(api):
    code, _ = code_from(approve(api))
    bad_id = exchange(api, code, client_id="nope")
    assert bad_id.json() == {
        "error": "invalid_client_id",
        "error_description": "client identifier invalid",
    }
    bad_secret = exchange(api, code, client_secret="nope")
    assert bad_secret.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }
    r = requests.post(
        f"{api.base}/services/oauth2/token", data={"grant_type": "magic", **CLIENT}, timeout=10
    )
    assert r.json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant type not supported",
    }
    unknown = exchange(api, "aPrxNOPE==")
    assert unknown.json()["error"] == "invalid_grant"


def test_client_credentials_may_come_in_a_basic_auth_header(api):
    code, _ = code_from(approve(api))
    r = requests.post(
        f"{api.base}/services/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(CLIENT["client_id"], CLIENT["client_secret"]),
        timeout=10,
    )
    assert r.status_code == 200


def test_authorize_refuses_unknown_callbacks_and_reports_bad_requests(api):
    page = requests.get(authorize_url(api, redirect_uri="https://evil.example.com/cb"), timeout=10)
    assert page.status_code == 400
    assert "redirect_uri_mismatch" in page.text
    r = requests.get(authorize_url(api, client_id="nope"), allow_redirects=False, timeout=10)
    assert parse_qs(urlsplit(r.headers["Location"]).query)["error"] == ["invalid_client_id"]
    r = requests.get(authorize_url(api, response_type="token"), allow_redirects=False, timeout=10)
    assert parse_qs(urlsplit(r.headers["Location"]).query)["error"] == ["unsupported_response_type"]


def test_a_wrong_password_shows_the_page_again(api):
    page = requests.post(
        authorize_url(api),
        data={"username": "integration@example.com", "password": "nope", "action": "allow"},
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 200
    assert "Check your username and password" in page.text


def test_refresh_returns_a_new_access_token_without_a_refresh_token(api):
    tokens = connect(api)
    r = refresh(api, tokens["refresh_token"])
    assert r.status_code == 200
    body = r.json()
    assert "refresh_token" not in body
    assert body["access_token"] != tokens["access_token"]
    assert data_call(api, body["access_token"]).status_code == 200


def test_refresh_tokens_rotate_when_the_org_says_so(api):
    api.org.auth.config.rotate_refresh_tokens = True
    try:
        tokens = connect(api)
        body = refresh(api, tokens["refresh_token"]).json()
        assert body["refresh_token"] != tokens["refresh_token"]
        assert refresh(api, tokens["refresh_token"]).json()["error"] == "invalid_grant"
        assert refresh(api, body["refresh_token"]).status_code == 200
    finally:
        api.org.auth.config.rotate_refresh_tokens = False


def test_password_grant_for_scripts(api):
    data = {
        "grant_type": "password",
        "username": "integration@example.com",
        "password": "emulator",
        **CLIENT,
    }
    r = requests.post(f"{api.base}/services/oauth2/token", data=data, timeout=10)
    assert r.status_code == 200
    assert "refresh_token" not in r.json()
    assert data_call(api, r.json()["access_token"]).status_code == 200
    data["password"] = "wrong"
    r = requests.post(f"{api.base}/services/oauth2/token", data=data, timeout=10)
    assert r.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_revoking_a_refresh_token_kills_it_and_its_access_tokens(api):
    tokens = connect(api)
    r = requests.post(
        f"{api.base}/services/oauth2/revoke", data={"token": tokens["refresh_token"]}, timeout=10
    )
    assert r.status_code == 200
    assert r.content == b""
    assert refresh(api, tokens["refresh_token"]).json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    assert data_call(api, tokens["access_token"]).status_code == 401
    again = requests.post(f"{api.base}/services/oauth2/revoke", data={"token": "nope"}, timeout=10)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_token"


def test_revoking_an_access_token(api):
    tokens = connect(api)
    requests.get(
        f"{api.base}/services/oauth2/revoke", params={"token": tokens["access_token"]}, timeout=10
    )
    assert data_call(api, tokens["access_token"]).status_code == 401
    assert refresh(api, tokens["refresh_token"]).status_code == 200


def test_identity_and_userinfo(api):
    tokens = connect(api)
    h = {"Authorization": f"Bearer {tokens['access_token']}"}
    ident = requests.get(tokens["id"], headers=h, timeout=10)
    assert ident.status_code == 200
    assert ident.json()["user_id"] == tokens["id"].rsplit("/", 1)[1]
    info = requests.get(f"{api.base}/services/oauth2/userinfo", headers=h, timeout=10).json()
    assert info["preferred_username"] == "integration@example.com"
    assert info["sub"] == tokens["id"]
    bad = requests.get(tokens["id"], headers={"Authorization": "Bearer nope"}, timeout=10)
    assert bad.status_code == 403
    assert bad.text == "Bad_OAuth_Token"
    counters = api.org.counters()
    assert counters["api_calls"]["identity"] == 2
    assert counters["api_calls"]["userinfo"] == 1
    assert counters["limit_counted_total"] == 0
    assert counters["oauth_grants"]["authorization_code"] == 1


def test_the_inactive_user_cannot_get_or_refresh_tokens(api):
    code, _ = code_from(approve(api, "inactive@example.com"))
    r = exchange(api, code)
    assert r.json() == {"error": "invalid_grant", "error_description": "inactive user"}
    data = {
        "grant_type": "password",
        "username": "inactive@example.com",
        "password": "emulator",
        **CLIENT,
    }
    r = requests.post(f"{api.base}/services/oauth2/token", data=data, timeout=10)
    assert r.json()["error_description"] == "inactive user"
    tokens = api.org.issue_tokens("inactive@example.com")  # obtained while still active
    assert refresh(api, tokens["refresh_token"]).json()["error_description"] == "inactive user"
    assert data_call(api, tokens["access_token"]).status_code == 401


def test_a_user_deactivated_after_connecting_loses_the_session_and_the_refresh(api):
    tokens = connect(api)
    api.org.set_user_active("integration@example.com", False)
    try:
        assert data_call(api, tokens["access_token"]).status_code == 401
        assert refresh(api, tokens["refresh_token"]).json()["error_description"] == "inactive user"
    finally:
        api.org.set_user_active("integration@example.com", True)


def test_the_user_without_api_access_gets_tokens_but_403_on_data(api):
    tokens = connect(api, "noapi@example.com")
    r = data_call(api, tokens["access_token"])
    assert r.status_code == 403
    assert r.json() == [
        {"message": "API is disabled for this User", "errorCode": "API_CURRENTLY_DISABLED"}
    ]


def test_the_high_assurance_user_gets_tokens_that_rest_refuses(api):
    tokens = connect(api, "highassurance@example.com")
    r = data_call(api, tokens["access_token"])
    assert r.status_code == 401
    assert r.json() == [
        {
            "message": "This session is not valid for use with the REST API",
            "errorCode": "INVALID_SESSION_ID",
        }
    ]
    again = refresh(api, tokens["refresh_token"]).json()
    assert data_call(api, again["access_token"]).status_code == 401


def test_the_sixth_approval_revokes_the_oldest_refresh_token(api):
    first = connect(api, "admin@example.com")
    others = [connect(api, "admin@example.com") for _ in range(4)]
    assert refresh(api, first["refresh_token"]).status_code == 200
    connect(api, "admin@example.com")
    r = refresh(api, first["refresh_token"])
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    assert data_call(api, first["access_token"]).status_code == 401
    for tokens in others:
        assert refresh(api, tokens["refresh_token"]).status_code == 200
    other_user = connect(api, "integration@example.com")
    assert refresh(api, other_user["refresh_token"]).status_code == 200


def test_sessions_time_out_after_the_session_timeout_of_inactivity(api):
    tokens = connect(api)
    assert data_call(api, tokens["access_token"]).status_code == 200
    api.org.clock.advance(7200 - 60)
    assert data_call(api, tokens["access_token"]).status_code == 200
    api.org.clock.advance(7200 + 1)
    r = data_call(api, tokens["access_token"])
    assert r.status_code == 401
    assert r.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert "WWW-Authenticate" not in r.headers
    fresh = refresh(api, tokens["refresh_token"]).json()
    assert data_call(api, fresh["access_token"]).status_code == 200


@pytest.mark.parametrize("scope", ["api", "api refresh_token", "refresh_token api offline_access"])
def test_a_refresh_token_is_issued_only_when_asked_for(api, scope):
    code, _ = code_from(approve(api, scope=scope))
    body = exchange(api, code).json()
    assert ("refresh_token" in body) == ("refresh_token" in scope or "offline_access" in scope)
    assert body["scope"] == scope


def test_configured_callbacks_must_match_exactly(api):
    auth = api.org.auth
    auth.config.redirect_uris = ("https://app.example.com/cb",)
    try:
        assert auth.redirect_allowed("https://app.example.com/cb")
        assert not auth.redirect_allowed("https://app.example.com/cb/other")
        assert not auth.redirect_allowed(CALLBACK)
    finally:
        auth.config.redirect_uris = ()
    assert auth.redirect_allowed("http://127.0.0.1:9999/anything")
    assert auth.redirect_allowed("https://localhost/cb")
    assert not auth.redirect_allowed("http://example.com/cb")
    assert not auth.redirect_allowed("ftp://127.0.0.1/cb")
