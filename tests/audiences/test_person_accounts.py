"""Person Accounts: a person account is a person (counted once, as its Contact row, and still
filtered on its Account fields) and never a company."""

import pytest

from audiences import services
from audiences.models import AudienceMember
from audiences.selectors import audience_size_estimate, audience_spec
from audiences.selectors.members import audience_export_rows
from tests.audiences.conftest import FIELDS, _f, describe


def _c(obj, field, op, value=None):
    return {"type": "condition", "object": obj, "field": field, "operator": op, "value": value}


def _group(*children):
    return {"type": "group", "match": "all", "children": list(children)}


@pytest.fixture
def org(ready_connection, record_factory):
    c, make = ready_connection, record_factory
    describe(
        c,
        {
            **FIELDS,
            "Account": {
                **FIELDS["Account"],
                "IsPersonAccount": _f("boolean"),
                "PersonMailingCountry": _f("string"),
            },
            "Contact": {**FIELDS["Contact"], "IsPersonAccount": _f("boolean")},
        },
    )
    acme = make(c, "Account", Name="Acme", Industry="Technology", IsPersonAccount=False)
    legacy = make(c, "Account", Name="Legacy Ltd", Industry="Technology")  # no flag at all
    pat_account = make(
        c,
        "Account",
        Name="Pat Doe",
        Industry="Technology",
        IsPersonAccount=True,
        PersonMailingCountry="United Kingdom",
    )
    pat = make(
        c,
        "Contact",
        AccountId=pat_account.sf_id,
        IsPersonAccount=True,
        FirstName="Pat",
        LastName="Doe",
        Email="pat@gmail.com",
        Title="Designer",
    )
    ada = make(
        c,
        "Contact",
        AccountId=acme.sf_id,
        IsPersonAccount=False,
        FirstName="Ada",
        LastName="L",
        Email="ada@acme.example",
        Title="CTO",
    )
    return {"acme": acme, "legacy": legacy, "pat_account": pat_account, "pat": pat, "ada": ada}


def _audience(connection, holds, criteria):
    audience = services.audience_create(
        workspace=connection.workspace,
        connection=connection,
        name=f"{holds} audience",
        holds=holds,
        criteria=criteria,
    )
    return audience


def _members(audience):
    services.audience_evaluate(audience=audience, trigger="customer")
    return set(
        AudienceMember.objects.filter(audience=audience).values_list("record__sf_id", flat=True)
    )


def test_a_people_audience_counts_each_person_account_once(ready_connection, org):
    audience = _audience(
        ready_connection, "people", _group(_c("Account", "Industry", "equals", "Technology"))
    )
    estimate = audience_size_estimate(spec=audience_spec(audience=audience))
    assert estimate.total == 2
    assert estimate.by_object == {"Contact": 2, "Lead": 0}
    assert _members(audience) == {org["pat"].sf_id, org["ada"].sf_id}


def test_person_accounts_are_filtered_on_their_account_fields(ready_connection, org):
    criteria = _group(_c("Account", "PersonMailingCountry", "equals", "United Kingdom"))
    audience = _audience(ready_connection, "people", criteria)
    assert _members(audience) == {org["pat"].sf_id}
    rows = list(audience_export_rows(audience=audience))
    header, (row,) = rows[0], rows[1:]
    exported = dict(zip(header, row, strict=True))
    assert exported["first_name"] == "Pat"
    assert exported["company"] == ""  # the person's own account is not an employer


def test_a_companies_audience_leaves_person_accounts_out(ready_connection, org):
    technology = _audience(
        ready_connection, "companies", _group(_c("Account", "Industry", "equals", "Technology"))
    )
    assert _members(technology) == {org["acme"].sf_id, org["legacy"].sf_id}
    by_title = _audience(
        ready_connection, "companies", _group(_c("Contact", "Title", "any_of", ["CTO", "Designer"]))
    )
    assert _members(by_title) == {org["acme"].sf_id}
