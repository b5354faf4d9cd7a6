"""Turning Salesforce values into the typed values IngestedRecord.data keeps.

Stored forms: numbers as JSON numbers, booleans as booleans, dates ``YYYY-MM-DD``, datetimes
``YYYY-MM-DDTHH:MM:SS.sssZ`` (fixed width, UTC, so string order is time order), multi-select
picklists as lists, compound addresses and locations rebuilt as REST gives them. An empty
field is left out of a record's data: reading it (``data ->> 'Field'``, ``data.get``) gives null
all the same, and PostgreSQL parses a third less JSON per row on every write (bench/README.md,
"Empty fields left out"). Bulk CSV cannot tell an empty string from null; Salesforce stores
empty text as null anyway.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/
datafiles_date_format.htm
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ingestion.engine.state import FieldPlan

Converter = Callable[[str], Any] | None

# The field types audiences test by equality (picklists, multi-select picklists, checkboxes).
# Their non-null values are copied into IngestedRecord.facets, which alone carries a GIN index:
# indexing every key of data made the index ~80% of the cost of writing a record.
FACET_TYPES = frozenset({"picklist", "multipicklist", "boolean"})


def jsonb_key_order(key: str) -> tuple[int, bytes]:
    """The order in which PostgreSQL keeps a jsonb object's keys: shorter first, then by
    bytes. A document written in it is taken as it comes; other orders are sorted per row.
    https://www.postgresql.org/docs/15/datatype-json.html"""
    encoded = key.encode()
    return len(encoded), encoded


def facet_fields(plan: FieldPlan) -> frozenset[str]:
    """The fields of a plan whose values go into ``facets``."""
    return frozenset(name for name, kind in plan.types.items() if kind in FACET_TYPES)


def facets_of(data: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The non-null values of ``fields`` in a record's data."""
    return {name: value for name in fields if (value := data.get(name)) is not None}


def _boolean(value: str) -> bool:
    return value == "true"


def _integer(value: str) -> int:
    return int(float(value)) if "." in value or "E" in value else int(value)


def _multi(value: str) -> list[str]:
    return value.split(";")


def canonical_datetime(value: str) -> str:
    """``2024-04-16T19:00:00.000+0000`` or ``...Z`` -> ``2024-04-16T19:00:00.000Z``."""
    if len(value) == 24 and value.endswith("Z"):
        return value
    return format_datetime(parse_datetime(value))


def parse_datetime(value: str) -> datetime:
    """A Salesforce datetime string as an aware UTC datetime."""
    text = value.replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00
    return datetime.fromisoformat(text).astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """The stored form of a datetime."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_CSV_CONVERTERS: dict[str, Converter] = {
    "boolean": _boolean,
    "int": _integer,
    "long": _integer,
    "double": float,
    "currency": float,
    "percent": float,
    "datetime": canonical_datetime,
    "multipicklist": _multi,
}


def csv_converters(plan: FieldPlan, columns: list[str]) -> list[tuple[int, Converter]]:
    """(column index, converter) of the CSV columns that are not text."""
    found = [_CSV_CONVERTERS.get(plan.type_of(col) or "string") for col in columns]
    return [(index, convert) for index, convert in enumerate(found) if convert is not None]


def typed_from_csv(
    row: list[str], columns: list[str], converters: list[tuple[int, Converter]]
) -> dict:
    """A CSV row as a dict of typed values (empty -> None): a pass's patch, where None
    clears the stored value (records.merge_fields)."""
    # Text (most columns) passes as is: only the typed columns are visited one by one.
    values = [raw or None for raw in row]
    for index, convert in converters:
        if values[index] is not None:
            values[index] = convert(values[index])
    return dict(zip(columns, values, strict=True))


def typed_from_rest(record: dict[str, Any], plan: FieldPlan) -> dict[str, Any]:
    """A REST record's values in the stored forms (REST JSON already types most of them);
    empty fields left out."""
    types = plan.types
    out = {}
    for name, value in record.items():
        if name == "attributes" or value is None or value == "":
            continue
        kind = types.get(name)
        if kind == "datetime":
            out[name] = canonical_datetime(value)
        elif kind == "multipicklist" and isinstance(value, str):
            out[name] = value.split(";")
        elif kind in ("double", "currency", "percent") and isinstance(value, int | float):
            out[name] = float(value)
        else:
            out[name] = value
    return out


def rebuild_compounds(data: dict[str, Any], plan: FieldPlan) -> None:
    """Add each compound field, built from its components (left out when all are empty)."""
    for name, compound in plan.compounds.items():
        value = {key: data.get(component) for key, component in compound.components.items()}
        if any(part is not None for part in value.values()):
            data[name] = value
        else:
            data.pop(name, None)
