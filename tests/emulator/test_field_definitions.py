"""FieldDefinition lists every field of an object, whatever the user's field-level security;
the FLS user's describe and queries do not see the hidden ones."""

from __future__ import annotations

import pytest

from emulator import queries
from emulator.soql.errors import SoqlError
from emulator.users import FLS_HIDDEN

SOQL = "SELECT QualifiedApiName, Label FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = '{}'"  # noqa: E501


def run(org, soql: str, username: str) -> dict:
    return queries.run(org, username, soql, include_deleted=False, options=None, version="62.0")


def names(org, sobject: str, username: str) -> set[str]:
    return {r["QualifiedApiName"] for r in run(org, SOQL.format(sobject), username)["records"]}


def test_every_field_is_listed_for_the_fls_user_too(org):
    everyone = names(org, "Contact", "integration@example.com")
    assert names(org, "Contact", "fls@example.com") == everyone
    assert FLS_HIDDEN["Contact"] <= everyone


def test_the_fls_users_view_lacks_exactly_the_hidden_fields(org):
    described = set(org.view("fls@example.com").fields(org.object_def("Contact")))
    listed = {n.lower() for n in names(org, "Contact", "fls@example.com")}
    assert listed - described == {n.lower() for n in FLS_HIDDEN["Contact"]}


def test_records_carry_the_label(org):
    records = run(org, SOQL.format("Account"), "integration@example.com")["records"]
    revenue = next(r for r in records if r["QualifiedApiName"] == "AnnualRevenue")
    assert revenue["Label"] == "Annual Revenue"
    assert revenue["attributes"]["type"] == "FieldDefinition"


def test_setup_metadata_needs_view_setup(org):
    with pytest.raises(SoqlError) as refused:
        run(org, SOQL.format("Contact"), "nosetup@example.com")
    assert refused.value.error_code == "INSUFFICIENT_ACCESS"


def test_the_entity_filter_is_required(org):
    with pytest.raises(SoqlError) as refused:
        run(org, "SELECT QualifiedApiName FROM FieldDefinition", "integration@example.com")
    assert refused.value.error_code == "MALFORMED_QUERY"
