"""``FieldDefinition``: the org's field metadata, every field of an object whatever the asking
user's field-level security (FLS). Comparing it with the user's describe shows which fields
FLS hides from them.

Only the shape connectors use is served: ``SELECT QualifiedApiName, Label[, DataType] FROM
FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Account'``. Salesforce requires the
filter on the entity, and reading setup metadata needs "View Setup and Configuration".

Reference: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_fielddefinition.htm
"""

from __future__ import annotations

import re

from emulator.schema.fields import _label_from_name
from emulator.soql.errors import SoqlError

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<columns>[\w\s,]+?)\s+FROM\s+FieldDefinition\s+WHERE\s+"
    r"EntityDefinition\.QualifiedApiName\s*=\s*'(?P<entity>\w+)'\s*$",
    re.IGNORECASE,
)
COLUMNS = {"qualifiedapiname", "label", "datatype", "durableid"}


def is_field_definition_query(soql: str) -> bool:
    return re.search(r"\bFROM\s+FieldDefinition\b", soql, re.IGNORECASE) is not None


def field_definitions(org, username: str, soql: str, version: str) -> dict:
    """The query response: one record per field of the entity (FLS does not apply)."""
    match = _QUERY.match(soql)
    if match is None:
        raise SoqlError(
            "MALFORMED_QUERY",
            "FieldDefinition queries must filter on EntityDefinition.QualifiedApiName = '…'",
        )
    columns = [c.strip() for c in match["columns"].split(",")]
    unknown = [c for c in columns if c.lower() not in COLUMNS]
    if unknown:
        raise SoqlError("INVALID_FIELD", f"No such column '{unknown[0]}' on FieldDefinition")
    state = org.user_state(username)
    if not state.user.view_setup:
        raise SoqlError("INSUFFICIENT_ACCESS", "View Setup and Configuration is required")
    obj = org.object_def(match["entity"])
    if obj is None or not state.can_read(obj.name):
        return {"totalSize": 0, "done": True, "records": []}
    records = [_record(obj, f, columns, version) for f in obj.fields]
    return {"totalSize": len(records), "done": True, "records": records}


def _record(obj, f, columns: list[str], version: str) -> dict:
    durable = f"{obj.name}.{f.name}"
    values = {
        "qualifiedapiname": f.name,
        "label": f.label or _label_from_name(f.name),
        "datatype": f.type,
        "durableid": durable,
    }
    record = {
        "attributes": {
            "type": "FieldDefinition",
            "url": f"/services/data/v{version}/sobjects/FieldDefinition/{durable}",
        }
    }
    for column in columns:
        record[column] = values[column.lower()]
    return record
