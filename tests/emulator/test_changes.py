"""Changing the org through the Python API: records, random churn, schema, access, reset."""

from __future__ import annotations

import pytest

from emulator.clock import epoch_of
from emulator.data.store import RecordError


def find(org, sobject, sf_id, include_deleted=True):
    for rec in org.iter_records(sobject, include_deleted=include_deleted):
        if rec["Id"] == sf_id:
            return rec
    return None


def test_create_returns_an_id_and_stamps_the_record_now(org):
    org.clock.advance(10)
    sf_id = org.create(
        "Contact", {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}
    )
    assert sf_id.startswith("003")
    assert len(sf_id) == 18
    rec = find(org, "Contact", sf_id)
    assert rec["Name"] == "Ada Lovelace"
    assert rec["Email_Domain__c"] == "example.com"
    assert abs(epoch_of(rec["CreatedDate"]) - org.clock.time()) < 2
    assert rec["SystemModstamp"] == rec["CreatedDate"]
    assert rec["IsDeleted"] is False
    assert org.count("Contact") == 151


def test_update_bumps_system_modstamp_and_recomputes_formulas(org):
    opp = next(org.iter_records("Opportunity"))
    org.clock.advance(30)
    org.update("Opportunity", opp["Id"], {"StageName": "Closed Won", "Amount": 1000})
    rec = find(org, "Opportunity", opp["Id"])
    assert rec["IsWon"] is True
    assert rec["Probability"] == 100.0
    assert rec["Weighted_Amount__c"] == 1000.0
    assert epoch_of(rec["SystemModstamp"]) > epoch_of(opp["SystemModstamp"])
    assert rec["LastModifiedDate"] == rec["SystemModstamp"]
    assert rec["CreatedDate"] == opp["CreatedDate"]


def test_a_formula_change_does_not_move_system_modstamp(org):
    acc = next(org.iter_records("Account"))
    org.clock.advance(30)
    org.set_field_value_without_modstamp("Account", acc["Id"], "Account_Tier__c", "Strategic")
    rec = find(org, "Account", acc["Id"])
    assert rec["Account_Tier__c"] == "Strategic"
    assert rec["SystemModstamp"] == acc["SystemModstamp"]


def test_delete_undelete_and_purge(org):
    lead = next(org.iter_records("Lead"))["Id"]
    org.delete("Lead", lead)
    assert find(org, "Lead", lead, include_deleted=False) is None
    assert find(org, "Lead", lead)["IsDeleted"] is True
    assert org.count("Lead") == 119
    assert org.count("Lead", include_deleted=True) == 120
    org.undelete("Lead", lead)
    assert find(org, "Lead", lead, include_deleted=False)["IsDeleted"] is False
    org.delete("Lead", lead)
    org.purge("Lead", lead)
    assert find(org, "Lead", lead) is None
    assert org.count("Lead", include_deleted=True) == 119


def test_campaign_members_are_hard_deleted_at_once(org):
    member = next(org.iter_records("CampaignMember"))["Id"]
    org.delete("CampaignMember", member)
    assert find(org, "CampaignMember", member) is None


def test_bad_changes_are_refused(org):
    acc = next(org.iter_records("Account"))["Id"]
    with pytest.raises(RecordError):
        org.update("Account", acc, {"NoSuchField__c": 1})
    with pytest.raises(RecordError):
        org.update("Account", acc, {"SystemModstamp": "2020-01-01T00:00:00Z"})
    with pytest.raises(RecordError):
        org.update("Account", "001000000000000AAA", {"Name": "x"})
    with pytest.raises(RecordError):
        org.create("Nope", {})


def test_random_changes_are_a_realistic_mix_and_keep_relationships(org):
    counts = org.apply_random_changes(400, seed=7)
    kinds = {k for per in counts.values() for k in per}
    assert kinds == {"update", "create", "delete"}
    assert sum(n for per in counts.values() for n in per.values()) == 400
    assert "delete" not in counts.get("Account", {})
    accounts = {r["Id"] for r in org.iter_records("Account", include_deleted=False)}
    for contact in org.iter_records("Contact", include_deleted=False):
        assert contact["AccountId"] is None or contact["AccountId"] in accounts
    people = {
        r["Id"] for o in ("Lead", "Contact") for r in org.iter_records(o, include_deleted=False)
    }
    for member in org.iter_records("CampaignMember", include_deleted=False):
        assert (member["LeadId"] or member["ContactId"]) in people


def test_random_changes_are_reproducible_with_a_seed(org):
    a = org.apply_random_changes(50, seed=3)
    first = list(org.iter_records("Lead"))
    org.reset()
    b = org.apply_random_changes(50, seed=3)
    assert a == b
    assert [r["Id"] for r in org.iter_records("Lead")] == [r["Id"] for r in first]


def test_a_new_field_appears_with_values_and_can_disappear(org):
    org.add_field(
        "Contact", "Region__c", "picklist", values=["EMEA", "AMER", "APAC"], label="Region"
    )
    described = {f["name"]: f for f in org.describe("Contact")["fields"]}
    assert described["Region__c"]["type"] == "picklist"
    assert described["Region__c"]["custom"] is True
    values = {r["Region__c"] for r in org.iter_records("Contact")}
    assert values <= {"EMEA", "AMER", "APAC", None}
    assert len(values) > 1
    org.remove_field("Contact", "Region__c")
    assert "Region__c" not in {f["name"] for f in org.describe("Contact")["fields"]}


def test_object_access_can_be_revoked_and_granted(org):
    org.set_object_access("integration@example.com", "Opportunity", False)
    with pytest.raises(KeyError):
        org.describe("Opportunity")
    org.set_object_access("nocampaign@example.com", "Campaign", True)
    assert (
        org.describe("CampaignMember", username="nocampaign@example.com")["name"]
        == "CampaignMember"
    )


def test_reset_goes_back_to_the_pristine_state(org):
    before = list(org.iter_records("Account"))
    org.create("Account", {"Name": "Temp"})
    org.add_field("Account", "Temp__c")
    org.clock.advance(1000)
    org.faults.set("http_500")
    org.reset()
    assert list(org.iter_records("Account")) == before
    assert "Temp__c" not in {f["name"] for f in org.describe("Account")["fields"]}
    assert org.faults.active() == {}
    assert org.clock.offset == 0
    assert org.counters()["api_calls_total"] == 0


def test_the_clock_only_moves_forward(org):
    t = org.clock.now()
    org.clock.advance(3600)
    assert (org.clock.now() - t).total_seconds() >= 3600
    with pytest.raises(ValueError):
        org.clock.advance(-1)


def test_a_created_document_serves_its_own_body(org):
    import base64

    sf_id = org.create(
        "Document",
        {
            "Name": "notes.txt",
            "DeveloperName": "notes",
            "Body": base64.b64encode(b"hello").decode(),
        },
    )
    rec = find(org, "Document", sf_id)
    assert rec["BodyLength"] == 5
    assert rec["Body"].endswith(f"/Document/{sf_id}/Body")
    store = org.stores["Document"]
    assert store.blob(store.gen.codec.decode(sf_id), org.seq) == b"hello"
