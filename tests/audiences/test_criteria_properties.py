"""Property-based tests of criteria validation: any JSON at all is either refused with clear
messages (``CriteriaError``) or accepted as a tree that compiles and runs on the database."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiences.criteria import OPERATORS, CriteriaError, criteria_parse, field_kind
from audiences.selectors import AudienceSpec, audience_criteria_check, audience_size_estimate
from ingestion.selectors import FieldInfo
from tests.audiences.conftest import FIELDS

DESCRIBED = {
    sobject: {
        name: FieldInfo(name, f["type"], f["label"] or name, tuple(f["picklist_values"]))
        for name, f in fields.items()
    }
    for sobject, fields in FIELDS.items()
}
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from(["2024-02-30", "2024-01-15", "Technology", "1,000",
                                           "", " ", "90", "1e400"]),
)  # fmt: skip
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def conditions(draw, objects=("Account", "Contact", "Lead")):
    sobject = draw(st.sampled_from(objects))
    name = draw(st.sampled_from([*FIELDS[sobject], "Nope__c"]))
    info = DESCRIBED[sobject].get(name)
    kind = field_kind(info) if info else None
    operators = [*OPERATORS.get(kind, ()), "bogus", "between"]
    value = draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=3), ANY_JSON))
    return {"type": "condition", "object": sobject, "field": name,
            "operator": draw(st.sampled_from(operators)), "value": value}  # fmt: skip


def related():
    return st.builds(
        lambda obj, conds: {"type": "related", "object": obj, "conditions": conds},
        st.sampled_from(["Opportunity", "CampaignMember", "Case"]),
        st.lists(conditions(("Opportunity", "CampaignMember")), max_size=3),
    )


TREES = st.recursive(
    st.one_of(conditions(), related()),
    lambda inner: st.builds(
        lambda match, children: {"type": "group", "match": match, "children": children},
        st.sampled_from(["all", "any", "some"]),
        st.lists(inner, max_size=4),
    ),
    max_leaves=12,
)
HOLDS = st.sampled_from(["people", "contacts", "leads", "companies"])


@settings(max_examples=400, deadline=None)
@given(raw=st.one_of(ANY_JSON, TREES), holds=HOLDS)
def test_any_json_is_parsed_or_refused_with_messages(raw, holds):
    try:
        criteria_parse(raw, fields=DESCRIBED, holds=holds)
    except CriteriaError as error:
        messages = error.messages
    else:
        return
    assert messages
    assert all(isinstance(m, str) and m for m in messages)


@pytest.mark.django_db
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=TREES, holds=HOLDS)
def test_accepted_criteria_compile_and_count(ready_connection, raw, holds):
    try:
        tree = audience_criteria_check(connection=ready_connection, holds=holds, criteria=raw)
    except CriteriaError:
        return
    spec = AudienceSpec(connection=ready_connection, holds=holds, tree=tree)
    assert audience_size_estimate(spec=spec).total >= 0
