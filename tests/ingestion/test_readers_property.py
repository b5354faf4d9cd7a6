"""The tuned Bulk CSV reader stores exactly what the plain one did, for any page.

``reference_records`` is records_from_csv as it was before the read path was tuned (a dict per
row, then compounds and facets looked up by name, all through values.py). Hypothesis writes
pages as Salesforce does (every value quoted, LF line ends) with quotes, newlines, NULs,
unicode, empty values, checkboxes, numbers, datetimes in both offsets and multi-picklists,
columns in any order, a compound missing a component, and checks both readers agree.
"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.engine.readers import _parsed, records_from_csv
from ingestion.engine.state import FieldPlan
from ingestion.engine.values import (
    csv_converters,
    facet_fields,
    rebuild_compounds,
    typed_from_csv,
)

TYPES = {
    "Id": "id",
    "SystemModstamp": "datetime",
    "IsDeleted": "boolean",
    "Name": "string",
    "Status": "picklist",
    "Tags__c": "multipicklist",
    "Opted__c": "boolean",
    "Score__c": "double",
    "Seats__c": "int",
    "Born__c": "date",
    "Seen__c": "datetime",
    "MailingCity": "string",
    "MailingLatitude": "double",
    "Site__Latitude__s": "double",
}
PLAN = FieldPlan.from_json(
    {
        "cursor_field": "SystemModstamp",
        "fields": {name: {"type": kind} for name, kind in TYPES.items()},
        "compounds": {
            "MailingAddress": {
                "type": "address",
                "components": {
                    "city": "MailingCity",
                    "latitude": "MailingLatitude",
                    "country": "MailingCountry",  # never a column: always null
                },
            },
            "Site__c": {"type": "location", "components": {"latitude": "Site__Latitude__s"}},
        },
    }
)

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
stamp = st.builds(
    lambda day, ms, offset: f"2026-01-{day:02d}T09:00:00.{ms:03d}{offset}",
    st.integers(1, 28),
    st.integers(0, 999),
    st.sampled_from(["Z", "+0000", "-0230"]),
)
VALUES = {
    "id": st.from_regex(r"[0-9A-Za-z]{18}", fullmatch=True),
    "datetime": st.one_of(stamp, st.just("")),
    "boolean": st.one_of(st.sampled_from(["true", "false", ""]), text),
    "string": text,
    "picklist": st.one_of(st.sampled_from(["Open", "Closed", ""]), text),
    "multipicklist": st.one_of(
        st.lists(st.sampled_from(["Golf", "Sail", "", 'a"b']), max_size=3).map(";".join), text
    ),
    "double": st.one_of(
        st.floats(allow_nan=False, allow_infinity=False).map(repr), st.just(""), st.just("1E+3")
    ),
    "int": st.one_of(st.integers(-(10**12), 10**12).map(str), st.just("7.0"), st.just("")),
    "date": st.one_of(st.dates().map(str), st.just("")),
}


def reference_records(lines, plan):
    """records_from_csv before the read path was tuned."""
    reader = csv.reader(line.replace("\x00", "") for line in lines)
    columns = next(reader, None)
    if not columns:
        return
    converters = csv_converters(plan, columns)
    facets = facet_fields(plan) & set(columns)
    for row in reader:
        typed = typed_from_csv(row, columns, converters)
        data = {name: value for name, value in typed.items() if value is not None}
        if plan.compounds:
            rebuild_compounds(data, plan)
        yield _parsed(data, plan.cursor_field, facets)


@st.composite
def pages(draw):
    optional = [name for name in TYPES if name not in ("Id", "SystemModstamp")]
    columns = ["Id", "SystemModstamp", *draw(st.lists(st.sampled_from(optional), unique=True))]
    columns = draw(st.permutations(columns))
    rows = draw(
        st.lists(st.fixed_dictionaries({name: VALUES[TYPES[name]] for name in columns}), max_size=6)
    )
    nul = draw(st.booleans())
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = [row[name] for name in columns]
        if nul and values[2:]:
            values[-1] += "\x00"
        writer.writerow(values)
    return out.getvalue()


def _lines(page: str):
    return iter(io.StringIO(page, newline=""))


@settings(max_examples=300, deadline=None)
@given(pages())
def test_the_tuned_reader_stores_what_the_reference_stores(page):
    try:
        expected = list(reference_records(_lines(page), PLAN))
    except ValueError as error:  # a value the plain reader refused (e.g. "1E+3" as an int)
        refused = type(error)
    else:
        assert list(records_from_csv(_lines(page), PLAN)) == expected
        return
    try:
        list(records_from_csv(_lines(page), PLAN))
    except refused:
        return
    raise AssertionError("the tuned reader accepted a page the reference refused")


def test_a_row_with_a_field_too_many_is_refused_by_both():
    page = '"Id","SystemModstamp"\n"001000000000001AAA","2026-01-01T09:00:00.000Z","x"\n'
    for reader in (reference_records, records_from_csv):
        try:
            list(reader(_lines(page), PLAN))
        except ValueError:
            continue
        raise AssertionError(f"{reader.__name__} accepted a row longer than its header")
