"""The SOQL parser and checker: what parses, and Salesforce's caret-format errors."""

from __future__ import annotations

import pytest

from emulator.soql import ast
from emulator.soql.errors import SoqlError
from emulator.soql.parser import parse

USER = "integration@example.com"


def error_of(org, soql: str, username: str = USER) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        org.compile(soql, username)
    return info.value


def test_it_parses_fields_relationships_filters_order_and_limit():
    q = parse(
        "select Id, Account.Name, COUNT() from Contact where (Email like '%@x.com' or Email = null)"
        " and not IsDeleted = true and CreatedDate >= 2024-01-01T00:00:00Z"
        " order by LastName desc nulls last, Id limit 10 offset 5"
    )
    assert q.sobject == "Contact"
    assert [getattr(s, "path", None) for s in q.select] == [["Id"], ["Account", "Name"], None]
    assert isinstance(q.where, ast.And)
    assert isinstance(q.where.items[0], ast.Or)
    assert q.order[0].desc
    assert q.order[0].nulls_last
    assert (q.limit, q.offset) == (10, 5)


@pytest.mark.parametrize(
    ("literal", "kind"),
    [
        ("'it''s'", None),
        ("'O\\'Brien'", "string"),
        ("42", "number"),
        ("-1.5", "number"),
        ("true", "boolean"),
        ("NULL", "null"),
        ("2024-04-16", "date"),
        ("2024-04-16T19:00:00Z", "datetime"),
        ("2024-04-16T19:00:00.000+0000", "datetime"),
        ("2024-04-16T12:00:00-07:00", "datetime"),
        ("YESTERDAY", "date_literal"),
        ("LAST_N_DAYS:30", "date_literal"),
    ],
)
def test_it_reads_every_literal_kind(literal, kind):
    if kind is None:
        with pytest.raises(SoqlError):
            parse(f"SELECT Id FROM Account WHERE Name = {literal}")
        return
    q = parse(f"SELECT Id FROM Account WHERE Name = {literal}")
    assert q.where.value.kind == kind


def test_datetime_literals_with_offsets_mean_the_same_instant():
    a = parse("SELECT Id FROM A WHERE X = 2024-04-16T12:00:00-07:00").where.value.value
    b = parse("SELECT Id FROM A WHERE X = 2024-04-16T19:00:00Z").where.value.value
    assert a == b


def test_a_syntax_error_is_malformed_query_with_a_caret():
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id, FROM Account")
    err = info.value
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message == (
        "\nSELECT Id, FROM Account\n           ^\n"
        "ERROR at Row:1:Column:12\nunexpected token: 'FROM'"
    )


def test_an_unfinished_query_reports_eof():
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM Bar__c WHERE")
    assert info.value.message.endswith("ERROR at Row:1:Column:28\nunexpected token: '<EOF>'")


def test_and_and_or_cannot_be_mixed_without_parentheses():
    with pytest.raises(SoqlError) as info:
        parse("SELECT Id FROM A WHERE a = 1 AND b = 2 OR c = 3")
    assert "unexpected token: 'OR'" in info.value.message
    parse("SELECT Id FROM A WHERE a = 1 AND (b = 2 OR c = 3)")


def test_unsupported_clauses_are_malformed():
    for soql in (
        "SELECT Id FROM Account GROUP BY Id",
        "SELECT Id FROM Account WITH SECURITY_ENFORCED",
    ):
        with pytest.raises(SoqlError) as info:
            parse(soql)
        assert info.value.error_code == "MALFORMED_QUERY"


def test_an_unknown_object_is_invalid_type_with_the_recorded_wording(org):
    err = error_of(org, "select count() from XYZZY")
    assert err.error_code == "INVALID_TYPE"
    assert err.message.startswith("\nselect count() from XYZZY\n" + " " * 20 + "^\n")
    assert "ERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported." in err.message


def test_an_unknown_field_is_invalid_field(org):
    err = error_of(org, "SELECT Id, Foo FROM Account")
    assert err.error_code == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Account'." in err.message


def test_an_unknown_relationship_is_invalid_field(org):
    err = error_of(org, "SELECT Id, Acount.Name FROM Contact")
    assert err.error_code == "INVALID_FIELD"
    assert "Didn't understand relationship 'Acount' in field path." in err.message


def test_a_field_of_a_parent_is_checked_on_the_parent(org):
    err = error_of(org, "SELECT Account.Nope FROM Contact")
    assert "No such column 'Nope' on entity 'Account'" in err.message


def test_long_text_cannot_be_filtered_or_sorted(org):
    assert (
        "can not be filtered"
        in error_of(org, "SELECT Id FROM Account WHERE Description = 'x'").message
    )
    assert (
        "can not be sorted" in error_of(org, "SELECT Id FROM Account ORDER BY Description").message
    )


def test_literal_types_must_match_the_field(org):
    err = error_of(org, "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01")
    assert err.error_code == "INVALID_FIELD"
    assert "must be of type dateTime" in err.message
    assert (
        "must be of type string" in error_of(org, "SELECT Id FROM Account WHERE Name = 5").message
    )
    assert (
        "must be of type double"
        in error_of(org, "SELECT Id FROM Account WHERE AnnualRevenue > '5'").message
    )


def test_an_invalid_id_literal_is_refused(org):
    err = error_of(org, "SELECT Id FROM Account WHERE Id = 'abc'")
    assert "invalid ID field: abc" in err.message


def test_count_cannot_be_mixed_with_fields(org):
    assert error_of(org, "SELECT COUNT(), Id FROM Account").error_code == "MALFORMED_QUERY"


def test_duplicate_fields_are_refused(org):
    assert "duplicate field selected: Id" in error_of(org, "SELECT Id, id FROM Account").message


def test_field_level_security_hides_fields_from_queries(org):
    org.compile("SELECT AnnualRevenue FROM Account", USER)
    err = error_of(org, "SELECT AnnualRevenue FROM Account", "fls@example.com")
    assert err.error_code == "INVALID_FIELD"


def test_an_unreadable_object_is_an_unknown_type(org):
    for soql in ("SELECT Id FROM Campaign", "SELECT Id FROM CampaignMember"):
        assert error_of(org, soql, "nocampaign@example.com").error_code == "INVALID_TYPE"


def test_a_non_queryable_object_is_refused(org):
    err = error_of(org, "SELECT Id FROM ActivityHistory")
    assert err.error_code == "INVALID_TYPE_FOR_OPERATION"


def test_offset_above_2000_is_refused(org):
    assert (
        error_of(org, "SELECT Id FROM Account OFFSET 2001").error_code
        == "NUMBER_OUTSIDE_VALID_RANGE"
    )


def test_keywords_and_names_are_case_insensitive(org):
    plan = org.compile("sElEcT iD, aCcOuNt.NaMe FrOm cOnTaCt wHeRe eMaIl != NULL", USER)
    assert plan.sobject.name == "Contact"
    assert [c.header for c in plan.columns] == ["Id", "Account.Name"]
