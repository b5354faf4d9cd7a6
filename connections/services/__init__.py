"""Writes for workspaces and connections (services write; selectors read).

Import from here: ``from connections.services import salesforce_client_for``.
"""

from connections.services.authorization import (
    ConnectOutcome,
    connection_authorize_complete,
    connection_authorize_start,
    connection_disconnect,
    connection_login_url,
    connection_reconnect_confirm,
    connection_reconnect_discard,
)
from connections.services.clients import (
    connection_refresh_tokens,
    connection_store_tokens,
    salesforce_client_for,
)
from connections.services.health import (
    connection_mark_active,
    connection_mark_auth_failure,
    connection_mark_problem,
    connection_set_status,
)
from connections.services.lifecycle import (
    connection_pause,
    connection_resume,
    connection_update_settings,
)
from connections.services.preflight import connection_run_preflight
from connections.services.usage import ApiBudget, api_usage_record
from connections.services.workspaces import workspace_add_member, workspace_create

__all__ = [
    "ApiBudget",
    "ConnectOutcome",
    "api_usage_record",
    "connection_authorize_complete",
    "connection_authorize_start",
    "connection_disconnect",
    "connection_login_url",
    "connection_mark_active",
    "connection_mark_auth_failure",
    "connection_mark_problem",
    "connection_pause",
    "connection_reconnect_confirm",
    "connection_reconnect_discard",
    "connection_refresh_tokens",
    "connection_resume",
    "connection_run_preflight",
    "connection_set_status",
    "connection_store_tokens",
    "connection_update_settings",
    "salesforce_client_for",
    "workspace_add_member",
    "workspace_create",
]
