"""`--person-accounts`: Account gains the person fields, each person account has its Contact row."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from emulator import EmulatorServer, Org
from emulator.data.person_accounts import account_field_name
from emulator.data.profiles import profile_counts
from emulator.data.store import RecordError
from tests.emulator.test_recorded_reality import FIELD_FACTS
from tests.recorded import format_differences, needs_recordings, recorded

USER = "integration@example.com"


@pytest.fixture(scope="module")
def _people_org() -> Org:
    return Org.from_profile("tiny", seed=3, person_accounts=True)


@pytest.fixture
def org(_people_org: Org) -> Org:
    _people_org.reset()
    return _people_org


def records(org: Org, sobject: str) -> dict[str, dict]:
    return {r["Id"]: r for r in org.iter_records(sobject, include_deleted=False)}


def assert_person_rows_agree(org: Org) -> int:
    """Every person account and its Contact row show the same person; returns how many."""
    accounts, contacts = records(org, "Account"), records(org, "Contact")
    mirrored = [
        (f.name, account_field_name(f.name))
        for f in org.object_def("Contact").fields
        if account_field_name(f.name) and not f.is_compound and f.name != "IsPersonAccount"
    ]
    people = [a for a in accounts.values() if a["IsPersonAccount"]]
    for account in people:
        contact = contacts[account["PersonContactId"]]
        assert contact["IsPersonAccount"] is True
        assert contact["AccountId"] == account["Id"]
        assert contact["Name"] == account["Name"]
        for contact_field, account_field in mirrored:
            assert contact[contact_field] == account[account_field], (account_field, account["Id"])
    person_ids = {a["Id"] for a in people}
    business_contacts = [c for c in contacts.values() if not c["IsPersonAccount"]]
    assert all(c["AccountId"] not in person_ids for c in business_contacts)
    assert sum(c["IsPersonAccount"] for c in contacts.values()) == len(people)
    return len(people)


def test_account_gains_the_person_fields_and_contact_is_person_account():
    plain = {f["name"] for f in Org.from_profile("tiny").describe("Account")["fields"]}
    org = Org.from_profile("tiny", person_accounts=True)
    fields = {f["name"]: f for f in org.describe("Account")["fields"]}
    added = set(fields) - plain
    assert {"IsPersonAccount", "PersonContactId", "FirstName", "LastName", "Salutation"} <= added
    assert {"PersonMailingAddress", "PersonOtherAddress", "PersonEmail", "PersonBirthdate"} <= added
    assert {"Lead_Score__pc", "Interests__pc", "Email_Domain__pc"} <= added
    assert fields["PersonMailingAddress"]["type"] == "address"
    assert fields["PersonMailingCity"]["compoundFieldName"] == "PersonMailingAddress"
    assert fields["Lead_Score__pc"]["custom"] is True
    assert fields["Email_Domain__pc"]["calculated"] is True
    assert "IsPersonAccount" not in plain
    contact = {f["name"]: f for f in org.describe("Contact")["fields"]}
    assert contact["IsPersonAccount"]["type"] == "boolean"


@needs_recordings
def test_the_person_fields_match_the_recorded_person_account_describe():
    real = {f["name"]: f for f in recorded("describe-Account-PersonAccount.json")["fields"]}
    org = Org.from_profile("tiny", person_accounts=True)
    ours = {f["name"]: f for f in org.describe("Account", version="62.0")["fields"]}
    person = [
        n
        for n in real
        if n.startswith("Person") or n in ("IsPersonAccount", "FirstName", "LastName", "Salutation")
    ]
    assert len(person) == 43
    assert set(person) <= set(ours)
    problems = []
    for name in [*person, "Name"]:
        problems += format_differences(real[name], ours[name], where=f"{name}.")
        problems += [
            f"{name}.{k}: {real[name][k]!r} vs {ours[name][k]!r}"
            for k in FIELD_FACTS
            if real[name][k] != ours[name][k]
        ]
    # That org is older: its Contact Title was 80 long; the recorded Contact describe has 128.
    assert problems == [
        "PersonTitle.length: 80 vs 128",
        "PersonTitle.byteLength: 240 vs 384",
    ]


def test_every_person_account_has_its_contact_row(org):
    people = assert_person_rows_agree(org)
    assert people == org.count("Account") // 4
    accounts = records(org, "Account")
    business = [a for a in accounts.values() if not a["IsPersonAccount"]]
    assert all(a["PersonContactId"] is None and a["FirstName"] is None for a in business)
    assert all(a["PersonHasOptedOutOfEmail"] is False for a in business)
    emails = [a["PersonEmail"] for a in accounts.values() if a["PersonEmail"]]
    assert emails
    assert all(e.endswith((".com", ".me")) for e in emails)


def test_changes_keep_both_rows_in_step(org):
    accounts = records(org, "Account")
    person = next(a for a in accounts.values() if a["IsPersonAccount"])
    org.clock.advance(60)
    org.update(
        "Account",
        person["Id"],
        {"FirstName": "Ada", "PersonTitle": "Analyst", "PersonMailingCity": "Leeds", "Phone": "1"},
    )
    contact = records(org, "Contact")[person["PersonContactId"]]
    assert contact["FirstName"] == "Ada"
    assert contact["Name"] == f"Ada {person['LastName']}"
    assert (contact["Title"], contact["MailingCity"], contact["Phone"]) == ("Analyst", "Leeds", "1")
    assert contact["SystemModstamp"] == records(org, "Account")[person["Id"]]["SystemModstamp"]
    assert records(org, "Account")[person["Id"]]["Name"] == f"Ada {person['LastName']}"
    with pytest.raises(RecordError, match="person account"):
        org.update("Contact", person["PersonContactId"], {"Title": "x"})
    with pytest.raises(RecordError, match="person account"):
        org.delete("Contact", person["PersonContactId"])
    org.apply_random_changes(1000, seed=5)
    assert_person_rows_agree(org)
    org.delete("Account", person["Id"])
    assert person["PersonContactId"] not in records(org, "Contact")
    org.undelete("Account", person["Id"])
    assert person["PersonContactId"] in records(org, "Contact")


def test_queries_and_bulk_see_person_accounts(org):
    with EmulatorServer(org, port=0) as server:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + org.issue_tokens(USER)["access_token"]
        api = f"{server.base_url}/services/data/v62.0"
        count = session.get(
            f"{api}/query", params={"q": "SELECT COUNT() FROM Account WHERE IsPersonAccount = true"}
        ).json()["totalSize"]
        assert count == org.count("Account") // 4
        rec = session.get(
            f"{api}/query",
            params={
                "q": "SELECT Id, PersonMailingAddress, PersonContact.Email FROM Account "
                "WHERE IsPersonAccount = true AND PersonMailingCity != null LIMIT 1"
            },
        ).json()["records"][0]
        assert set(rec["PersonMailingAddress"]) >= {"city", "street", "postalCode"}
        assert "Email" in rec["PersonContact"]
        soql = "SELECT Id, IsPersonAccount, AccountId FROM Contact WHERE IsPersonAccount = true"
        job = session.post(f"{api}/jobs/query", json={"operation": "query", "query": soql}).json()
        rows = list(
            csv.DictReader(io.StringIO(session.get(f"{api}/jobs/query/{job['id']}/results").text))
        )
        assert len(rows) == count
        assert {r["IsPersonAccount"] for r in rows} == {"true"}


def test_person_accounts_need_as_many_contacts_as_accounts():
    counts = {**profile_counts("tiny"), "Account": 100, "Contact": 50}
    with pytest.raises(ValueError, match="at least as many contacts"):
        Org("tiny", counts=counts, person_accounts=True)
