"""Field visibility: fields that exist in the org but field-level security (FLS) hides from the
connected user. Salesforce's describe silently leaves them out, so primer never reads them and
customers find them missing from the audience builder; this report names them, with the fix.

The org's fields come from ``FieldDefinition`` (setup metadata, not subject to FLS), the user's
from their describe. Checked at connect (in the preflight) and after every reconciliation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.utils import timezone

from connections.models import Connection
from connections.salesforce.client import SalesforceClient
from connections.salesforce.exceptions import SalesforceError

logger = logging.getLogger(__name__)

FIX = (
    "To sync them, give {user} Read access to these fields: in Salesforce Setup, on the user's "
    "profile or a permission set, open Object Settings → the object → Field Permissions and "
    "tick Read. Then click “Check again”; the next sync fills them in for every record."
)


def hidden_fields(
    client: SalesforceClient, visible: dict[str, Iterable[str]]
) -> dict[str, list[dict]]:
    """Per object of ``visible`` (object → the field names the user's describe shows), the
    org's fields missing from it, as [{name, label}] sorted by name; objects with none are
    left out."""
    report = {}
    for sobject, names in visible.items():
        seen = {name.lower() for name in names}
        missing = [f for f in client.field_definitions(sobject) if f["name"].lower() not in seen]
        if missing:
            report[sobject] = sorted(missing, key=lambda f: f["name"])
    return report


def visibility_report(client: SalesforceClient, visible: dict[str, Iterable[str]]) -> dict:
    """The stored form: when it was checked, and the hidden fields per object."""
    return {"checked_at": timezone.now().isoformat(), "objects": hidden_fields(client, visible)}


def connection_store_field_visibility(*, connection: Connection, report: dict) -> None:
    """Keep the latest report on the connection (one UPDATE; the instance follows)."""
    connection.field_visibility = report
    Connection.objects.filter(pk=connection.pk).update(field_visibility=report)


def connection_check_field_visibility(
    *, connection: Connection, client: SalesforceClient, visible: dict[str, Iterable[str]]
) -> dict | None:
    """Check and store the report (after a reconciliation, whose field plans say what the
    user sees). ``None`` if Salesforce refused the check; the last report then stays."""
    try:
        report = visibility_report(client, visible)
    except SalesforceError as error:
        logger.warning("Field visibility of connection %s not checked: %r", connection.pk, error)
        return None
    connection_store_field_visibility(connection=connection, report=report)
    return report


def hidden_count(report: dict) -> int:
    return sum(len(fields) for fields in (report or {}).get("objects", {}).values())


def visibility_fix(username: str) -> str:
    return FIX.format(user=username or "the connected user")
