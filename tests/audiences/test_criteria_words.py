"""Criteria errors say where in the builder and which field, in words, not as a path."""

import pytest

from audiences.criteria import CriteriaError, criteria_parse, in_words
from audiences.selectors import connection_fields


def test_a_path_becomes_the_rule_and_condition_the_customer_sees():
    message = "Criteria.5.1: CampaignMember “Campaign ID”: choose at least one value."
    assert in_words(message) == (
        "Rule 5, condition 1: CampaignMember “Campaign ID”: choose at least one value."
    )
    assert in_words("Criteria: at most 50 conditions.") == "At most 50 conditions."
    assert in_words("no path here") == "no path here"


def test_a_refused_condition_names_the_field_by_its_label(ready_connection):
    raw = {
        "type": "group",
        "children": [
            {"type": "condition", "object": "Contact", "field": "Title", "operator": "any_of"},
        ],
    }
    with pytest.raises(CriteriaError) as error:
        criteria_parse(raw, fields=connection_fields(connection=ready_connection), holds="people")
    (message,) = error.value.messages
    assert message.startswith("Rule 1: Contact “")
    assert "Criteria" not in message
    assert "Contact.Title" not in message
