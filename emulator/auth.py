"""OAuth 2.0 as Salesforce does it: codes, access and refresh tokens, approvals, sessions.

Token bodies have no `expires_in`; `issued_at` is epoch milliseconds as a string; `signature` is
base64(HMAC-SHA256(client secret, id + issued_at)).
Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_understanding_web_server_oauth_flow.htm
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from emulator.users import PASSWORD

CODE_LIFETIME = 15 * 60
MAX_APPROVALS = 5
APP_SCOPES = ("api", "id", "refresh_token", "web")
KNOWN_SCOPES = {
    "api",
    "refresh_token",
    "offline_access",
    "id",
    "profile",
    "email",
    "address",
    "phone",
    "openid",
    "web",
    "full",
    "chatter_api",
    "visualforce",
    "custom_permissions",
    "wave_api",
    "lightning",
    "content",
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class OAuthError(Exception):
    """A token-endpoint error: HTTP 400 with {"error", "error_description"}."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


class SessionError(Exception):
    """A data call whose bearer token is not (or no longer) a valid session."""


@dataclass
class AuthCode:
    code: str
    username: str
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    created: float
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    username: str
    client_id: str
    scope: str
    created: float
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    username: str
    client_id: str
    scope: str
    issued: float
    last_used: float
    refresh: str | None = None
    revoked: bool = False


@dataclass
class AuthConfig:
    client_id: str
    client_secret: str
    session_timeout: int = 7200
    rotate_refresh_tokens: bool = False
    redirect_uris: tuple[str, ...] = ()
    org_id: str = ""


@dataclass
class AuthState:
    codes: dict[str, AuthCode] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    approvals: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    expired_before: float = 0.0


def pkce_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding (PKCE S256)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Auth:
    """Issues and checks tokens for one org and its one connected app."""

    def __init__(self, org, config: AuthConfig):
        self.org = org
        self.config = config
        self.state = AuthState()
        self.lock = threading.RLock()

    # ----------------------------------------------------------------- helpers
    def now(self) -> float:
        return self.org.clock.time()

    def redirect_allowed(self, uri: str | None) -> bool:
        """Configured callback URLs match exactly; with none configured, any http(s) URL on a
        loopback host is accepted (a real connected app requires an exact match)."""
        if not uri:
            return False
        if self.config.redirect_uris:
            return uri in self.config.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS | {
            "::1"
        }

    def check_client(self, client_id: str | None, secret: str | None, *, require_secret: bool):
        if client_id != self.config.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if (require_secret or secret is not None) and secret != self.config.client_secret:
            raise OAuthError("invalid_client", "invalid client credentials")

    def grant_scope(self, requested: str | None) -> str:
        """Scopes granted for a request (all the app's scopes when none are asked for)."""
        if not requested:
            return " ".join(APP_SCOPES)
        scopes = [s for s in requested.split() if s]
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            raise OAuthError("invalid_scope", "the requested scope is not allowed")
        return " ".join(dict.fromkeys(scopes))

    def _user_state(self, username: str):
        return self.org.user_state(username)

    def _signature(self, identity: str, issued_ms: str) -> str:
        mac = hmac.new(
            self.config.client_secret.encode(), (identity + issued_ms).encode(), hashlib.sha256
        )
        return base64.b64encode(mac.digest()).decode()

    def _new_access(self, username: str, client_id: str, scope: str, refresh: str | None) -> str:
        org15 = self.config.org_id[:15]
        token = f"{org15}!AQ{secrets.token_urlsafe(72)}"
        now = self.now()
        self.state.access[token] = AccessToken(token, username, client_id, scope, now, now, refresh)
        return token

    def _new_refresh(self, username: str, client_id: str, scope: str) -> str:
        token = "5Aep861" + secrets.token_urlsafe(64)
        self.state.refresh[token] = RefreshToken(token, username, client_id, scope, self.now())
        slots = self.state.approvals.setdefault((username, client_id), [])
        slots.append(token)
        while len(slots) > MAX_APPROVALS:
            self.revoke_refresh(slots.pop(0))
        return token

    def token_body(self, username: str, access: str, scope: str, refresh: str | None) -> dict:
        issued_ms = str(int(self.state.access[access].issued * 1000))
        identity = self.org.identity_url(username)
        body = {"access_token": access}
        if refresh is not None:
            body["refresh_token"] = refresh
        body.update(
            {
                "signature": self._signature(identity, issued_ms),
                "scope": scope,
                "instance_url": self.org.base_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued_ms,
            }
        )
        return body

    @staticmethod
    def wants_refresh(scope: str) -> bool:
        parts = scope.split()
        return "refresh_token" in parts or "offline_access" in parts

    # ------------------------------------------------------------------ grants
    def issue(self, username: str, client_id: str, scope: str, *, with_refresh: bool) -> dict:
        with self.lock:
            refresh = self._new_refresh(username, client_id, scope) if with_refresh else None
            access = self._new_access(username, client_id, scope, refresh)
            return self.token_body(username, access, scope, refresh)

    def issue_code(self, username: str, client_id: str, redirect_uri: str, scope: str, challenge):
        code = "aPrx" + secrets.token_urlsafe(60) + "=="
        with self.lock:
            self.state.codes[code] = AuthCode(
                code, username, client_id, redirect_uri, scope, challenge, self.now()
            )
        return code

    def grant_authorization_code(self, form: dict, client_id, secret) -> dict:
        self.check_client(client_id, secret, require_secret=True)
        with self.lock:
            code = self.state.codes.get(form.get("code") or "")
            if code is None or code.client_id != client_id:
                # Unverified wording for an unknown code.
                raise OAuthError("invalid_grant", "invalid authorization code")
            if code.used or self.now() - code.created > CODE_LIFETIME:
                raise OAuthError("invalid_grant", "expired authorization code")
            if form.get("redirect_uri") != code.redirect_uri:
                # Unverified wording; Salesforce insists the redirect_uri matches the authorize one.
                raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
            if code.challenge is not None:
                verifier = form.get("code_verifier")
                if not verifier:
                    # The docs name the error code (invalid_grant when the verifier is missing,
                    # invalid_request when it does not match); the descriptions are ours.
                    code.used = True
                    raise OAuthError("invalid_grant", "code verifier required (PKCE)")
                if pkce_challenge(verifier) != code.challenge:
                    code.used = True
                    raise OAuthError("invalid_request", "invalid code verifier (PKCE mismatch)")
            code.used = True
            user = self._user_state(code.username)
            if not user.active:
                raise OAuthError("invalid_grant", "inactive user")
            return self.issue(
                code.username, client_id, code.scope, with_refresh=self.wants_refresh(code.scope)
            )

    def grant_refresh(self, form: dict, client_id, secret) -> dict:
        self.check_client(client_id, secret, require_secret=False)
        with self.lock:
            token = self.state.refresh.get(form.get("refresh_token") or "")
            if token is None or token.revoked or token.client_id != client_id:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            user = self._user_state(token.username)
            if not user.active:
                raise OAuthError("invalid_grant", "inactive user")
            refresh = token.token
            new_refresh = None
            if self.config.rotate_refresh_tokens:
                new_refresh = "5Aep861" + secrets.token_urlsafe(64)
                self.state.refresh[new_refresh] = RefreshToken(
                    new_refresh, token.username, client_id, token.scope, self.now()
                )
                slots = self.state.approvals.get((token.username, client_id), [])
                if refresh in slots:
                    slots[slots.index(refresh)] = new_refresh
                token.revoked = True
                refresh = new_refresh
            access = self._new_access(token.username, client_id, token.scope, refresh)
            return self.token_body(token.username, access, token.scope, new_refresh)

    def grant_password(self, form: dict, client_id, secret) -> dict:
        self.check_client(client_id, secret, require_secret=True)
        username = form.get("username") or ""
        if username not in self.org.users_by_name or form.get("password") != PASSWORD:
            raise OAuthError("invalid_grant", "authentication failure")
        if not self._user_state(username).active:
            raise OAuthError("invalid_grant", "inactive user")
        scope = self.grant_scope(form.get("scope"))
        scope = " ".join(s for s in scope.split() if s not in ("refresh_token", "offline_access"))
        # The username-password flow never issues a refresh token.
        return self.issue(username, client_id, scope or "api", with_refresh=False)

    # ------------------------------------------------------------- revocation
    def revoke_refresh(self, token: str) -> bool:
        with self.lock:
            rt = self.state.refresh.get(token)
            if rt is None:
                return False
            rt.revoked = True
            for at in self.state.access.values():
                if at.refresh == token:
                    at.revoked = True
            slots = self.state.approvals.get((rt.username, rt.client_id), [])
            if token in slots:
                slots.remove(token)
            return True

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token takes its access tokens along)."""
        with self.lock:
            if self.revoke_refresh(token):
                return True
            at = self.state.access.get(token)
            if at is None or at.revoked:
                return False
            at.revoked = True
            return True

    def expire_all(self) -> None:
        with self.lock:
            self.state.expired_before = self.now()

    # ----------------------------------------------------------- data sessions
    def session(self, token: str | None) -> AccessToken:
        """The live session of a bearer token (raises SessionError; refreshes its idle timer).

        Salesforce sessions time out after the org's session timeout of inactivity; the
        emulator renews on every call (Salesforce renews in the second half of the window).
        The session_timeout fault adds an absolute lifetime for soak tests."""
        if not token:
            raise SessionError()
        with self.lock:
            at = self.state.access.get(token)
            if at is None or at.revoked:
                raise SessionError()
            now = self.now()
            if at.issued <= self.state.expired_before:
                raise SessionError()
            if now - at.last_used > self.config.session_timeout:
                raise SessionError()
            lifetime = self.org.faults.session_lifetime()
            if lifetime is not None and now - at.issued > lifetime:
                raise SessionError()
            if not self._user_state(at.username).active:
                raise SessionError()
            at.last_used = max(at.last_used, now)
            return at
