"""Reads of the ingestion app: progress, described fields, run history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from connections.models import Connection
from ingestion.models import DataPurge, ObjectCursor, SyncRun

# ObjectCursor.field_plan, as the planner writes it:
#   {"fields": {NAME: {"type": "email", "label": "Email", "calculated": false,
#                      "filterable": true, "nillable": true, "picklist_values": [...],
#                      "reference_to": [...], "compound_field_name": null}, ...},
#    "bulk_fields": [NAME, ...],          # selected in Bulk queries
#    "rest_fields": [NAME, ...],          # base64 fields, read over REST
#    "compounds": {NAME: {"type": "address", "components": {"city": "BillingCity", ...}}}}


@dataclass(frozen=True)
class FieldInfo:
    """A field of an ingested object, as the connected user can read it."""

    name: str
    type: str
    label: str
    picklist_values: tuple[str, ...] = ()
    reference_to: tuple[str, ...] = ()
    calculated: bool = False


def object_fields(*, connection: Connection, sobject: str) -> dict[str, FieldInfo]:
    """The fields of ``sobject`` known from the last describe (empty before the first run)."""
    cursor = ObjectCursor.objects.filter(connection=connection, sobject=sobject).first()
    fields = (cursor.field_plan or {}).get("fields", {}) if cursor else {}
    return {
        name: FieldInfo(
            name=name,
            type=info.get("type", "string"),
            label=info.get("label", name),
            picklist_values=tuple(info.get("picklist_values") or ()),
            reference_to=tuple(info.get("reference_to") or ()),
            calculated=bool(info.get("calculated")),
        )
        for name, info in fields.items()
    }


@dataclass(frozen=True)
class ObjectProgress:
    """Initial-load progress of one object."""

    sobject: str
    ingested: int
    estimated_total: int | None
    complete: bool
    percent: float | None
    eta_seconds: float | None


@dataclass(frozen=True)
class ConnectionProgress:
    """Initial-load progress of a connection, per object and overall."""

    objects: list[ObjectProgress]
    ingested: int
    estimated_total: int | None
    percent: float | None
    eta_seconds: float | None
    complete: bool
    last_run: SyncRun | None
    next_sync_at: datetime | None


def _rate(connection: Connection, ingested: int) -> float | None:
    started = connection.initial_sync_started_at
    if not started or not ingested:
        return None
    elapsed = (timezone.now() - started).total_seconds()
    return ingested / elapsed if elapsed > 0 else None


def _object_progress(cursor: ObjectCursor, rate: float | None) -> ObjectProgress:
    total = cursor.estimated_total
    done = cursor.records_ingested
    complete = cursor.initial_load_complete
    percent = 100.0 if complete else (min(done / total * 100, 99.9) if total else None)
    remaining = max((total or 0) - done, 0)
    eta = 0.0 if complete else (remaining / rate if rate and total else None)
    return ObjectProgress(cursor.sobject, done, total, complete, percent, eta)


def connection_progress(*, connection: Connection) -> ConnectionProgress:
    """Records ingested of the estimated total, per enabled object, with time remaining."""
    cursors = {
        c.sobject: c
        for c in ObjectCursor.objects.filter(
            connection=connection, sobject__in=connection.enabled_objects
        )
    }
    ingested = sum(c.records_ingested for c in cursors.values())
    rate = _rate(connection, ingested)
    objects = [
        _object_progress(cursors[name], rate)
        if name in cursors
        else ObjectProgress(name, 0, None, False, None, None)
        for name in connection.enabled_objects
    ]
    totals = [o.estimated_total for o in objects]
    total = sum(totals) if all(t is not None for t in totals) else None
    complete = connection.initial_sync_complete
    percent = 100.0 if complete else (min(ingested / total * 100, 99.9) if total else None)
    etas = [o.eta_seconds for o in objects if not o.complete]
    eta = 0.0 if complete else (max(etas) if etas and None not in etas else None)
    return ConnectionProgress(
        objects=objects,
        ingested=ingested,
        estimated_total=total,
        percent=percent,
        eta_seconds=eta,
        complete=complete,
        last_run=connection.sync_runs.order_by("-created_at").first(),
        next_sync_at=connection.next_sync_at,
    )


@dataclass(frozen=True)
class ObjectStatus:
    """Where one object of a connection stands, for ``syncstatus`` and ops."""

    sobject: str
    records: int
    deleted: int
    watermark: datetime | None
    initial_load_complete: bool
    progress: ObjectProgress
    last_error: str


def connection_object_status(*, connection: Connection) -> list[ObjectStatus]:
    """Per enabled object: records, deleted, watermark, initial load, progress."""
    from django.db.models import Count, Q

    from ingestion.models import IngestedRecord

    counts = {
        row["sobject"]: row
        for row in IngestedRecord.objects.filter(connection=connection)
        .values("sobject")
        .annotate(total=Count("id"), deleted=Count("id", filter=Q(is_deleted=True)))
    }
    cursors = {c.sobject: c for c in ObjectCursor.objects.filter(connection=connection)}
    progress = {p.sobject: p for p in connection_progress(connection=connection).objects}
    return [
        ObjectStatus(
            sobject=name,
            records=counts.get(name, {}).get("total", 0),
            deleted=counts.get(name, {}).get("deleted", 0),
            watermark=cursors[name].watermark if name in cursors else None,
            initial_load_complete=bool(name in cursors and cursors[name].initial_load_complete),
            progress=progress[name],
            last_error=cursors[name].last_error if name in cursors else "",
        )
        for name in connection.enabled_objects
    ]


def connection_api_calls_today(*, connection: Connection) -> int:
    """This connection's API calls over the rolling last 24 hours."""
    from datetime import timedelta

    from django.db.models import Sum

    since = timezone.now() - timedelta(hours=24)
    total = connection.api_usage.filter(hour__gte=since).aggregate(total=Sum("calls"))["total"]
    return total or 0


def connection_data_purge(*, connection: Connection) -> DataPurge | None:
    """The deletion of the connection's records under way, if any (for its page)."""
    return connection.purges.filter(status__in=DataPurge.ACTIVE_STATUSES).first()
