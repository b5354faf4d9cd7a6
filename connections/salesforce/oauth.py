"""OAuth 2.0 web-server flow with Salesforce: authorize URL (state + PKCE S256), code exchange,
refresh, revoke.

requests-oauthlib builds the authorize URL and makes the token calls; error bodies are turned
into our typed exceptions by a compliance hook before oauthlib sees them. Salesforce sends no
``expires_in``, so nothing here refreshes on a timer: the client refreshes on a 401.

Reference: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import requests
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session

from connections.salesforce import errors
from connections.salesforce.exceptions import (
    SalesforceError,
    SalesforceInstanceNotAllowed,
    SalesforceUnavailable,
)
from connections.salesforce.hosts import origin_of, url_check
from connections.salesforce.types import TokenSet

logger = logging.getLogger(__name__)

# requests-oauthlib and oauthlib log token bodies and request bodies (client secret, refresh
# token) at DEBUG. Tokens are never logged, whatever the root level is.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)

SCOPES = ("api", "refresh_token")
AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"
REVOKE_PATH = "/services/oauth2/revoke"


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to keep in the session until the callback."""

    url: str
    state: str
    code_verifier: str

    def __repr__(self) -> str:
        return f"AuthorizationRequest(url={self.url.split('?')[0]!r})"


@dataclass(frozen=True)
class Gate:
    """Where credentials may go: the allow-list, and whether plain http may reach loopback."""

    allowed_hosts: tuple[str, ...]
    loopback_http: bool = False
    # Hosts allowed as login hosts only (configured login URLs, My Domains), never instances.
    login_hosts: tuple[str, ...] = ()

    def check(self, url: str) -> str:
        """``url`` rebuilt by the credential gate, or ``SalesforceInstanceNotAllowed``."""
        return url_check(url, self.allowed_hosts, loopback_http=self.loopback_http)

    def check_login(self, url: str) -> str:
        """The origin of a login URL, if the client secret and refresh tokens may go there."""
        allowed = (*self.allowed_hosts, *self.login_hosts)
        return origin_of(url_check(url, allowed, loopback_http=self.loopback_http))


def login_url_check(login_url: str, gate: Gate) -> str:
    """A login host gets the client secret and refresh token: it passes the gate, and only its
    origin (scheme, host, port) is kept."""
    url = gate.check_login(login_url)
    if url.startswith("http://"):
        # oauthlib refuses http outright; the gate let it through only for the emulator on
        # loopback (DEBUG, tests).
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    return url


def authorization_start(
    *, login_url: str, client_id: str, redirect_uri: str, gate: Gate, prompt: str = "login"
) -> AuthorizationRequest:
    """Build the authorize URL with a fresh ``state`` and a PKCE S256 challenge.

    ``prompt=login`` makes Salesforce ask who is signing in, so the customer picks the
    integration user deliberately rather than whoever is signed in to the browser.
    Reference: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_endpoints.htm
    """
    login_url = login_url_check(login_url, gate)
    client = WebApplicationClient(client_id)
    verifier = client.create_code_verifier(64)
    challenge = client.create_code_challenge(verifier, "S256")
    oauth = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=list(SCOPES))
    url, state = oauth.authorization_url(
        login_url + AUTHORIZE_PATH,
        code_challenge=challenge,
        code_challenge_method="S256",
        prompt=prompt,
    )
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


def token_exchange(
    *,
    login_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
    timeout: float,
    gate: Gate,
) -> TokenSet:
    """Trade an authorization code (and the PKCE verifier) for tokens; never retried, because
    a code is single-use.

    Reference: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
    """
    oauth = _session(client_id, redirect_uri=redirect_uri)
    token = _call(
        oauth.fetch_token,
        login_url_check(login_url, gate) + TOKEN_PATH,
        code=code,
        client_secret=client_secret,
        include_client_id=True,
        code_verifier=code_verifier,
        timeout=timeout,
    )
    try:
        return _token_set(token, gate)
    except SalesforceInstanceNotAllowed as refusal:
        raise _revoked_grant(refusal, token, login_url, timeout, gate) from None


def token_refresh(
    *,
    login_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    timeout: float,
    gate: Gate,
) -> TokenSet:
    """A new access token from the refresh token; ``refresh_token`` is set on the result only
    when Salesforce rotated it.

    Reference: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_refresh_token_flow.htm
    """
    oauth = _session(client_id)
    token = _call(
        oauth.refresh_token,
        login_url_check(login_url, gate) + TOKEN_PATH,
        refresh_token=refresh_token,
        client_id=client_id,
        client_secret=client_secret,
        timeout=timeout,
    )
    if token.get("refresh_token") == refresh_token:
        # requests-oauthlib copies the old one in when none came back: not a rotation.
        token = {k: v for k, v in token.items() if k != "refresh_token"}
    return _token_set(token, gate)


def token_revoke(*, login_url: str, token: str, timeout: float, gate: Gate) -> bool:
    """Revoke a refresh (or access) token; revoking a refresh token ends its access tokens too.
    ``False`` when Salesforce says the token was already invalid.

    Reference: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_revoke_token.htm
    """
    url = login_url_check(login_url, gate) + REVOKE_PATH
    try:
        response = requests.post(url, data={"token": token}, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise SalesforceUnavailable(
            "Could not reach Salesforce to revoke the token", error_code="CONNECTION_ERROR"
        ) from exc
    if response.status_code == 200:
        return True
    error = errors.error_from_token_response(response.status_code, response.text, url=REVOKE_PATH)
    if error.error_code in ("invalid_token", "unsupported_token_type"):
        return False
    raise error


def _revoked_grant(
    refusal: SalesforceInstanceNotAllowed, token: dict, login_url: str, timeout: float, gate: Gate
) -> SalesforceInstanceNotAllowed:
    """Revoke a grant we refuse to keep, at the trusted login host it came from (revoking the
    refresh token ends its access tokens too), and say in the refusal whether that worked."""
    grant = token.get("refresh_token") or token.get("access_token") or ""
    try:
        revoked = bool(grant) and token_revoke(
            login_url=login_url, token=grant, timeout=timeout, gate=gate
        )
    except SalesforceError:
        revoked = False
    refusal.grant_revoked = revoked
    return refusal


def _session(client_id: str, *, redirect_uri: str | None = None) -> OAuth2Session:
    # scope=None: Salesforce echoes the granted scopes, which may list more than we asked for;
    # oauthlib would otherwise raise "Scope has changed".
    oauth = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=None)
    # A redirect would carry the client secret or refresh token past the gate.
    oauth.max_redirects = 0
    oauth.register_compliance_hook("access_token_response", _raise_for_error)
    oauth.register_compliance_hook("refresh_token_response", _raise_for_error)
    return oauth


def _raise_for_error(response: requests.Response) -> requests.Response:
    if response.status_code != 200:
        raise errors.error_from_token_response(response.status_code, response.text, url=TOKEN_PATH)
    return response


def _call(method, *args, **kwargs) -> dict:
    try:
        return method(*args, **kwargs)
    except requests.RequestException as exc:
        raise SalesforceUnavailable(
            "Could not reach Salesforce's login service", error_code="CONNECTION_ERROR"
        ) from exc
    except OAuth2Error as exc:
        raise SalesforceError(
            f"Salesforce's token response was not usable ({exc.error})", error_code=exc.error
        ) from None


def _token_set(token: dict, gate: Gate) -> TokenSet:
    """The token response as a ``TokenSet``; the URLs in it pass the gate and are stored as
    rebuilt, so a refused ``instance_url`` or identity URL is never saved or used."""
    instance_url = origin_of(gate.check(str(token.get("instance_url", ""))))
    identity_url = gate.check(str(token.get("id", "")))
    scope = token.get("scope", "")
    issued_at = str(token.get("issued_at", ""))
    return TokenSet(
        access_token=token["access_token"],
        instance_url=instance_url,
        identity_url=identity_url,
        issued_at_ms=int(issued_at) if issued_at.isdigit() else None,
        refresh_token=token.get("refresh_token") or None,
        scope=" ".join(scope) if isinstance(scope, list | tuple) else str(scope),
        token_type=str(token.get("token_type", "Bearer")),
    )
