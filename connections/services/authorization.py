"""Connecting, reconnecting and disconnecting a Salesforce org (the OAuth web-server flow).

The connect view calls ``connection_authorize_start`` and keeps the returned pending dict in
the session under its ``state``; the callback hands it back to
``connection_authorize_complete``. A Connection row is only written once Salesforce has said
yes, and reconnecting (or connecting an org the workspace already has) reuses its row, so its
cursors and ingested records carry on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.gate import credential_gate, trusted_login_url
from connections.models import Connection, ReconnectCandidate, Workspace
from connections.salesforce import oauth
from connections.salesforce.client import SalesforceClient
from connections.salesforce.exceptions import SalesforceError
from connections.salesforce.types import TokenSet
from connections.selectors import connections_sharing_username
from connections.services.clients import client_options, connection_store_tokens
from connections.services.preflight import connection_run_preflight
from connections.services.reconnect import (
    authorization_checklist,
    candidate_tokens,
    protects_a_working_authorization,
    reconnect_hold,
    reconnect_review_reasons,
)
from connections.signals import connection_authorized, connection_disconnected
from primer_sf.errors import ApplicationError

logger = logging.getLogger(__name__)

# Salesforce keeps five refresh tokens per user per connected app; the sixth approval silently
# revokes the oldest. Reference: https://help.salesforce.com/s/articleView?id=xcloud.connected_app_limit_idle_ttl.htm
APPROVALS_PER_USER = 5
_IDENTITY_PATH = re.compile(r"/id/(?P<org>[A-Za-z0-9]{15,18})/(?P<user>[A-Za-z0-9]{15,18})/?$")


def connection_login_url(*, environment: str, my_domain_url: str = "") -> str:
    """The login host for an environment (My Domain: the validated URL the customer typed)."""
    if environment == Connection.Environment.SANDBOX:
        return settings.SALESFORCE_SANDBOX_LOGIN_URL.rstrip("/")
    if environment == Connection.Environment.MY_DOMAIN:
        return my_domain_url.rstrip("/")
    return settings.SALESFORCE_LOGIN_URL.rstrip("/")


def connection_authorize_start(
    *,
    workspace: Workspace,
    environment: str,
    login_url: str,
    redirect_uri: str,
    label: str = "",
    connection: Connection | None = None,
) -> tuple[str, dict]:
    """The authorize URL to send the browser to, and what to keep in the session until the
    callback (``state``, the PKCE verifier, where and what we are connecting)."""
    request = oauth.authorization_start(
        login_url=login_url,
        client_id=settings.SALESFORCE_CLIENT_ID,
        redirect_uri=redirect_uri,
        gate=credential_gate(),
    )
    pending = {
        "state": request.state,
        "code_verifier": request.code_verifier,
        "login_url": login_url,
        "environment": environment,
        "workspace_id": workspace.pk,
        "connection_id": connection.pk if connection else None,
        "label": label,
        "started_at": timezone.now().isoformat(),
    }
    return request.url, pending


@dataclass
class ConnectOutcome:
    """What connecting did: the row, whether it is new, and notices for the customer. With
    ``candidate`` set nothing was changed yet: the customer must confirm the new authorization
    (see ``connections.services.reconnect``)."""

    connection: Connection
    created: bool
    notices: list[str] = field(default_factory=list)
    candidate: ReconnectCandidate | None = None
    review_reasons: list[str] = field(default_factory=list)


def connection_authorize_complete(
    *, pending: dict, code: str, redirect_uri: str, user=None
) -> ConnectOutcome:
    """Exchange the code, read who signed in, store the org and encrypted tokens on the
    workspace's row for that org (new or reused), run the preflight, and enqueue the first
    sync once the row is committed. Raises ``SalesforceError`` or ``ApplicationError``.

    A failed exchange changes nothing. A new authorization that would replace a working one
    as another user, or with failing checks, is held for the customer to confirm."""
    workspace = Workspace.objects.get(pk=pending["workspace_id"])
    reconnecting = _reconnecting(workspace, pending)
    tokens = _exchange(pending, code, redirect_uri)
    who = _who(tokens)
    try:
        _check_same_org(reconnecting, who["org_id"])
        held = _hold_if_risky(workspace, reconnecting, pending, tokens, who, user)
    except Exception:
        _revoke_quietly(pending["login_url"], tokens.refresh_token or tokens.access_token)
        raise
    if held is not None:
        return held
    return _apply(workspace, reconnecting, pending, tokens, who)


def _hold_if_risky(workspace, reconnecting, pending, tokens, who, user) -> ConnectOutcome | None:
    target = reconnecting or (
        Connection.objects.filter(workspace=workspace, org_id=who["org_id"]).first()
        if who["org_id"]
        else None
    )
    if not protects_a_working_authorization(target):
        return None
    checklist = authorization_checklist(tokens=tokens, username=who["username"])
    reasons = reconnect_review_reasons(connection=target, who=who, checklist=checklist)
    if not reasons:
        return None
    candidate = reconnect_hold(
        connection=target, pending=pending, tokens=tokens, who=who, checklist=checklist, user=user
    )
    return ConnectOutcome(
        connection=target, created=False, candidate=candidate, review_reasons=reasons
    )


def _apply(workspace, reconnecting, pending, tokens, who) -> ConnectOutcome:
    """Store the new authorization on the row (new or reused), check it, queue the sync."""
    try:
        connection, created, old_refresh = _save(workspace, reconnecting, pending, tokens, who)
    except Exception:
        _revoke_quietly(pending["login_url"], tokens.refresh_token or tokens.access_token)
        raise
    if old_refresh and old_refresh != connection.refresh_token:
        # Keep this user's approvals few: the previous grant of this row is no longer needed.
        _revoke_quietly(connection.login_host, old_refresh)
    connection_run_preflight(connection=connection)
    notices = _announce_authorized(connection) + _approval_notices(connection)
    return ConnectOutcome(connection=connection, created=created, notices=notices)


def connection_reconnect_confirm(*, candidate: ReconnectCandidate) -> ConnectOutcome:
    """The customer chose the held authorization: it replaces the stored one now."""
    connection = candidate.connection
    who = {
        "org_id": connection.org_id,
        "user_id": candidate.sf_user_id,
        "username": candidate.sf_username,
    }
    pending = {
        "environment": candidate.environment,
        "login_url": candidate.login_host,
        "label": candidate.label,
    }
    tokens = candidate_tokens(candidate)
    candidate.delete()
    return _apply(connection.workspace, connection, pending, tokens, who)


def connection_reconnect_discard(*, candidate: ReconnectCandidate) -> None:
    """The customer kept the stored authorization: revoke and forget the held one."""
    _revoke_quietly(candidate.login_host, candidate.refresh_token or candidate.access_token)
    candidate.delete()


def _reconnecting(workspace: Workspace, pending: dict) -> Connection | None:
    if not pending.get("connection_id"):
        return None
    return Connection.objects.filter(pk=pending["connection_id"], workspace=workspace).first()


def _exchange(pending: dict, code: str, redirect_uri: str) -> TokenSet:
    return oauth.token_exchange(
        login_url=pending["login_url"],
        client_id=settings.SALESFORCE_CLIENT_ID,
        client_secret=settings.SALESFORCE_CLIENT_SECRET,
        redirect_uri=redirect_uri,
        code=code,
        code_verifier=pending["code_verifier"],
        timeout=float(settings.SALESFORCE_REQUEST_TIMEOUT),
        gate=credential_gate(),
    )


def _who(tokens: TokenSet) -> dict:
    """Org id, user id and username: ids from the identity URL itself, the username from
    reading it (if that fails, e.g. under a High Assurance policy, the preflight says why)."""
    match = _IDENTITY_PATH.search(tokens.identity_url)
    who = {"org_id": match["org"] if match else "", "user_id": match["user"] if match else ""}
    who["username"] = ""
    client = SalesforceClient(
        instance_url=tokens.instance_url, access_token=tokens.access_token, **client_options()
    )
    try:
        identity = client.identity(tokens.identity_url)
    except SalesforceError as error:
        logger.warning("Identity URL could not be read after connecting: %r", error)
        return who
    who["org_id"] = identity.get("organization_id") or who["org_id"]
    who["user_id"] = identity.get("user_id") or who["user_id"]
    who["username"] = identity.get("username", "")
    return who


def _save(
    workspace: Workspace,
    reconnecting: Connection | None,
    pending: dict,
    tokens: TokenSet,
    who: dict,
) -> tuple[Connection, bool, str]:
    _check_same_org(reconnecting, who["org_id"])
    with transaction.atomic():
        existing = (
            Connection.objects.select_for_update()
            .filter(workspace=workspace, org_id=who["org_id"])
            .first()
        )
        connection = reconnecting or existing or Connection(workspace=workspace)
        created = connection.pk is None
        old_refresh = "" if created else connection.refresh_token
        _fill(connection, pending, tokens, who)
        connection.save()
    logger.info(
        "Connection %s %s for org %s",
        connection.pk,
        "created" if created else "renewed",
        connection.org_id,
    )
    return connection, created, old_refresh


def _check_same_org(reconnecting: Connection | None, org_id: str) -> None:
    if reconnecting and reconnecting.org_id and reconnecting.org_id != org_id:
        raise ApplicationError(
            f"You signed in to a different Salesforce org ({org_id}) than this connection's "
            f"({reconnecting.org_id}). Reconnect with a user of {reconnecting.org_id}, or connect "
            "the other org as a new connection. Nothing was changed."
        )


def _fill(connection: Connection, pending: dict, tokens: TokenSet, who: dict) -> None:
    now = timezone.now()
    connection.environment = pending["environment"]
    connection.login_host = pending["login_url"]
    connection.org_id = who["org_id"]
    connection.sf_user_id = who["user_id"]
    connection.sf_username = who["username"] or connection.sf_username
    # The label the customer typed wins; else the row keeps its own, else a default.
    connection.label = pending.get("label") or connection.label or _default_label(connection)
    connection_store_tokens(connection=connection, tokens=tokens)
    if connection.status != Connection.Status.ACTIVE:
        connection.status_changed_at = now
    connection.status = Connection.Status.ACTIVE
    connection.status_reason = connection.status_message = connection.status_fix = ""


def _default_label(connection: Connection) -> str:
    domain = connection.sf_username.rsplit("@", 1)[-1] if connection.sf_username else ""
    kind = "sandbox" if connection.environment == Connection.Environment.SANDBOX else "production"
    if connection.environment == Connection.Environment.MY_DOMAIN:
        kind = connection.login_host.split("//")[-1].split(".")[0]
    return f"{domain or 'Salesforce'} {kind}"


def _announce_authorized(connection: Connection) -> list[str]:
    """Called after the row is saved: tell the apps above (ingestion queues the first sync) and
    collect their notices; the preflight may have stopped syncing instead."""
    if connection.status != Connection.Status.ACTIVE:
        return ["Syncing starts once the failed checks below are fixed."]
    answers = connection_authorized.send(sender=Connection, connection=connection)
    return [notice for _receiver, notice in answers if notice]


def _approval_notices(connection: Connection) -> list[str]:
    others = connections_sharing_username(username=connection.sf_username, exclude_pk=connection.pk)
    if others + 1 <= APPROVALS_PER_USER:
        return []
    return [
        f"{connection.sf_username} now holds {others + 1} connections with primer. Salesforce "
        f"keeps {APPROVALS_PER_USER} approvals per user and has revoked the oldest, so another "
        "connection of this user will ask to be reconnected. Use a dedicated integration user "
        "for each connection."
    ]


def _revoke_quietly(login_url: str, token: str | None) -> bool:
    if not token:
        return False
    try:
        return oauth.token_revoke(
            login_url=trusted_login_url(login_url),
            token=token,
            timeout=float(settings.SALESFORCE_REQUEST_TIMEOUT),
            gate=credential_gate(),
        )
    except SalesforceError as error:
        logger.warning("Could not revoke a token at %s: %r", login_url, error)
        return False


def connection_disconnect(*, connection: Connection, delete_data: bool) -> None:
    """Revoke the connection's authorization at Salesforce and forget its tokens; the apps
    above stop its syncs (``connection_disconnected``). Ingested records and cursors stay (a
    reconnect resumes from them) unless ``delete_data``: then ingestion deletes them in the
    background, in batches."""
    revoked = _revoke_quietly(connection.login_host, connection.refresh_token)
    now = timezone.now()
    with transaction.atomic():
        connection.access_token = connection.refresh_token = ""
        connection.status = Connection.Status.DISCONNECTED
        connection.status_changed_at = now
        connection.status_reason = "disconnected"
        connection.status_message = "Disconnected on request" + (
            "; Salesforce confirmed the authorization is revoked." if revoked else "."
        )
        connection.status_fix = "Connect again to resume syncing."
        connection.next_sync_at = None
        if delete_data:
            connection.initial_sync_started_at = connection.initial_sync_completed_at = None
            connection.status_fix = "Connect again to sync from scratch."
        connection.save()
        connection_disconnected.send(
            sender=Connection, connection=connection, delete_data=delete_data
        )
