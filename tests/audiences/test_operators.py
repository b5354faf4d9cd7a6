"""Every operator on every field type, against records with known values, nulls and deletes."""

import datetime as dt

import pytest
from django.utils import timezone

from audiences.criteria import criteria_parse
from audiences.selectors import connection_fields, criteria_records

TODAY = timezone.now().date()


def _days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


@pytest.fixture
def contacts(ready_connection, record_factory):
    """Four contacts with known values, one with nulls everywhere, and a deleted one."""
    c = ready_connection
    make = record_factory
    return {
        "ada": make(
            c,
            "Contact",
            Title="VP Sales",
            Email="ada@acme.example",
            Score__c=10,
            LeadSource="Web",
            HasOptedOutOfEmail=False,
            Interests__c=["AI", "Data"],
            Birthdate="1990-05-01",
            CreatedDate=f"{_days_ago(5)}T10:00:00.000Z",
        ),
        "bob": make(
            c,
            "Contact",
            Title="Engineer",
            Email="bob@globex.example",
            Score__c=2.5,
            LeadSource="Event",
            HasOptedOutOfEmail=True,
            Interests__c=["Cloud"],
            Birthdate="1985-12-31",
            CreatedDate=f"{_days_ago(200)}T23:59:59.000Z",
        ),
        "cy": make(
            c,
            "Contact",
            Title="vp marketing",
            Email=None,
            Score__c=50,
            LeadSource="Web",
            HasOptedOutOfEmail=False,
            Interests__c=[],
            Birthdate="2000-01-01",
            CreatedDate=f"{_days_ago(400)}T00:00:00.000Z",
        ),
        "nul": make(
            c,
            "Contact",
            Title=None,
            Email=None,
            Score__c=None,
            LeadSource=None,
            HasOptedOutOfEmail=False,
            Interests__c=None,
            Birthdate=None,
            CreatedDate=None,
        ),
        "gone": make(
            c,
            "Contact",
            is_deleted=True,
            Title="VP Sales",
            Score__c=10,
            LeadSource="Web",
            HasOptedOutOfEmail=False,
            Interests__c=["AI"],
            Birthdate="1990-05-01",
            CreatedDate=f"{_days_ago(5)}T10:00:00.000Z",
        ),
    }


def _names(connection, contacts, field, operator, value=None):
    raw = {
        "type": "group",
        "children": [
            {
                "type": "condition",
                "object": "Contact",
                "field": field,
                "operator": operator,
                "value": value,
            }
        ],
    }
    tree = criteria_parse(raw, fields=connection_fields(connection=connection), holds="contacts")
    found = set(criteria_records(connection=connection, target="Contact", tree=tree))
    return {name for name, record in contacts.items() if record in found}


CASES = [
    # text
    ("Title", "is_known", None, {"ada", "bob", "cy"}),
    ("Title", "is_unknown", None, {"nul"}),
    ("Title", "equals", "vp sales", {"ada"}),
    ("Title", "not_equals", "VP Sales", {"bob", "cy", "nul"}),
    ("Title", "any_of", ["engineer", "VP MARKETING"], {"bob", "cy"}),
    ("Title", "none_of", ["Engineer"], {"ada", "cy", "nul"}),
    ("Title", "contains", "vp", {"ada", "cy"}),
    ("Title", "starts_with", "Eng", {"bob"}),
    ("Email", "contains", "@acme", {"ada"}),
    # picklist
    ("LeadSource", "equals", "Web", {"ada", "cy"}),
    ("LeadSource", "not_equals", "Web", {"bob", "nul"}),
    ("LeadSource", "any_of", ["Event"], {"bob"}),
    ("LeadSource", "none_of", ["Event"], {"ada", "cy", "nul"}),
    ("LeadSource", "is_unknown", None, {"nul"}),
    # multi-select picklist
    ("Interests__c", "includes", ["Data"], {"ada"}),
    ("Interests__c", "includes", ["Cloud", "AI"], {"ada", "bob"}),
    ("Interests__c", "is_unknown", None, {"nul"}),
    # number
    ("Score__c", "equals", 10, {"ada"}),
    ("Score__c", "not_equals", 10, {"bob", "cy", "nul"}),
    ("Score__c", "any_of", [2.5, 50], {"bob", "cy"}),
    ("Score__c", "none_of", [2.5, 50], {"ada", "nul"}),
    ("Score__c", "gt", 5, {"ada", "cy"}),
    ("Score__c", "lt", 10, {"bob"}),
    ("Score__c", "between", [2.5, 10], {"ada", "bob"}),
    ("Score__c", "is_known", None, {"ada", "bob", "cy"}),
    # boolean
    ("HasOptedOutOfEmail", "is_true", None, {"bob"}),
    ("HasOptedOutOfEmail", "is_false", None, {"ada", "cy", "nul"}),
    # date
    ("Birthdate", "equals", "1990-05-01", {"ada"}),
    ("Birthdate", "not_equals", "1990-05-01", {"bob", "cy", "nul"}),
    ("Birthdate", "gt", "1990-05-01", {"cy"}),
    ("Birthdate", "lt", "1990-05-01", {"bob"}),
    ("Birthdate", "between", ["1985-12-31", "1990-05-01"], {"ada", "bob"}),
    ("Birthdate", "is_unknown", None, {"nul"}),
    # datetime, compared by UTC day
    ("CreatedDate", "in_last_n_days", 30, {"ada"}),
    ("CreatedDate", "in_last_n_days", 365, {"ada", "bob"}),
    ("CreatedDate", "gt", _days_ago(201), {"ada", "bob"}),
    ("CreatedDate", "lt", _days_ago(200), {"cy"}),
    ("CreatedDate", "equals", _days_ago(200), {"bob"}),
    ("CreatedDate", "between", [_days_ago(400), _days_ago(200)], {"bob", "cy"}),
    (
        "CreatedDate",
        "this_year",
        None,
        {
            n
            for n, d in [("ada", 5), ("bob", 200), ("cy", 400)]
            if (TODAY - dt.timedelta(days=d)).year == TODAY.year
        },
    ),
]


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_operator_matches_exactly_the_expected_records(
    ready_connection, contacts, field, operator, value, expected
):
    assert _names(ready_connection, contacts, field, operator, value) == expected


NULLS = dict(Title=None, Email=None, Score__c=None, LeadSource=None, Interests__c=None,
             Birthdate=None, CreatedDate=None)  # fmt: skip


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_a_copy_made_before_empty_fields_were_left_out_matches_the_same(
    ready_connection, contacts, field, operator, value, expected
):
    # Copies loaded before then hold JSON nulls; the engine now leaves the keys out. Every
    # operator must read the two alike.
    record = contacts["nul"]
    assert not NULLS.keys() & record.data.keys()
    record.data = {**record.data, **NULLS}
    record.save(update_fields=["data"])
    assert _names(ready_connection, contacts, field, operator, value) == expected


def test_deleted_records_never_match_even_is_known(ready_connection, contacts):
    assert "gone" not in _names(ready_connection, contacts, "Title", "is_known")
    assert "gone" not in _names(ready_connection, contacts, "Title", "is_unknown")


def test_quarters_and_years_are_calendar_periods():
    from audiences.criteria import date_range

    day = dt.date(2025, 2, 10)
    assert date_range("this_quarter", None, day) == ("2025-01-01", "2025-04-01")
    assert date_range("last_quarter", None, day) == ("2024-10-01", "2025-01-01")
    assert date_range("this_year", None, day) == ("2025-01-01", "2026-01-01")
    assert date_range("last_year", None, day) == ("2024-01-01", "2025-01-01")
    assert date_range("this_quarter", None, dt.date(2025, 11, 30)) == ("2025-10-01", "2026-01-01")
    assert date_range("in_last_n_days", 7, day) == ("2025-02-03", "2025-02-11")


def test_groups_combine_with_and_or(ready_connection, contacts):
    raw = {
        "type": "group",
        "match": "any",
        "children": [
            {
                "type": "condition",
                "object": "Contact",
                "field": "Title",
                "operator": "equals",
                "value": "Engineer",
            },
            {
                "type": "group",
                "match": "all",
                "children": [
                    {
                        "type": "condition",
                        "object": "Contact",
                        "field": "LeadSource",
                        "operator": "equals",
                        "value": "Web",
                    },
                    {
                        "type": "condition",
                        "object": "Contact",
                        "field": "Score__c",
                        "operator": "gt",
                        "value": 20,
                    },
                ],
            },
        ],
    }
    tree = criteria_parse(
        raw, fields=connection_fields(connection=ready_connection), holds="contacts"
    )
    found = set(criteria_records(connection=ready_connection, target="Contact", tree=tree))
    assert found == {contacts["bob"], contacts["cy"]}
