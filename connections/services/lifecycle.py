"""Settings, pausing and resuming: the customer's and ops' other writes (a sync on request is
ingestion's ``connection_sync_now``)."""

from __future__ import annotations

from connections.models import Connection
from connections.services.health import connection_set_status


def connection_update_settings(
    *,
    connection: Connection,
    api_budget_percent: int,
    org_usage_ceiling_percent: int,
    sync_interval_minutes: int,
) -> Connection:
    """Save the API budget, the org ceiling and the sync interval (validated by the form and,
    for the ranges, by database constraints)."""
    connection.api_budget_percent = api_budget_percent
    connection.org_usage_ceiling_percent = org_usage_ceiling_percent
    connection.sync_interval_minutes = sync_interval_minutes
    connection.save(
        update_fields=[
            "api_budget_percent",
            "org_usage_ceiling_percent",
            "sync_interval_minutes",
            "updated_at",
        ]
    )
    return connection


def connection_pause(*, connection: Connection) -> bool:
    """Stop scheduled syncs of an active connection (ops). ``False`` if it was not active."""
    if connection.status != Connection.Status.ACTIVE:
        return False
    connection_set_status(
        connection=connection,
        status=Connection.Status.PAUSED,
        reason="paused_by_ops",
        cause="Syncing is paused by primer's operations team.",
        fix="Nothing to do: syncing resumes when they resume it.",
    )
    return True


def connection_resume(*, connection: Connection) -> bool:
    """Resume a paused connection (ops). ``False`` if it was not paused."""
    if connection.status != Connection.Status.PAUSED:
        return False
    connection_set_status(connection=connection, status=Connection.Status.ACTIVE)
    return True
