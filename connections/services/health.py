"""Connection health: failures become a status with the cause and the fix on the row."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from connections.models import Connection
from connections.problems import Problem, problem_for
from connections.salesforce.exceptions import SalesforceError
from connections.signals import connection_status_changed

logger = logging.getLogger(__name__)

# A customer's or ops' decision outranks what a failed request says about the connection.
_STICKY = (Connection.Status.DISCONNECTED,)


def connection_set_status(
    *, connection: Connection, status: str, reason: str = "", cause: str = "", fix: str = ""
) -> None:
    """Write a status with its reason code, cause and fix (one UPDATE; the instance follows)."""
    now = timezone.now()
    previous = connection.status
    changed = previous != status
    fields = {
        "status": status,
        "status_reason": reason,
        "status_message": cause,
        "status_fix": fix,
        "updated_at": now,
    }
    if changed:
        fields["status_changed_at"] = now
    Connection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)
    if changed:
        transaction.on_commit(
            lambda: connection_status_changed.send(
                sender=Connection, connection=connection, previous=previous
            )
        )


def connection_mark_problem(*, connection: Connection, problem: Problem) -> None:
    """Record a problem on the connection, unless the customer disconnected it meanwhile."""
    current = Connection.objects.filter(pk=connection.pk).values_list("status", flat=True).first()
    if current in _STICKY:
        return
    logger.warning("Connection %s is now %s: %s", connection.pk, problem.status, problem.reason)
    connection_set_status(
        connection=connection,
        status=problem.status,
        reason=problem.reason,
        cause=problem.cause,
        fix=problem.fix,
    )


def connection_mark_auth_failure(*, connection: Connection, error: SalesforceError) -> None:
    """Turn an auth or permission failure into ``needs_reauth`` (or ``error``) with the cause
    and the fix in plain words. ``needs_reauth`` stops syncing until the customer reconnects."""
    problem = problem_for(error, user=connection.sf_username)
    connection_mark_problem(connection=connection, problem=problem)


def connection_mark_active(*, connection: Connection) -> None:
    """Clear a problem: the connection works again."""
    connection_set_status(connection=connection, status=Connection.Status.ACTIVE)
