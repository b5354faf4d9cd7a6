"""What the builder page needs: fields by object, operators by type, campaigns, the gate."""

from __future__ import annotations

import json

from django.urls import reverse

from audiences.criteria import (
    FILTER_OBJECTS,
    LIST_VALUE,
    NO_VALUE,
    OPERATOR_LABELS,
    OPERATORS,
    RELATED_OBJECTS,
    allowed_objects,
    criteria_words,
    field_kind,
)
from audiences.selectors.compiler import Gate, _text, connection_fields, records_of
from connections.models import Connection

MAX_CAMPAIGNS = 500


def _fields(connection: Connection) -> dict[str, list[dict]]:
    described = connection_fields(connection=connection)
    return {
        sobject: sorted(
            (
                {
                    "name": f.name,
                    "label": f.label,
                    "kind": field_kind(f),
                    "picklist": list(f.picklist_values),
                }
                for f in fields.values()
                if field_kind(f)
            ),
            key=lambda f: f["label"].lower(),
        )
        for sobject, fields in described.items()
    }


def _campaigns(connection: Connection) -> list[list[str]]:
    campaigns = records_of(connection=connection, sobject="Campaign")
    rows = campaigns.values_list("sf_id", _text("Name")).order_by("-system_modstamp")
    return [[sf_id, name or sf_id] for sf_id, name in rows[:MAX_CAMPAIGNS]]


def builder_config(*, connection: Connection, gate: Gate, criteria: object) -> dict:
    """The builder's JSON configuration (rendered with json_script)."""
    if isinstance(criteria, str):
        try:
            criteria = json.loads(criteria or "{}")
        except ValueError:
            criteria = {}
    return {
        "connection": connection.pk,
        "criteria": criteria or {},
        "fields": _fields(connection),
        "operators": {kind: list(ops) for kind, ops in OPERATORS.items()},
        "operator_labels": OPERATOR_LABELS,
        "no_value": sorted(NO_VALUE),
        "list_value": sorted(LIST_VALUE),
        "objects": {
            h: list(allowed_objects(h)) for h in ("people", "contacts", "leads", "companies")
        },
        "filter_objects": list(FILTER_OBJECTS),
        "related_objects": list(RELATED_OBJECTS),
        "campaigns": _campaigns(connection),
        "gate": {"locked": gate.locked, "message": gate.message},
        "estimate_url": reverse("audiences:estimate"),
        "gate_url": reverse("audiences:gate", args=[connection.pk]),
    }


def audience_criteria_words(*, audience) -> str:
    """The audience's criteria in words, with field labels and campaign names."""
    if not audience.criteria:
        return ""
    described = connection_fields(connection=audience.connection)
    labels = {obj: {n: f.label for n, f in fields.items()} for obj, fields in described.items()}
    names = dict(_campaigns(audience.connection))
    return criteria_words(audience.criteria, labels=labels, names=names)
