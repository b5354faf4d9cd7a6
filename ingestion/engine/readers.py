"""Turning Bulk CSV pages and REST query pages into ParsedRecords, one row at a time."""

from __future__ import annotations

import csv
import io
import operator
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ingestion.engine.helper_process import HelperGone, shared_helper
from ingestion.engine.records import (
    LineMaker,
    Lines,
    ParsedRecord,
    SplittablePage,
    batches,
    rare_collections,
)
from ingestion.engine.state import FieldPlan
from ingestion.engine.values import (
    Converter,
    _boolean,
    canonical_datetime,
    csv_converters,
    facet_fields,
    facets_of,
    jsonb_key_order,
    rebuild_compounds,
    typed_from_rest,
)

# Long text areas (up to 131,072 characters, rich text more) exceed csv's default field limit.
csv.field_size_limit(sys.maxsize)


# PostgreSQL's jsonb cannot hold U+0000; Salesforce text can (Airbyte strips it too). A C-level
# call per line: str.replace returns the line itself when it holds no NUL.
_without_nul = operator.methodcaller("replace", "\x00", "")


@dataclass(frozen=True)
class _CsvLayout:
    """What turning a page's rows into records needs, worked out once from its header: the
    column index of every value looked up per row, so no row goes through a dict lookup.

    A record's values are laid out as the row's columns, then a None (the value of a
    component the page lacks), then one slot per compound; ``ordered`` picks the slots of the
    stored keys, ``keys``, in jsonb's order (values.jsonb_key_order): PostgreSQL then finds
    each document's keys already sorted, where sorting them cost it a third of its COPY."""

    columns: tuple[str, ...]
    converters: list[tuple[int, Converter]]
    compounds: list[tuple[tuple[str, ...], tuple[int, ...]]]  # keys and columns, per slot
    facets: list[tuple[str, int]]
    keys: tuple[str, ...]
    ordered: Callable[[list], tuple]
    id_index: int
    cursor_index: int
    deleted_index: int | None

    @classmethod
    def of(cls, plan: FieldPlan, columns: list[str]) -> _CsvLayout:
        index = {name: i for i, name in enumerate(columns)}  # a repeated name: its last column
        missing = len(columns)  # a component the page lacks reads the None appended there
        compounds = {
            name: sorted(
                ((key, index.get(field, missing)) for key, field in c.components.items()),
                key=lambda item: jsonb_key_order(item[0]),
            )
            for name, c in plan.compounds.items()
        }
        slots = {**index, **{name: missing + 1 + n for n, name in enumerate(compounds)}}
        keys = sorted(slots, key=jsonb_key_order)
        facets = [(name, index[name]) for name in facet_fields(plan) if name in index]
        return cls(
            columns=tuple(columns),
            converters=csv_converters(plan, columns),
            compounds=[
                (tuple(key for key, _ in parts), tuple(i for _, i in parts))
                for parts in compounds.values()
            ],
            facets=sorted(facets, key=lambda facet: jsonb_key_order(facet[0])),
            keys=tuple(keys),
            ordered=_getter([slots[key] for key in keys]),
            id_index=index["Id"],
            cursor_index=index[plan.cursor_field],
            deleted_index=index.get("IsDeleted"),
        )


def _getter(indexes: list[int]) -> Callable[[list], tuple]:
    """The values at ``indexes``, as a tuple: C-level (itemgetter returns a bare value for
    one index, so that case is wrapped)."""
    if len(indexes) == 1:
        (only,) = indexes
        return lambda values: (values[only],)
    return operator.itemgetter(*indexes)


def records_from_csv(lines: Iterable[str], plan: FieldPlan) -> Iterator[ParsedRecord]:
    """Parse a Bulk result page incrementally: the page is never held whole.

    The stored forms are those of values.py (typed_from_csv, rebuild_compounds, facets_of),
    computed by column index in one loop: this is the read path's hot loop (see
    bench/read_path.py), so it makes no call per column and looks nothing up by name.
    """
    reader = csv.reader(map(_without_nul, lines))
    columns = next(reader, None)
    if not columns:
        return
    layout = _CsvLayout.of(plan, columns)
    keys, ordered, converters, compounds, facets = (
        layout.keys,
        layout.ordered,
        layout.converters,
        layout.compounds,
        layout.facets,
    )
    id_index, cursor_index, deleted_index = (
        layout.id_index,
        layout.cursor_index,
        layout.deleted_index,
    )
    # Checkboxes and datetimes (most typed columns) are converted here without a call.
    checkboxes = [i for i, convert in converters if convert is _boolean]
    datetimes = [i for i, convert in converters if convert is canonical_datetime]
    converters = [(i, c) for i, c in converters if c not in (_boolean, canonical_datetime)]
    width = len(layout.columns)
    for row in reader:
        if len(row) != width:  # the slots after the columns would shift
            raise ValueError(f"a row of {len(row)} fields under a header of {width}")
        values = [raw or None for raw in row]
        for index in checkboxes:
            if (raw := values[index]) is not None:
                values[index] = raw == "true"
        for index in datetimes:
            raw = values[index]
            if raw is not None and (len(raw) != 24 or raw[-1] != "Z"):
                values[index] = canonical_datetime(raw)
        for index, convert in converters:
            if (raw := values[index]) is not None:
                values[index] = convert(raw)
        values.append(None)  # a component the page lacks
        for parts_keys, indexes in compounds:
            parts = [values[i] for i in indexes]
            values.append(
                dict(zip(parts_keys, parts, strict=True))
                if parts.count(None) < len(parts)
                else None
            )
        data = {
            key: value
            for key, value in zip(keys, ordered(values), strict=True)
            if value is not None
        }
        found = {}
        for name, index in facets:
            value = values[index]
            if value is not None:
                found[name] = value
        deleted = bool(values[deleted_index]) if deleted_index is not None else False
        yield ParsedRecord(values[id_index], data, values[cursor_index], deleted, found)


@dataclass(frozen=True)
class CsvPage(SplittablePage):
    """A Bulk result page's lines (the header first) and the plan that reads them: its
    records when iterated; as COPY lines, parsed partly in the helper process (copy_lines)."""

    lines: Iterable[str]
    plan: FieldPlan

    # Chunks handed to the helper and not yet answered: enough that it never waits for the
    # next, few enough that the worker's own parsing takes the rest.
    IN_FLIGHT = 2
    # Chunks parsed here before the helper is asked for: a page of an incremental or of a
    # small org never starts one (a process of ~110 MB per queue worker, idle five minutes).
    OWN_FIRST = 2

    def __iter__(self) -> Iterator[ParsedRecord]:
        return records_from_csv(self.lines, self.plan)

    def copy_lines(self, maker: LineMaker, batch_size: int) -> Iterator[Lines]:
        """The page's batches of ``batch_size`` records as COPY lines, the same batches as
        iterating would give, some made by the helper process while this thread makes the
        others; in the order they are ready, not the page's (a load table has no index to
        care, and keeps the newest of an Id read twice at its end)."""
        lines = iter(self.lines)
        header = next(lines, None)
        helper = None
        sent: deque[tuple[Future, tuple]] = deque()  # each with its arguments, kept
        chunks = record_chunks(lines, batch_size) if header is not None else ()
        for number, chunk in enumerate(chunks):
            if number == self.OWN_FIRST:
                helper = shared_helper()
            args = (self.plan, header + chunk, maker, batch_size)
            if helper is not None and helper.alive and len(sent) < self.IN_FLIGHT:
                sent.append((helper.submit(chunk_copy_lines, *args), args))
            else:
                yield from chunk_copy_lines(*args)
            while sent and sent[0][0].done():
                yield from _answer(*sent.popleft())
        while sent:
            yield from _answer(*sent.popleft())


def _answer(future: Future, args: tuple) -> list[Lines]:
    try:
        return future.result()
    except HelperGone:  # made here instead, from the arguments kept for this
        return chunk_copy_lines(*args)


def record_chunks(lines: Iterable[str], size: int) -> Iterator[str]:
    """``lines`` joined into chunks of ``size`` CSV records. A record ends with a line when
    the quotes read so far are even: a field holding a line break is quoted, and a quote
    inside a field is doubled (RFC 4180, as Bulk API 2.0 writes its results)."""
    chunk: list[str] = []
    rows = quotes = 0
    for line in lines:
        chunk.append(line)
        quotes += line.count('"')
        if not quotes & 1:
            rows += 1
            if rows == size:
                yield "".join(chunk)
                chunk, rows = [], 0
    if chunk:
        yield "".join(chunk)


def chunk_copy_lines(plan: FieldPlan, text: str, maker: LineMaker, batch_size: int) -> list[Lines]:
    """A header and whole records as COPY lines (in the worker, or in the helper process)."""
    records = records_from_csv(io.StringIO(text, newline=""), plan)
    with rare_collections():  # the helper's own collector, as the worker's (records.py)
        return list(maker.lines(batches(records, batch_size)))


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
    # .get: an empty value is left out of data (values.py)
    return ParsedRecord(
        data.get("Id"), data, data.get(cursor_field), deleted, facets_of(data, facets)
    )


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
