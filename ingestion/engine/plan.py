"""Which fields of an object to read, and how, from its describe.

Every field the connected user can read is read. Compound address and geolocation fields are
never put in a Bulk query (Salesforce refuses them); their component fields are, and the
compound value is rebuilt from them. base64 fields are read over REST, for just those fields;
the object itself stays on Bulk.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/
query_considerations.htm (compound fields), and the describe field attributes in
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesobjects_describesobjectresult.htm
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ingestion.engine.state import Compound, FieldPlan, PlannedField

COMPOUND_TYPES = ("address", "location")
REST_ONLY_TYPES = ("base64",)
CURSOR_FIELDS = ("SystemModstamp", "LastModifiedDate", "CreatedDate")


def _planned(field: dict[str, Any]) -> PlannedField:
    return PlannedField(
        type=field["type"],
        label=field.get("label") or field["name"],
        calculated=bool(field.get("calculated")),
        filterable=bool(field.get("filterable", True)),
        nillable=bool(field.get("nillable", True)),
        picklist_values=tuple(
            p["value"] for p in field.get("picklistValues") or () if p.get("active", True)
        ),
        reference_to=tuple(field.get("referenceTo") or ()),
        compound_field_name=field.get("compoundFieldName"),
    )


def component_key(compound: str, component: str) -> str:
    """The key a component has inside its rebuilt compound value, as REST names it.

    ``BillingAddress``/``BillingCity`` -> ``city``; Lead ``Address``/``PostalCode`` ->
    ``postalCode``; ``Site__c``/``Site__Latitude__s`` -> ``latitude``.
    """
    if compound.endswith("__c"):
        rest = component[len(compound) - 1 :]  # "Site__Latitude__s" -> "Latitude__s"
        rest = re.sub(r"__s$", "", rest)
    else:
        prefix = compound[: -len("Address")] if compound.endswith("Address") else compound
        rest = component[len(prefix) :]
    return rest[:1].lower() + rest[1:]


def _compounds(fields: list[dict[str, Any]]) -> dict[str, Compound]:
    by_name = {f["name"]: f for f in fields}
    compounds: dict[str, Compound] = {}
    for field in fields:
        parent = field.get("compoundFieldName")
        if parent and parent in by_name and by_name[parent]["type"] in COMPOUND_TYPES:
            entry = compounds.setdefault(parent, Compound(by_name[parent]["type"], {}))
            entry.components[component_key(parent, field["name"])] = field["name"]
    return compounds


def build_plan(describe: dict[str, Any]) -> FieldPlan:
    """The field plan for one object."""
    fields = describe["fields"]
    names = {f["name"] for f in fields}
    bulk = [f["name"] for f in fields if f["type"] not in COMPOUND_TYPES + REST_ONLY_TYPES]
    return FieldPlan(
        fields={f["name"]: _planned(f) for f in fields},
        bulk_fields=tuple(bulk),
        rest_fields=tuple(f["name"] for f in fields if f["type"] in REST_ONLY_TYPES),
        compounds=_compounds(fields),
        cursor_field=next((name for name in CURSOR_FIELDS if name in names), None),
        has_is_deleted="IsDeleted" in names,
        queryable=bool(describe.get("queryable", True)),
    )


def plan_hash(plan: FieldPlan) -> str:
    """A stable hash of what a plan reads, to notice schema changes between runs."""
    shape = {"bulk": list(plan.bulk_fields), "rest": list(plan.rest_fields), "types": plan.types}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def plan_difference(old: FieldPlan, new: FieldPlan) -> tuple[list[str], list[str]]:
    """Fields that appeared and fields that disappeared between two plans."""
    before, after = set(old.fields), set(new.fields)
    return sorted(after - before), sorted(before - after)
