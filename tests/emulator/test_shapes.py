"""Response shapes checked against the key sets of recorded Salesforce payloads."""

from __future__ import annotations

import pytest

DATA_OBJECTS = [
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Campaign",
    "CampaignMember",
    "User",
    "Document",
]


@pytest.mark.parametrize("sobject", DATA_OBJECTS)
def test_describe_has_the_recorded_top_level_keys_and_field_keys(api, recorded_keys, sobject):
    body = api.get(f"sobjects/{sobject}/describe").json()
    assert set(body) == set(recorded_keys["describe_top_level_keys"]["Lead"])
    assert set(body) >= set(recorded_keys["describe_top_level_keys"]["Account"])
    for field in body["fields"]:
        assert set(field) == set(recorded_keys["describe_field_keys"]), field["name"]
        for entry in field["picklistValues"]:
            assert set(entry) == set(recorded_keys["picklist_entry_keys"])
    for rel in body["childRelationships"]:
        assert set(rel) == set(recorded_keys["child_relationship_keys"])
    for info in body["recordTypeInfos"]:
        assert set(info) == set(recorded_keys["record_type_info_keys"])
    assert set(body["urls"]) >= set(recorded_keys["describe_urls_keys"]["Lead"])
    for scope in body["supportedScopes"]:
        assert set(scope) == set(recorded_keys["supported_scope_keys"])


@pytest.mark.parametrize("sobject", ["Account", "Lead", "Opportunity"])
def test_field_lists_follow_the_recorded_describes(api, recorded_keys, sobject):
    ours = {f["name"] for f in api.get(f"sobjects/{sobject}/describe").json()["fields"]}
    recorded = {
        n
        for n in recorded_keys["describe_field_names"][sobject]
        if "__" not in n
        and n not in ("RecordTypeId", "OperatingHoursId", "DandbCompanyId")
        and not n.startswith(("ChannelProgram", "IsPartner", "IsCustomerPortal", "Pricebook2"))
        and not n.startswith(("LastAmountChanged", "LastCloseDateChanged", "HasOpen", "HasOverdue"))
    }
    assert recorded <= ours, recorded - ours


def test_describe_models_compound_address_and_name_fields_like_the_recordings(org):
    account = {f["name"]: f for f in org.describe("Account")["fields"]}
    assert account["BillingAddress"]["type"] == "address"
    assert account["BillingAddress"]["soapType"] == "urn:address"
    assert account["BillingCity"]["compoundFieldName"] == "BillingAddress"
    assert account["BillingStreet"]["extraTypeInfo"] == "plaintextarea"
    assert account["BillingLatitude"]["scale"] == 15
    assert account["Name"]["extraTypeInfo"] == "switchablepersonname"
    assert account["Description"]["filterable"] is False
    assert account["Location__c"]["type"] == "location"
    assert account["Location__Latitude__s"]["compoundFieldName"] == "Location__c"
    assert account["Account_Tier__c"]["calculated"] is True
    assert account["Account_Tier__c"]["calculatedFormula"]
    lead = {f["name"]: f for f in org.describe("Lead")["fields"]}
    assert lead["Name"]["compoundFieldName"] is None
    assert lead["FirstName"]["compoundFieldName"] == "Name"
    assert lead["Name"]["length"] == 121
    assert lead["Email"]["type"] == "email"
    assert lead["Email"]["length"] == 80
    assert lead["Status"]["picklistValues"][0]["defaultValue"] is True
    contact = {f["name"]: f for f in org.describe("Contact")["fields"]}
    assert contact["Interests__c"]["type"] == "multipicklist"
    assert contact["MailingAddress"]["type"] == "address"
    assert {f["type"] for f in org.describe("Document")["fields"]} >= {"base64"}


def test_describe_global_has_the_recorded_keys(api, recorded_keys):
    body = api.get("sobjects").json()
    assert list(body) == ["encoding", "maxBatchSize", "sobjects"]
    assert set(body) == set(recorded_keys["describe_global_keys"])
    assert body["encoding"] == "UTF-8"
    assert body["maxBatchSize"] == 200
    for entry in body["sobjects"]:
        assert set(entry) == set(recorded_keys["describe_global_entry_keys"])
        assert set(entry["urls"]) >= set(recorded_keys["describe_global_entry_url_keys"])
        assert set(entry["urls"]) <= set(recorded_keys["describe_global_entry_url_keys_any"])
    names = {e["name"] for e in body["sobjects"]}
    assert set(DATA_OBJECTS) <= names


def test_identity_has_every_recorded_key(api, recorded_keys):
    identity_url = api.org.identity_url("integration@example.com")
    body = api.get(identity_url).json()
    assert set(recorded_keys["identity_keys"]) <= set(body)
    assert set(recorded_keys["identity_url_keys"]) <= set(body["urls"])
    assert set(body["status"]) == set(recorded_keys["identity_status_keys"])
    assert body["urls"]["rest"].endswith("/services/data/v{version}/")
    assert body["id"] == identity_url
    assert body["username"] == "integration@example.com"


def test_limits_has_the_recorded_entries(api, recorded_keys):
    body = api.get("limits").json()
    assert set(recorded_keys["limits_keys"]) <= set(body)
    for name in recorded_keys["limits_keys"]:
        assert set(recorded_keys["limits_entry_keys"]) <= set(body[name])
    for name, nested in recorded_keys["limits_nested"].items():
        assert set(nested) <= set(body[name])
    assert list(body) == sorted(body)


def test_bulk_job_create_has_the_recorded_keys_in_order(api, recorded_keys):
    body = api.create_job("SELECT Id FROM Account")
    assert list(body) == recorded_keys["bulk_create_job_keys"]
    assert isinstance(body["apiVersion"], float)
    assert body["createdDate"].endswith("+0000")
    info = api.get(f"jobs/query/{body['id']}").json()
    assert list(info)[: len(body) - 2] == list(body)[: len(body) - 2]
    assert {"jobType", "numberRecordsProcessed", "retries", "totalProcessingTime"} <= set(info)
    assert info["jobType"] == "V2Query"
