"""Criteria are validated against the connection's described fields and their types."""

import pytest

from audiences.criteria import CriteriaError, criteria_parse
from audiences.selectors import connection_fields


def _cond(obj, field, operator, value=None):
    return {
        "type": "group",
        "children": [
            {
                "type": "condition",
                "object": obj,
                "field": field,
                "operator": operator,
                "value": value,
            }
        ],
    }


@pytest.mark.parametrize(
    ("raw", "holds", "message"),
    [
        (_cond("Contact", "Nope__c", "is_known"), "people", "Contact has no field 'Nope__c'"),
        (_cond("Contact", "Score__c", "gt", "lots"), "people", "'lots' is not a number"),
        (_cond("Contact", "Birthdate", "gt", "yesterday"), "people", "is not a date"),
        (_cond("Contact", "Title", "gt", "x"), "people", "'gt' does not apply"),
        (_cond("Contact", "HasOptedOutOfEmail", "equals", "x"), "people", "does not apply"),
        (_cond("Account", "Industry", "equals", "Mining"), "people", "not one of its picklist"),
        (_cond("Account", "BillingAddress", "is_known"), "people", "cannot be filtered"),
        (_cond("Lead", "Status", "is_known"), "companies", "Lead fields don't apply"),
        (_cond("Lead", "Status", "is_known"), "contacts", "Lead fields don't apply"),
        (_cond("Task", "Subject", "is_known"), "people", "not a filterable object"),
        (_cond("Contact", "Score__c", "between", [5, 1]), "people", "must not be after"),
        (_cond("Contact", "Title", "any_of", []), "people", "at least one value"),
        (_cond("Contact", "CreatedDate", "in_last_n_days", 0), "people", "between 1 and 3650"),
    ],
)
def test_invalid_criteria_are_refused_with_a_clear_message(ready_connection, raw, holds, message):
    with pytest.raises(CriteriaError) as error:
        criteria_parse(raw, fields=connection_fields(connection=ready_connection), holds=holds)
    assert message in " ".join(error.value.messages)


def test_numbers_typed_as_text_are_accepted_and_converted(ready_connection):
    tree = criteria_parse(
        _cond("Contact", "Score__c", "gt", "50,000"),
        fields=connection_fields(connection=ready_connection),
        holds="people",
    )
    assert tree.children[0].value == 50000


def test_an_empty_tree_is_valid(ready_connection):
    assert criteria_parse({}, fields={}, holds="people").empty
