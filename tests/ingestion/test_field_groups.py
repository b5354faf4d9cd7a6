"""A wide object's REST window read: field groups that fit the request line, merged by Id."""

import string
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ingestion.engine.readers import join_by_id
from ingestion.engine.windows import (
    QUERY_BUDGET,
    Window,
    encoded_length,
    field_groups,
    select_soql,
)

KEYS = ["Id", "SystemModstamp"]
NAME = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=37).map(
    lambda s: f"F{s}__c"
)
FIELDS = st.lists(NAME, unique=True, max_size=900)


def widest_queries(sobject: str, fields: list[str]) -> list[str]:
    """Every query a group's read can make, at its longest."""
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 11, 29, 23, 59, tzinfo=UTC))
    ids = ("001Aa000001AbCdEAA", "001Aa000009ZzZzZAA")
    return [
        select_soql(sobject, fields, window, "SystemModstamp", by_id=True),
        select_soql(sobject, fields, window, "SystemModstamp", ids=ids),
    ]


@given(FIELDS)
def test_every_field_is_read_once_and_every_query_fits(custom):
    fields = [*KEYS, "Name", "IsDeleted", *custom]
    groups = field_groups("Account", fields, "SystemModstamp")
    if len(groups) == 1:
        assert groups == [fields]
    else:
        assert all(group[:2] == KEYS for group in groups)
        rest = [name for group in groups for name in group[2:]]
        assert rest == fields[2:]
    for group in groups:
        for soql in widest_queries("Account", group):
            assert encoded_length(soql) <= QUERY_BUDGET


def test_650_custom_fields_of_real_length_take_two_groups():
    custom = [f"Customer_Attribute_{i:03d}__c" for i in range(650)]
    groups = field_groups("Account", [*KEYS, *custom], "SystemModstamp")
    assert len(groups) == 2
    assert encoded_length(select_soql("Account", [*KEYS, *custom], None, None)) > 16_384


def _row(sf_id, stamp, **values):
    return {"Id": sf_id, "SystemModstamp": stamp, **values}


def test_join_by_id_merges_the_other_group_into_each_record():
    first = [_row("a", "t1", Name="A"), _row("b", "t1", Name="B")]
    other = [_row("b", "t1", Size__c=2), _row("a", "t1", Size__c=1), _row("z", "t1", Size__c=9)]
    assert join_by_id(first, other, "SystemModstamp") == [
        _row("a", "t1", Name="A", Size__c=1),
        _row("b", "t1", Name="B", Size__c=2),
    ]


def test_join_by_id_leaves_out_a_record_that_changed_between_the_queries():
    first = [_row("a", "t1", Name="A"), _row("b", "t1", Name="B"), _row("c", "t1", Name="C")]
    other = [_row("a", "t2", Size__c=1), _row("c", "t1", Size__c=3)]  # a changed, b gone
    assert join_by_id(first, other, "SystemModstamp") == [_row("c", "t1", Name="C", Size__c=3)]
