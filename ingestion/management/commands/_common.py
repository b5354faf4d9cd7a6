"""Shared bits of the ingestion commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from connections.models import Connection


def connection_from_argument(value: str) -> Connection:
    """A connection by primary key, Salesforce org id, or exact label."""
    candidates = Connection.objects.all()
    if value.isdigit():
        found = candidates.filter(pk=int(value)).first()
    else:
        found = candidates.filter(org_id=value).first()
        if found is None:
            matches = list(candidates.filter(label=value)[:2])
            if len(matches) > 1:
                raise CommandError(f"Several connections are labelled {value!r}; use the id.")
            found = matches[0] if matches else None
    if found is None:
        raise CommandError(f"No connection {value!r} (give its id, org id or label).")
    return found


def objects_from_argument(value: str | None, connection: Connection) -> list[str] | None:
    if not value:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(connection.enabled_objects))
    if unknown:
        raise CommandError(
            f"Not enabled on {connection}: {', '.join(unknown)} "
            f"(enabled: {', '.join(connection.enabled_objects)})."
        )
    return names
