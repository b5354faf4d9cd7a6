"""Generated data: deterministic, lazy, consistent relationships, believable values."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from emulator import Org
from emulator.clock import epoch_of
from emulator.ids import is_valid_id

PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "Campaign": "701",
    "CampaignMember": "00v",
    "User": "005",
    "Document": "015",
}


@pytest.fixture(scope="module")
def demo() -> Org:
    return Org.from_profile("demo", seed=42)


def test_profiles_have_the_documented_sizes():
    sizes = {
        "demo": (10_000, 30_000, 30_000, 5_000, 1_000, 4_000),
        "seed-example": (100_000, 300_000, 300_000, 50_000, 10_000, 40_000),
    }
    for profile, expect in sizes.items():
        org = Org.from_profile(profile)
        objects = ("Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember")
        got = tuple(org.count(o) for o in objects)
        assert got == expect
        assert sum(got) == sum(expect)
    tiny = Org.from_profile("tiny")
    assert 200 <= sum(tiny.count(o) for o in PREFIXES) <= 600


def test_a_large_org_starts_fast_because_records_are_generated_lazily():
    start = time.perf_counter()
    org = Org.from_profile("seed-example")
    assert time.perf_counter() - start < 2.0
    assert org.count("Contact") == 300_000
    rec = org.stores["Contact"].record(299_999, ["Id", "Email"], org.seq)
    assert rec["Id"].startswith("003")


def test_the_same_seed_gives_the_same_records_and_another_seed_does_not():
    a = list(Org.from_profile("tiny", seed=1, data_end=1_700_000_000).iter_records("Contact"))
    b = list(Org.from_profile("tiny", seed=1, data_end=1_700_000_000).iter_records("Contact"))
    c = list(Org.from_profile("tiny", seed=2, data_end=1_700_000_000).iter_records("Contact"))
    assert a == b
    assert [r["LastName"] for r in a] != [r["LastName"] for r in c]


@pytest.mark.parametrize("sobject", list(PREFIXES))
def test_ids_are_valid_18_character_ids_with_real_key_prefixes(org, sobject):
    for rec in org.iter_records(sobject):
        assert is_valid_id(rec["Id"])
        assert len(rec["Id"]) == 18
        assert rec["Id"].startswith(PREFIXES[sobject])


def test_relationships_point_at_records_that_exist(org):
    ids = {o: {r["Id"] for r in org.iter_records(o)} for o in PREFIXES}
    for contact in org.iter_records("Contact"):
        assert contact["AccountId"] is None or contact["AccountId"] in ids["Account"]
        assert contact["OwnerId"] in ids["User"]
    for opp in org.iter_records("Opportunity"):
        assert opp["AccountId"] in ids["Account"]
        assert opp["CampaignId"] is None or opp["CampaignId"] in ids["Campaign"]
    pairs = set()
    for member in org.iter_records("CampaignMember"):
        assert member["CampaignId"] in ids["Campaign"]
        person = member["LeadId"] or member["ContactId"]
        assert (member["LeadId"] is None) != (member["ContactId"] is None)
        assert person in ids["Lead"] | ids["Contact"]
        assert member["LeadOrContactId"] == person
        pairs.add((member["CampaignId"], person))
    assert len(pairs) == org.count("CampaignMember")


def test_children_are_created_after_their_parents(demo):
    accounts = {r["Id"]: epoch_of(r["CreatedDate"]) for r in demo.iter_records("Account")}
    late = 0
    for contact in demo.iter_records("Contact"):
        if contact["AccountId"]:
            late += epoch_of(contact["CreatedDate"]) < accounts[contact["AccountId"]]
    assert late == 0


def test_system_modstamp_is_never_before_created_date_and_dates_spread_over_years(demo):
    created = []
    for rec in demo.iter_records("Lead"):
        c, m = epoch_of(rec["CreatedDate"]), epoch_of(rec["SystemModstamp"])
        assert m >= c
        assert rec["LastModifiedDate"] == rec["SystemModstamp"]
        created.append(c)
    assert (max(created) - min(created)) / 86400 / 365 > 4
    assert max(created) <= demo.clock.time()


def test_people_share_companies_and_some_emails_are_missing_or_duplicated(demo):
    contacts = list(demo.iter_records("Contact"))
    leads = list(demo.iter_records("Lead"))
    per_account = Counter(c["AccountId"] for c in contacts)
    assert max(per_account.values()) >= 3
    per_company = Counter(lead["Company"] for lead in leads)
    assert sum(1 for n in per_company.values() if n > 1) > 100
    emails = [r["Email"] for r in contacts + leads]
    missing = sum(1 for e in emails if e is None)
    assert 0.02 < missing / len(emails) < 0.12
    counts = Counter(e.lower() for e in emails if e)
    assert sum(1 for n in counts.values() if n > 1) > 50


def test_values_look_like_a_b2b_crm(demo):
    accounts = list(demo.iter_records("Account"))
    industries = Counter(a["Industry"] for a in accounts)
    assert len(industries) > 20
    assert all(a["Website"].startswith("https://www.") for a in accounts)
    assert any(a["BillingCountry"] == "Germany" for a in accounts)
    stages = Counter(o["StageName"] for o in demo.iter_records("Opportunity"))
    assert {"Closed Won", "Closed Lost", "Prospecting"} <= set(stages)
    statuses = Counter(lead["Status"] for lead in demo.iter_records("Lead"))
    assert statuses.most_common(1)[0][0] == "Open - Not Contacted"
    titles = Counter(c["Title"] for c in demo.iter_records("Contact"))
    assert len(titles) > 20
    for opp in list(demo.iter_records("Opportunity"))[:200]:
        if opp["Amount"] is not None:
            assert opp["Weighted_Amount__c"] == round(opp["Amount"] * opp["Probability"] / 100, 2)
        assert opp["IsWon"] == (opp["StageName"] == "Closed Won")


def test_the_emulated_users_are_the_first_users(org):
    users = {u["Username"]: u for u in org.iter_records("User")}
    assert users["integration@example.com"]["IsActive"] is True
    assert users["inactive@example.com"]["IsActive"] is False
    assert "admin@example.com" in users


def test_documents_have_a_base64_body(org):
    doc = next(org.iter_records("Document"))
    assert doc["Body"] == f"/services/data/v66.0/sobjects/Document/{doc['Id']}/Body"
    store = org.stores["Document"]
    blob = store.blob(store.gen.codec.decode(doc["Id"]), org.seq)
    assert len(blob) == doc["BodyLength"]
