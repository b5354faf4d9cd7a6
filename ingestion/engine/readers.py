"""Turning Bulk CSV pages and REST query pages into ParsedRecords, one row at a time."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from ingestion.engine.records import ParsedRecord
from ingestion.engine.state import FieldPlan
from ingestion.engine.values import (
    csv_converters,
    facet_fields,
    facets_of,
    rebuild_compounds,
    typed_from_csv,
    typed_from_rest,
)

# Long text areas (up to 131,072 characters, rich text more) exceed csv's default field limit.
csv.field_size_limit(sys.maxsize)


def _without_nul(lines: Iterable[str]) -> Iterator[str]:
    # PostgreSQL's jsonb cannot hold U+0000; Salesforce text can (Airbyte strips it too).
    for line in lines:
        yield line.replace("\x00", "") if "\x00" in line else line


def records_from_csv(lines: Iterable[str], plan: FieldPlan) -> Iterator[ParsedRecord]:
    """Parse a Bulk result page incrementally: the page is never held whole."""
    reader = csv.reader(_without_nul(lines))
    columns = next(reader, None)
    if not columns:
        return
    converters = csv_converters(plan, columns)
    cursor_field = plan.cursor_field
    has_compounds = bool(plan.compounds)
    facets = facet_fields(plan) & set(columns)
    for row in reader:
        data = typed_from_csv(row, columns, converters)
        if has_compounds:
            rebuild_compounds(data, plan)
        yield _parsed(data, cursor_field, facets)


def records_from_rest(records: Iterable[dict], plan: FieldPlan) -> Iterator[ParsedRecord]:
    """Typed records from REST query pages (the same stored forms as the CSV path)."""
    cursor_field = plan.cursor_field
    facets = facet_fields(plan)
    for record in records:
        data = typed_from_rest(record, plan)
        rebuild_compounds(data, plan)
        yield _parsed(data, cursor_field, facets)


def _parsed(data: dict[str, Any], cursor_field: str, facets: frozenset[str]) -> ParsedRecord:
    deleted = bool(data.get("IsDeleted"))
    return ParsedRecord(data["Id"], data, data[cursor_field], deleted, facets_of(data, facets))


def join_by_id(records: list[dict], group: Iterable[dict], cursor_field: str) -> list[dict]:
    """A wide object's page: ``records`` with the fields another query of the same window read.

    A record is kept only when that query returned it with the same cursor value. One changed
    between the two queries is left out: its stamp moved on, so the next window (which starts a
    lookback before this one's end) reads it whole.
    """
    more = {record["Id"]: record for record in group}
    joined = []
    for record in records:
        other = more.get(record["Id"])
        if other is not None and other[cursor_field] == record[cursor_field]:
            joined.append({**record, **other})
    return joined
