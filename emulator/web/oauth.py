"""OAuth endpoints: authorize (login and consent page), token, revoke, identity, userinfo.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_understanding_web_server_oauth_flow.htm
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from emulator.auth import OAuthError, SessionError
from emulator.users import PASSWORD
from emulator.web.common import JSON_TYPE, bearer
from emulator.web.pages import authorize_page, error_page

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _redirect_with(uri: str, params: dict) -> Response:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [
        (k, v) for k, v in params.items() if v is not None
    ]
    return redirect(urlunsplit(parts._replace(query=urlencode(query))), code=302)


def oauth_json(body: dict, status: int = 200) -> Response:
    resp = Response(json.dumps(body), status=status, content_type=JSON_TYPE)
    resp.headers.update(NO_STORE)
    return resp


def oauth_error(err: OAuthError) -> Response:
    return oauth_json({"error": err.error, "error_description": err.description}, err.status)


def authorize(org, request: Request) -> Response:
    """GET shows the login-and-consent page; POST signs in and allows or denies."""
    args = request.args
    client_id = args.get("client_id")
    redirect_uri = args.get("redirect_uri")
    state = args.get("state")
    org.counters_state.grant("authorize_page")
    if not redirect_uri:
        return error_page("redirect_uri_missing", "A redirect_uri is required.", 400)
    if client_id != org.auth.config.client_id:
        if org.auth.redirect_allowed(redirect_uri):
            return _redirect_with(
                redirect_uri,
                {
                    "error": "invalid_client_id",
                    "error_description": "client identifier invalid",
                    "state": state,
                },
            )
        return error_page("invalid_client_id", "client identifier invalid", 400)
    if not org.auth.redirect_allowed(redirect_uri):
        # Salesforce shows an error page rather than redirecting to an unknown callback.
        return error_page("redirect_uri_mismatch", "redirect_uri must match configuration", 400)

    def fail(error: str, description: str) -> Response:
        return _redirect_with(
            redirect_uri, {"error": error, "error_description": description, "state": state}
        )

    if args.get("response_type") != "code":
        return fail("unsupported_response_type", "response type not supported")
    try:
        scope = org.auth.grant_scope(args.get("scope"))
    except OAuthError as err:
        return fail(err.error, err.description)
    method = args.get("code_challenge_method")
    challenge = args.get("code_challenge")
    if method not in (None, "", "S256"):
        # Salesforce implements S256 only (whether `plain` is refused is unverified).
        return fail("invalid_request", "unsupported code_challenge_method")
    if args.get("immediate") == "true":
        return fail("immediate_unsuccessful", "immediate authorization is not possible")
    if request.method == "GET":
        return authorize_page(org, request, scope, error=None)
    form = request.form
    if form.get("action") == "deny":
        # The help page shows `access-denied`; RFC 6749 and the user-agent example use
        # `access_denied` (unverified which a real org sends): the RFC spelling is emulated.
        return fail("access_denied", "end-user denied authorization")
    username = form.get("username", "")
    if username not in org.users_by_name or form.get("password") != PASSWORD:
        return authorize_page(org, request, scope, error="Check your username and password.")
    # Any emulated user gets a code; the token call then refuses the inactive one
    # (invalid_grant / inactive user), which is where connectors meet that error.
    code = org.auth.issue_code(username, client_id, redirect_uri, scope, challenge or None)
    return _redirect_with(redirect_uri, {"code": code, "state": state})


def _client_credentials(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
            cid, _, secret = decoded.partition(":")
            return cid, secret
        except (ValueError, UnicodeDecodeError):
            return None, None
    return request.form.get("client_id"), request.form.get("client_secret")


def token(org, request: Request) -> Response:
    form = request.form
    grant = form.get("grant_type")
    client_id, secret = _client_credentials(request)
    handlers = {
        "authorization_code": org.auth.grant_authorization_code,
        "refresh_token": org.auth.grant_refresh,
        "password": org.auth.grant_password,
    }
    try:
        if grant not in handlers:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        body = handlers[grant](form, client_id, secret)
    except OAuthError as err:
        org.counters_state.grant(f"{grant or 'none'}_error")
        return oauth_error(err)
    org.counters_state.grant(grant)
    return oauth_json(body)


def revoke(org, request: Request) -> Response:
    value = request.values.get("token", "")
    org.counters_state.grant("revoke")
    if not value or not org.auth.revoke(value):
        return oauth_json({"error": "invalid_token", "error_description": "Token was invalid"}, 400)
    callback = request.values.get("callback")
    if callback:
        return Response(f"{callback}({{}});", content_type="application/javascript")
    return Response(b"", status=200)


def _session(org, request: Request):
    token_value = bearer(request) or request.values.get("oauth_token")
    try:
        return org.auth.session(token_value)
    except SessionError:
        return None


def _bad(text: str) -> Response:
    # The identity service answers bad tokens with 403 and a plain-text code (status unverified).
    return Response(text, status=403, content_type="text/plain;charset=UTF-8")


def _urls(org, user_id: str) -> dict:
    base = org.base_url
    org15 = org.org_id[:15]
    data = f"{base}/services/data/v{{version}}"
    return {
        "enterprise": f"{base}/services/Soap/c/{{version}}/{org15}",
        "metadata": f"{base}/services/Soap/m/{{version}}/{org15}",
        "partner": f"{base}/services/Soap/u/{{version}}/{org15}",
        "rest": f"{data}/",
        "sobjects": f"{data}/sobjects/",
        "search": f"{data}/search/",
        "query": f"{data}/query/",
        "recent": f"{data}/recent/",
        "tooling_soap": f"{base}/services/Soap/T/{{version}}/{org15}",
        "tooling_rest": f"{data}/tooling/",
        "profile": f"{base}/{user_id}",
        "feeds": f"{data}/chatter/feeds",
        "groups": f"{data}/chatter/groups",
        "users": f"{data}/chatter/users",
        "feed_items": f"{data}/chatter/feed-items",
        "feed_elements": f"{data}/chatter/feed-elements",
        "custom_domain": base,
    }


def identity_body(org, username: str) -> dict:
    u = org.users_by_name[username]
    state = org.user_state(username)
    user_id = org.user_id(username)
    photo = f"{org.base_url}/profilephoto/005/F"
    return {
        "id": org.identity_url(username),
        "asserted_user": True,
        "user_id": user_id,
        "organization_id": org.org_id,
        "username": username,
        "nick_name": username.split("@")[0],
        "display_name": u.name,
        "email": username,
        "email_verified": True,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "timezone": "America/Los_Angeles",
        "photos": {"picture": photo, "thumbnail": photo.replace("/F", "/T")},
        "addr_street": "415 Mission Street",
        "addr_city": "San Francisco",
        "addr_state": "CA",
        "addr_country": "US",
        "addr_zip": "94105",
        "mobile_phone": None,
        "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": _urls(org, user_id),
        "active": state.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28800000,
        "last_modified_date": datetime.fromtimestamp(org.data_end, tz=UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "is_app_installed": True,
    }


def identity(org, request: Request, org_id: str, user_id: str) -> Response:
    # Served by the login host: counted by kind, not against the API limit (unverified).
    org.counters_state.call("identity", counted=False)
    session = _session(org, request)
    if session is None:
        return _bad("Bad_OAuth_Token")
    if org_id[:15] != org.org_id[:15] or user_id[:15] != org.user_id(session.username)[:15]:
        return _bad("Bad_Id")
    return oauth_json(identity_body(org, session.username))


def userinfo(org, request: Request) -> Response:
    org.counters_state.call("userinfo", counted=False)
    session = _session(org, request)
    if session is None:
        return _bad("Bad_OAuth_Token")
    ident = identity_body(org, session.username)
    return oauth_json(
        {
            "sub": ident["id"],
            "user_id": ident["user_id"],
            "organization_id": ident["organization_id"],
            "preferred_username": ident["username"],
            "nickname": ident["nick_name"],
            "name": ident["display_name"],
            "email": ident["email"],
            "email_verified": True,
            "given_name": ident["first_name"],
            "family_name": ident["last_name"],
            "zoneinfo": ident["timezone"],
            "photos": ident["photos"],
            "profile": ident["urls"]["profile"],
            "picture": ident["photos"]["picture"],
            "address": {"country": "US"},
            "is_salesforce_integration_user": False,
            "urls": ident["urls"],
            "active": ident["active"],
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": -28800000,
            "updated_at": ident["last_modified_date"],
            "is_app_installed": True,
        }
    )
