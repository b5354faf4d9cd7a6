"""What the builder page needs: fields by object, operators by type, the gate, and a search
over every value a list-valued field can take (campaigns by name, picklist values)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.db.models.functions import Lower
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

VALUES_PAGE_SIZE = 50


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


def is_campaign_field(sobject: str, field: str) -> bool:
    """CampaignMember.CampaignId: its values are the connection's campaigns, shown by name."""
    return sobject == "CampaignMember" and field == "CampaignId"


@dataclass(frozen=True)
class ValuesPage:
    """One page of a field's values, as ``[value, label]`` pairs."""

    results: list[list[str]]
    page: int
    has_more: bool


def _campaign_search(connection: Connection, query: str):
    campaigns = records_of(connection=connection, sobject="Campaign").annotate(name=_text("Name"))
    if query:
        campaigns = campaigns.filter(name__icontains=query)
    return campaigns.order_by(Lower("name"), "sf_id").values_list("sf_id", "name")


def field_values(
    *, connection: Connection, sobject: str, field: str, query: str, page: int
) -> ValuesPage | None:
    """Values of a list-valued field matching ``query`` (case-insensitive, anywhere in the
    label), one page at a time; None when the field has no list of values.

    Every value is searched: campaigns are all the connection's live Campaign rows (not a
    first few hundred), picklist values all those of the field's describe.
    """
    start = (page - 1) * VALUES_PAGE_SIZE
    end = start + VALUES_PAGE_SIZE
    if is_campaign_field(sobject, field):
        rows = list(_campaign_search(connection, query)[start : end + 1])
        pairs = [[sf_id, name or sf_id] for sf_id, name in rows]
    else:
        info = connection_fields(connection=connection).get(sobject, {}).get(field)
        if info is None or not info.picklist_values:
            return None
        needle = query.casefold()
        matching = [v for v in info.picklist_values if needle in v.casefold()]
        pairs = [[v, v] for v in matching[start : end + 1]]
    return ValuesPage(
        results=pairs[:VALUES_PAGE_SIZE], page=page, has_more=len(pairs) > end - start
    )


# A record Id: 15 characters, or 18 with the case-safe suffix; letters and digits only.
# https://help.salesforce.com/s/articleView?id=000385008&type=1
SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def campaign_names(connection: Connection, criteria: object) -> dict[str, str]:
    """Names of the campaigns the criteria mention (any string in them that is a campaign id),
    so the builder's chips and the criteria in words show names, however many campaigns exist."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and SALESFORCE_ID.fullmatch(node):
            found.add(node)

    walk(criteria)
    if not found:
        return {}
    campaigns = records_of(connection=connection, sobject="Campaign").filter(sf_id__in=found)
    return {sf_id: name or sf_id for sf_id, name in campaigns.values_list("sf_id", _text("Name"))}


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
        "value_labels": campaign_names(connection, criteria),
        "values_url": reverse("audiences:values"),
        "values_page_size": VALUES_PAGE_SIZE,
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
    names = campaign_names(audience.connection, audience.criteria)
    return criteria_words(audience.criteria, labels=labels, names=names)
