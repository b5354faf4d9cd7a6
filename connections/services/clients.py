"""Building a Salesforce client for a connection, and refreshing its tokens.

Ingestion never builds a client itself: it asks ``salesforce_client_for``, so a sync can be
tested with a fake client, and every client gets the same refresh, recorder and budget guard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.gate import credential_gate, trusted_login_url
from connections.models import Connection
from connections.salesforce import oauth
from connections.salesforce.client import SalesforceClient
from connections.salesforce.exceptions import SalesforceAuthError
from connections.salesforce.types import TokenSet, UsageRecorder
from connections.services.health import connection_mark_auth_failure
from connections.services.usage import ApiBudget

logger = logging.getLogger(__name__)


def client_options() -> dict:
    """Settings every client shares (API version, timeout, retry wait, trusted hosts); how often
    it retries is ``connections.salesforce.retries``'."""
    return {
        "api_version": settings.SALESFORCE_API_VERSION,
        "timeout": float(settings.SALESFORCE_REQUEST_TIMEOUT),
        "retry_max_wait": settings.SALESFORCE_RETRY_MAX_WAIT,
        "allowed_hosts": settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS,
        "loopback_http": settings.SALESFORCE_INSECURE_LOOPBACK,
    }


def salesforce_client_for(
    connection: Connection,
    *,
    recorder: UsageRecorder | None = None,
    on_call: Callable[[str], None] | None = None,
) -> SalesforceClient:
    """A client for ``connection``: it refreshes tokens through ``connection_refresh_tokens``,
    reserves every counted call against the budget before sending it (then calls ``on_call``
    with its kind: the call is made), notes the org usage each answer reports (then calls
    ``recorder``), and refuses calls past the API budget or the org's ceiling. Raises
    ``SalesforceAuthError`` when the connection holds no tokens,
    ``SalesforceInstanceNotAllowed`` for an untrusted host."""
    if not (connection.access_token or connection.refresh_token):
        raise SalesforceAuthError(
            "This connection holds no Salesforce authorization; reconnect it.",
            reason="session_invalid",
        )
    budget = ApiBudget(
        connection,
        then=recorder,
        on_call=on_call,
        probe_seconds=2 * float(settings.SALESFORCE_REQUEST_TIMEOUT),
    )
    return SalesforceClient(
        instance_url=connection.instance_url,
        access_token=connection.access_token,
        refresh=lambda: connection_refresh_tokens(connection=connection),
        recorder=budget.record,
        budget_check=budget.check,
        budget_release=budget.release,
        **client_options(),
    )


def connection_store_tokens(*, connection: Connection, tokens: TokenSet) -> None:
    """Put a token response on the (unsaved) row: the access token, and the refresh token only
    when one came back (first grant or rotation)."""
    connection.access_token = tokens.access_token
    if tokens.refresh_token:
        connection.refresh_token = tokens.refresh_token
    connection.instance_url = tokens.instance_url
    if tokens.scope:
        connection.scopes = tokens.scope
    issued = tokens.issued_at_ms
    connection.token_issued_at = (
        datetime.fromtimestamp(issued / 1000, tz=UTC) if issued else timezone.now()
    )


def connection_refresh_tokens(*, connection: Connection) -> str:
    """Refresh the access token under a row lock and return it.

    The new access token and a rotated refresh token are saved in one transaction, so two
    workers never both spend a rotating refresh token. If another worker refreshed while this
    one waited for the lock, its token is used instead of refreshing again. On ``invalid_grant``
    the connection becomes ``needs_reauth`` and ``SalesforceAuthError`` is raised.
    """
    try:
        with transaction.atomic():
            locked = Connection.objects.select_for_update().get(pk=connection.pk)
            if locked.access_token and locked.access_token != connection.access_token:
                logger.info("Connection %s: token already refreshed elsewhere", connection.pk)
            else:
                _refresh_locked(locked)
    except SalesforceAuthError as error:
        connection_mark_auth_failure(connection=connection, error=error)
        raise
    for name in ("access_token", "refresh_token", "instance_url", "token_issued_at", "scopes"):
        setattr(connection, name, getattr(locked, name))
    return connection.access_token


def _refresh_locked(locked: Connection) -> None:
    if not locked.refresh_token:
        raise SalesforceAuthError("No refresh token is stored.", reason="token_revoked")
    tokens = oauth.token_refresh(
        login_url=trusted_login_url(locked.login_host),
        client_id=settings.SALESFORCE_CLIENT_ID,
        client_secret=settings.SALESFORCE_CLIENT_SECRET,
        refresh_token=locked.refresh_token,
        timeout=float(settings.SALESFORCE_REQUEST_TIMEOUT),
        gate=credential_gate(),
    )
    connection_store_tokens(connection=locked, tokens=tokens)
    locked.save(
        update_fields=[
            "access_token",
            "refresh_token",
            "instance_url",
            "scopes",
            "token_issued_at",
            "updated_at",
        ]
    )
    logger.info(
        "Connection %s: access token refreshed%s",
        locked.pk,
        " (refresh token rotated)" if tokens.refresh_token else "",
    )
