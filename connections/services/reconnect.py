"""Safe reconnects: a new authorization of an org already connected is checked before it may
replace the stored one.

When it signs in as a different Salesforce user, or its permission checks fail (no API access,
a High Assurance session required, required objects unreadable), it is held as a
``ReconnectCandidate`` and the customer sees both side by side; the working connection is not
touched until they choose the new one.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from connections.models import Connection, ReconnectCandidate
from connections.salesforce.client import SalesforceClient
from connections.salesforce.exceptions import SalesforceError
from connections.salesforce.types import TokenSet
from connections.services.clients import client_options
from connections.services.preflight import FAIL, Preflight, preflight_result

logger = logging.getLogger(__name__)

CANDIDATE_TTL = timedelta(minutes=30)


def authorization_checklist(*, tokens: TokenSet, username: str) -> dict:
    """The permission checks run with a new authorization that is not stored anywhere yet."""
    client = SalesforceClient(
        instance_url=tokens.instance_url, access_token=tokens.access_token, **client_options()
    )
    check = Preflight(client, username)
    try:
        items = check.run()
    except SalesforceError as error:
        logger.warning("Checks of a new authorization could not run: %r", error)
        items = [
            {
                "key": "reachable",
                "label": "Salesforce reachable",
                "status": FAIL,
                "detail": f"The checks could not run: {error.message}",
                "fix": "Try again in a few minutes.",
            }
        ]
    return {"result": preflight_result(items), "items": items, "checked_at": _now_iso()}


def _now_iso() -> str:
    return timezone.now().isoformat()


def _same_user(connection: Connection, user_id: str) -> bool:
    # Salesforce ids come as 15 or 18 characters; the first 15 identify the record.
    return not connection.sf_user_id or connection.sf_user_id[:15] == (user_id or "")[:15]


def reconnect_review_reasons(*, connection: Connection, who: dict, checklist: dict) -> list[str]:
    """Why a new authorization should not silently replace ``connection``'s (empty: it may)."""
    reasons = []
    if not _same_user(connection, who.get("user_id", "")):
        reasons.append(
            f"It signs in as {who.get('username') or 'another user'}, not as "
            f"{connection.sf_username or 'the connected user'}."
        )
    if checklist.get("result") == FAIL:
        failed = [i["label"] for i in checklist.get("items", []) if i.get("status") == FAIL]
        reasons.append(f"Its permission checks fail: {', '.join(failed)}.")
    return reasons


def protects_a_working_authorization(connection: Connection | None) -> bool:
    """Whether replacing ``connection``'s authorization could lose something that works."""
    return bool(
        connection is not None
        and connection.pk
        and connection.status != Connection.Status.DISCONNECTED
        and connection.refresh_token
    )


def reconnect_hold(
    *,
    connection: Connection,
    pending: dict,
    tokens: TokenSet,
    who: dict,
    checklist: dict,
    user=None,
) -> ReconnectCandidate:
    """Keep a new authorization aside (encrypted) until the customer decides."""
    ReconnectCandidate.objects.filter(
        connection=connection, created_at__lt=timezone.now() - CANDIDATE_TTL
    ).delete()
    return ReconnectCandidate.objects.create(
        connection=connection,
        requested_by=user if getattr(user, "pk", None) else None,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token or "",
        instance_url=tokens.instance_url,
        identity_url=tokens.identity_url,
        scopes=tokens.scope,
        issued_at_ms=tokens.issued_at_ms,
        environment=pending["environment"],
        login_host=pending["login_url"],
        label=pending.get("label") or "",
        sf_user_id=who.get("user_id", ""),
        sf_username=who.get("username", ""),
        checklist=checklist,
    )


def candidate_expired(candidate: ReconnectCandidate) -> bool:
    return timezone.now() - candidate.created_at > CANDIDATE_TTL


def candidate_tokens(candidate: ReconnectCandidate) -> TokenSet:
    return TokenSet(
        access_token=candidate.access_token,
        instance_url=candidate.instance_url,
        identity_url=candidate.identity_url,
        issued_at_ms=candidate.issued_at_ms,
        refresh_token=candidate.refresh_token or None,
        scope=candidate.scopes,
    )
