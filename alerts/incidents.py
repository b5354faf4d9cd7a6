"""What is wrong with a connection right now, as alert-worthy incidents. Reads only: the
services compare this with the open alerts to open new ones and resolve the rest."""

from __future__ import annotations

from dataclasses import dataclass

from connections.models import Connection
from connections.selectors import connections_sharing_username
from connections.services.authorization import APPROVALS_PER_USER
from ingestion.models import SyncRun
from ingestion.wording import PAUSE_CODES_BUDGET, run_words

Kind = str
# Warn once the Salesforce user holds this many of its five approvals with us: one more
# connection of that user and Salesforce silently revokes the oldest.
APPROVALS_NEAR = APPROVALS_PER_USER - 1


@dataclass(frozen=True)
class Incident:
    """A problem as the alert states it."""

    title: str
    message: str
    fix: str


def connection_incidents(connection: Connection) -> dict[Kind, Incident]:
    """Every alert-worthy problem of ``connection`` now, by alert kind."""
    if connection.status == Connection.Status.DISCONNECTED:
        return {}
    found: dict[Kind, Incident] = {}
    if connection.status == Connection.Status.NEEDS_REAUTH:
        found["needs_reauth"] = Incident(
            title="needs reconnecting",
            message=connection.status_message or "Salesforce no longer accepts the connection.",
            fix=connection.status_fix or "Reconnect it on its page.",
        )
    elif connection.status == Connection.Status.ERROR:
        found["connection_error"] = Incident(
            title="stopped syncing",
            message=connection.status_message or "Syncing is stopped by a problem.",
            fix=connection.status_fix or "Open the connection's page to see what to fix.",
        )
    _add_run_incidents(connection, found)
    _add_approval_incident(connection, found)
    return found


def _add_run_incidents(connection: Connection, found: dict[Kind, Incident]) -> None:
    runs = connection.sync_runs.order_by("-created_at")
    paused = runs.filter(error_code__in=PAUSE_CODES_BUDGET).exclude(
        status__in=SyncRun.FINISHED_STATUSES
    )
    run = paused.first()
    if run is not None:
        words = run_words(run)
        found["run_paused"] = Incident(
            title="sync paused on the API budget",
            message=f"{words.headline} {words.detail}".strip(),
            fix=words.fix,
        )
    last = runs.filter(
        status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL, SyncRun.Status.FAILED]
    ).first()
    if last is not None and last.status != SyncRun.Status.SUCCEEDED:
        words = run_words(last)
        outcome = "failed" if last.status == SyncRun.Status.FAILED else "finished incomplete"
        found["sync_failed"] = Incident(
            title=f"sync {outcome}",
            message=f"The {last.get_kind_display().lower()} sync {outcome}. "
            + (f"{words.headline} {words.detail}".strip() if words else ""),
            fix=words.fix if words else "Nothing to do: the next sync tries again.",
        )


def _add_approval_incident(connection: Connection, found: dict[Kind, Incident]) -> None:
    held = 1 + connections_sharing_username(
        username=connection.sf_username, exclude_pk=connection.pk
    )
    if connection.sf_username and held >= APPROVALS_NEAR:
        found["approval_limit"] = Incident(
            title="Salesforce approval limit near",
            message=f"{connection.sf_username} holds {held} connections with primer. Salesforce "
            f"keeps {APPROVALS_PER_USER} approvals per user and app, and silently revokes the "
            "oldest when another is made.",
            fix="Reconnect this org with a dedicated integration user that no other "
            "connection uses.",
        )
