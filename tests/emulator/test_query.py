"""Query results: SOQL semantics, windows and Id ranges, ordering, and the REST record shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator import queries
from emulator.clock import epoch_of

USER = "integration@example.com"


def run(org, soql: str, include_deleted: bool = False, username: str = USER) -> dict:
    return queries.run(
        org, username, soql, include_deleted=include_deleted, options=None, version="62.0"
    )


def ids(org, soql: str, **kw) -> list[str]:
    return [r["Id"] for r in run(org, soql, **kw)["records"]]


def all_contacts(org) -> list[dict]:
    return list(org.iter_records("Contact", include_deleted=False))


def test_text_equality_is_case_insensitive(org):
    some = all_contacts(org)[3]
    assert ids(org, f"SELECT Id FROM Contact WHERE LastName = '{some['LastName'].upper()}'")


def test_not_equal_and_not_in_also_match_nulls(org):
    rows = all_contacts(org)
    nulls = [r["Id"] for r in rows if r["Title"] is None]
    assert nulls
    got = set(ids(org, "SELECT Id FROM Contact WHERE Title != 'CEO'"))
    assert set(nulls) <= got
    got = set(ids(org, "SELECT Id FROM Contact WHERE Title NOT IN ('CEO', 'CFO')"))
    assert set(nulls) <= got
    assert not set(nulls) & set(ids(org, "SELECT Id FROM Contact WHERE Title > 'A'"))


def test_like_and_in_and_boolean_and_number_filters(org):
    rows = all_contacts(org)
    expect = {r["Id"] for r in rows if r["Email"] and r["Email"].lower().endswith(".com")}
    assert set(ids(org, "SELECT Id FROM Contact WHERE Email LIKE '%.COM'")) == expect
    expect = {r["Id"] for r in rows if r["LeadSource"] in ("Web", "Other")}
    assert set(ids(org, "SELECT Id FROM Contact WHERE LeadSource IN ('web', 'OTHER')")) == expect
    expect = {r["Id"] for r in rows if r["DoNotCall"] is True}
    assert set(ids(org, "SELECT Id FROM Contact WHERE DoNotCall = true")) == expect
    expect = {r["Id"] for r in rows if r["Lead_Score__c"] is not None and r["Lead_Score__c"] >= 50}
    assert set(ids(org, "SELECT Id FROM Contact WHERE Lead_Score__c >= 50")) == expect


def test_not_or_and_parentheses(org):
    rows = all_contacts(org)
    expect = {
        r["Id"]
        for r in rows
        if not (r["DoNotCall"] or (r["LeadSource"] == "Web" and r["Title"] is not None))
    }
    got = ids(
        org,
        "SELECT Id FROM Contact WHERE NOT (DoNotCall = true"
        " OR (LeadSource = 'Web' AND Title != null))",
    )
    assert set(got) == expect


def test_includes_and_excludes_on_a_multipicklist(org):
    rows = all_contacts(org)

    def parts(v):
        return set((v or "").split(";"))

    expect = {r["Id"] for r in rows if "AI" in parts(r["Interests__c"])}
    assert set(ids(org, "SELECT Id FROM Contact WHERE Interests__c INCLUDES ('AI')")) == expect
    expect = {r["Id"] for r in rows if {"Analytics", "Security"} <= parts(r["Interests__c"])}
    got = ids(org, "SELECT Id FROM Contact WHERE Interests__c INCLUDES ('Security;Analytics')")
    assert set(got) == expect
    expect = {r["Id"] for r in rows if "AI" not in parts(r["Interests__c"])}
    assert set(ids(org, "SELECT Id FROM Contact WHERE Interests__c EXCLUDES ('AI')")) == expect


def test_parent_fields_filter_and_nest(org):
    body = run(
        org,
        "SELECT Id, Account.Name, Account.Owner.Name FROM Contact"
        " WHERE Account.Name != null LIMIT 5",
    )
    rec = body["records"][0]
    assert rec["Account"]["attributes"]["type"] == "Account"
    assert rec["Account"]["attributes"]["url"].startswith(
        "/services/data/v62.0/sobjects/Account/001"
    )
    assert isinstance(rec["Account"]["Name"], str)
    assert rec["Account"]["Owner"]["attributes"]["type"] == "User"
    name = rec["Account"]["Name"]
    got = run(org, f"SELECT Id FROM Contact WHERE Account.Name = '{name}'")["records"]
    assert rec["Id"] in {r["Id"] for r in got}


def test_a_null_parent_is_null_in_rest_and_empty_in_rows(org):
    no_account = [r for r in all_contacts(org) if r["AccountId"] is None]
    if not no_account:
        pytest.skip("no contact without account in this seed")
    rec = run(org, f"SELECT Id, Account.Name FROM Contact WHERE Id = '{no_account[0]['Id']}'")[
        "records"
    ][0]
    assert rec["Account"] is None


def test_order_by_with_direction_nulls_and_limit_offset(org):
    rows = all_contacts(org)
    body = run(org, "SELECT Id, Title FROM Contact ORDER BY Title ASC NULLS LAST, Id LIMIT 500")
    titles = [r["Title"] for r in body["records"]]
    non_null = [t for t in titles if t is not None]
    assert non_null == sorted(non_null, key=str.lower)
    assert titles[-1] is None or len(titles) == len([r for r in rows if r["Title"]])
    first = run(org, "SELECT Id FROM Contact ORDER BY CreatedDate DESC LIMIT 3")["records"]
    newest = sorted(rows, key=lambda r: r["CreatedDate"], reverse=True)[:3]
    assert [r["Id"] for r in first] == [r["Id"] for r in newest]
    page = run(org, "SELECT Id FROM Contact ORDER BY Id LIMIT 5 OFFSET 10")["records"]
    assert [r["Id"] for r in page] == sorted(r["Id"] for r in rows)[10:15]


@pytest.mark.parametrize("field", ["Title", "LastName", "CreatedDate", "SystemModstamp", "Id"])
@pytest.mark.parametrize("direction", ["", " DESC", " NULLS LAST", " DESC NULLS FIRST"])
@pytest.mark.parametrize(
    ("limit", "offset"), [(1, None), (7, None), (5, 12), (149, 0), (5, 148), (200, None)]
)
def test_a_limited_order_picks_what_the_full_order_begins_with(
    org, field, direction, limit, offset
):
    """With a LIMIT and one ORDER BY field the rows are picked, not all sorted (engine._sorted):
    the same rows, ties (Title repeats) in the same order, as the whole order sliced. Nulls
    go with the direction unless told ("" is ASC NULLS FIRST, " DESC" DESC NULLS LAST); a
    LIMIT past the 150 contacts sorts them all."""
    soql = f"SELECT Id FROM Contact ORDER BY {field}{direction}"
    whole = ids(org, soql)
    page = ids(org, f"{soql} LIMIT {limit}" + (f" OFFSET {offset}" if offset is not None else ""))
    start = offset or 0
    assert page == whole[start : start + limit]


def test_count_and_count_of_a_field(org):
    assert run(org, "SELECT COUNT() FROM Contact") == {
        "totalSize": 150,
        "done": True,
        "records": [],
    }
    body = run(org, "SELECT COUNT(Id) total FROM Contact WHERE DoNotCall = true")
    assert body["records"][0]["attributes"] == {"type": "AggregateResult"}
    assert body["records"][0]["total"] == len([r for r in all_contacts(org) if r["DoNotCall"]])


@pytest.mark.parametrize("field", ["SystemModstamp", "LastModifiedDate", "CreatedDate"])
def test_time_windows_find_exactly_the_records_a_full_scan_finds(org, field):
    rows = all_contacts(org)
    stamps = sorted(epoch_of(r[field]) for r in rows)
    lo, hi = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    fmt = lambda e: datetime.fromtimestamp(e, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    expect = {r["Id"] for r in rows if lo <= epoch_of(r[field]) < hi}
    got = ids(org, f"SELECT Id FROM Contact WHERE {field} >= {fmt(lo)} AND {field} < {fmt(hi)}")
    assert set(got) == expect
    count = run(
        org, f"SELECT COUNT() FROM Contact WHERE {field} >= {fmt(lo)} AND {field} < {fmt(hi)}"
    )
    assert count["totalSize"] == len(expect)


def test_windows_see_changed_and_created_records(org):
    before = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    contact = all_contacts(org)[0]
    org.clock.advance(5)
    org.update("Contact", contact["Id"], {"Title": "Chief Emulation Officer"})
    new_id = org.create("Contact", {"LastName": "Newman", "Email": "new@example.com"})
    org.clock.advance(5)
    after = org.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    got = set(
        ids(
            org,
            f"SELECT Id FROM Contact WHERE SystemModstamp >= {before} AND SystemModstamp < {after}",
        )
    )
    assert got == {contact["Id"], new_id}


def test_id_ranges_and_lists(org):
    every = sorted(r["Id"] for r in all_contacts(org))
    got = ids(
        org, f"SELECT Id FROM Contact WHERE Id > '{every[10]}' AND Id <= '{every[20]}' ORDER BY Id"
    )
    assert got == every[11:21]
    got = ids(org, f"SELECT Id FROM Contact WHERE Id IN ('{every[3]}', '{every[7][:15]}')")
    assert set(got) == {every[3], every[7]}


def test_date_literals(org):
    rows = all_contacts(org)
    expect = {
        r["Id"] for r in rows if epoch_of(r["SystemModstamp"]) >= org.clock.time() - 86400 * 120
    }
    got = set(ids(org, "SELECT Id FROM Contact WHERE SystemModstamp = LAST_N_DAYS:120"))
    assert expect <= got
    assert run(org, "SELECT COUNT() FROM Contact WHERE CreatedDate = TOMORROW")["totalSize"] == 0
    assert run(org, "SELECT COUNT() FROM Contact WHERE CreatedDate < TODAY")["totalSize"] == 150


def test_query_hides_deleted_records_and_query_all_shows_them(org):
    victim = all_contacts(org)[5]["Id"]
    org.delete("Contact", victim)
    assert victim not in ids(org, "SELECT Id FROM Contact")
    rec = [
        r
        for r in run(org, "SELECT Id, IsDeleted FROM Contact", include_deleted=True)["records"]
        if r["Id"] == victim
    ]
    assert rec
    assert rec[0]["IsDeleted"] is True
    assert (
        run(org, "SELECT COUNT() FROM Contact WHERE IsDeleted = true", include_deleted=True)[
            "totalSize"
        ]
        == 1
    )
    org.purge("Contact", victim)
    assert victim not in ids(org, "SELECT Id FROM Contact", include_deleted=True)


def test_rest_values_are_typed(org):
    rec = run(
        org,
        "SELECT Id, CreatedDate, DoNotCall, Lead_Score__c, Birthdate, MailingAddress"
        " FROM Contact LIMIT 50",
    )["records"]
    first = rec[0]
    assert first["CreatedDate"].endswith(".000+0000")
    assert isinstance(first["DoNotCall"], bool)
    assert any(isinstance(r["Lead_Score__c"], float) for r in rec)
    assert any(isinstance(r["Birthdate"], str) and len(r["Birthdate"]) == 10 for r in rec)
    addresses = [r["MailingAddress"] for r in rec if r["MailingAddress"]]
    assert set(addresses[0]) == {
        "city",
        "country",
        "geocodeAccuracy",
        "latitude",
        "longitude",
        "postalCode",
        "state",
        "street",
    }


def test_user_permission_access_answers_for_the_current_user(org):
    soql = "SELECT PermissionsApiEnabled, PermissionsViewSetup FROM UserPermissionAccess"
    rec = run(org, soql)["records"][0]
    assert rec["PermissionsApiEnabled"] is True
    assert rec["PermissionsViewSetup"] is True
    rec = run(org, soql, username="nosetup@example.com")["records"][0]
    assert rec["PermissionsViewSetup"] is False
    assert rec["attributes"]["type"] == "UserPermissionAccess"


def test_organization_says_whether_it_is_a_sandbox(org):
    rec = run(org, "SELECT Id, Name, IsSandbox FROM Organization")["records"][0]
    assert rec["IsSandbox"] is False
    assert rec["Id"] == org.org_id
