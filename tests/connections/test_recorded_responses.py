"""Real recorded Salesforce responses (the `shared/reference/fixtures` folder beside the project
root, see tests/recorded.py) replayed through our client and OAuth code with `responses`."""

from urllib.parse import urlsplit

import pytest
from responses import matchers

from connections.salesforce import oauth
from connections.salesforce.bulk import bulk_job_from_json
from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceNotFound,
    SalesforceQueryError,
    SalesforceRequestTooLarge,
)
from tests.connections.conftest import API, INSTANCE, LOGIN
from tests.recorded import needs_recordings, recorded

pytestmark = needs_recordings
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
ALLOWED = (".salesforce.com",)


def _without_attributes(record: dict) -> dict:
    return {
        k: _without_attributes(v) if isinstance(v, dict) else v
        for k, v in record.items()
        if k != "attributes"
    }


@pytest.mark.parametrize(
    ("sobject", "name"),
    [
        ("Account", "describe-Account.json"),
        ("Contact", "describe-Contact.json"),
        ("Lead", "describe-Lead.json"),
        ("Opportunity", "describe-Opportunity.json"),
        ("Custom__c", "describe-Custom__c.json"),
        ("Account", "describe-Account-PersonAccount.json"),
    ],
)
def test_describes_come_back_whole(sf, make_client, sobject, name):
    body = recorded(name)
    sf.get(f"{API}/sobjects/{sobject}/describe", json=body)
    got = make_client().describe(sobject)
    assert got == body
    assert got["name"] == sobject


def test_a_person_account_describe_keeps_its_person_fields(sf, make_client):
    sf.get(f"{API}/sobjects/Account/describe", json=recorded("describe-Account-PersonAccount.json"))
    fields = {f["name"]: f for f in make_client().describe("Account")["fields"]}
    assert fields["IsPersonAccount"]["type"] == "boolean"
    assert fields["PersonContactId"]["referenceTo"] == ["Contact"]
    assert fields["PersonMailingAddress"]["type"] == "address"
    assert any(name.endswith("__pc") for name in fields)


def test_describe_global_and_limits_and_versions(sf, make_client):
    sf.get(f"{API}/sobjects", json=recorded("describe-global.json"))
    sf.get(f"{API}/limits", json=recorded("limits-response-excerpt.json"))
    sf.get(f"{INSTANCE}/services/data/", json=recorded("restforce-versions.json"))
    client = make_client()
    names = {s["name"] for s in client.describe_global()["sobjects"]}
    assert {"Account", "Contact", "Lead"} <= names
    assert client.limits()["DailyBulkV2QueryJobs"] == {"Max": 10000, "Remaining": 10000}
    assert [v["version"] for v in client.versions()] == ["20.0", "100"]


def _recorded_pages():
    return [
        p
        for p in recorded("query-pages-Account.json")
        if "/v62.0/" in p["uri"] and p["status"] == 200
    ]


def test_recorded_query_pages_come_back_as_records_without_attributes(sf, make_client):
    pages = _recorded_pages()
    assert pages
    client = make_client()
    for page in pages:
        url = urlsplit(page["uri"])
        soql = dict(p.split("=", 1) for p in url.query.split("&"))["q"].replace("%20", " ")
        sf.get(
            f"{INSTANCE}{url.path.rstrip('/')}",
            json=page["body"],
            match=[matchers.query_param_matcher({"q": soql})],
        )
        records = list(client.query(soql))
        assert records == [_without_attributes(r) for r in page["body"]["records"]]
        assert len(records) == page["body"]["totalSize"]


def test_next_records_url_naming_another_api_version_is_followed(sf, make_client):
    first, last = recorded("restforce-query-page1.json"), recorded("restforce-query-page2.json")
    sf.get(f"{API}/query", json=first)
    sf.get(f"{INSTANCE}{first['nextRecordsUrl']}", json=last)
    records = list(make_client().query("SELECT Text_Label FROM Whizbang"))
    assert [r["Text_Label"] for r in records] == ["First Page", "Last Page"]


def test_a_typed_record_keeps_salesforce_value_formats(sf, make_client):
    sf.get(f"{API}/query", json=recorded("restforce-query-typed.json"))
    (record,) = make_client().query("SELECT Id FROM Whizbang")
    assert record["DateTime_Label"] == "2011-07-07T00:37:00.000+0000"
    assert record["Date_Label"] == "2010-01-01"
    assert record["Checkbox_Label"] is False
    assert record["Picklist_Multiselect_Label"] == "four;six"
    assert record["ParentWhizbang__r"] == {"Name": "Parent Whizbang", "Text_Label": "Hello"}
    assert "attributes" not in record


def test_an_expired_session_is_refreshed_once_and_the_call_repeated(sf, make_client):
    sf.get(f"{API}/limits", status=401, json=recorded("restforce-error-expired-session.json"))
    sf.get(f"{API}/limits", json=recorded("limits-response-excerpt.json"))
    refreshed = []

    def refresh():
        refreshed.append(True)
        return "00D5g000004ZtQx!AQ8AQNewToken"

    assert make_client(refresh=refresh).limits()["DailyApiRequests"]["Max"] == 15000
    assert refreshed == [True]


def test_recorded_api_errors_map_to_their_classes(sf, make_client):
    sf.get(
        f"{API}/sobjects/Bar/describe",
        status=404,
        json=recorded("restforce-error-describe-not-found.json"),
    )
    sf.get(f"{API}/query", status=400, json=recorded("restforce-error-query-invalid-field.json"))
    client = make_client()
    with pytest.raises(SalesforceNotFound):
        client.describe("Bar")
    with pytest.raises(SalesforceQueryError) as caught:
        list(client.query("SELECT foo FROM Bar"))
    assert caught.value.error_code == "INVALID_FIELD"
    assert "No such column 'foo'" in caught.value.message


def test_the_recorded_414_is_a_request_too_large(sf, make_client):
    body = recorded("error-414-uri-too-long.html")
    call = sf.get(f"{API}/query", status=414, body=body, content_type="text/html")
    with pytest.raises(SalesforceRequestTooLarge) as caught:
        list(make_client(retry_attempts=3).query("SELECT Id FROM Account"))
    assert caught.value.status == 414
    assert call.call_count == 1


def test_a_recorded_token_response_without_token_type_or_scope_is_read(sf):
    sf.post(TOKEN_URL, json=recorded("restforce-token-auth-success.json"))
    tokens = oauth.token_exchange(
        login_url=LOGIN,
        client_id="client-id",
        client_secret="client-secret",
        redirect_uri="https://app.primer.example/connections/oauth/callback/",
        code="aPrx-code",
        code_verifier="verifier-" + "v" * 50,
        timeout=5.0,
        gate=oauth.Gate(ALLOWED),
    )
    assert tokens.instance_url == "https://na1.salesforce.com"
    assert tokens.issued_at_ms == 1278448832702
    assert tokens.token_type == "Bearer"
    assert tokens.refresh_token is None


def test_a_recorded_refresh_response_is_read(sf):
    sf.post(TOKEN_URL, json=recorded("restforce-token-refresh-success.json"))
    tokens = oauth.token_refresh(
        login_url=LOGIN,
        client_id="client-id",
        client_secret="client-secret",
        refresh_token="5Aep861-old",
        timeout=5.0,
        gate=oauth.Gate(ALLOWED),
    )
    assert tokens.access_token == "refreshed_access_token"
    assert tokens.refresh_token is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("restforce-token-auth-error-invalid-password.json", "authentication_failure"),
        ("restforce-token-refresh-error-expired.json", "token_revoked"),
    ],
)
def test_recorded_token_errors_are_auth_errors_with_their_reason(sf, name, reason):
    sf.post(TOKEN_URL, status=400, json=recorded(name))
    with pytest.raises(SalesforceAuthError) as caught:
        oauth.token_refresh(
            login_url=LOGIN,
            client_id="client-id",
            client_secret="client-secret",
            refresh_token="5Aep861-old",
            timeout=5.0,
            gate=oauth.Gate(ALLOWED),
        )
    assert caught.value.reason == reason


def test_the_recorded_identity_response_is_read(sf, make_client):
    body = recorded("identity-response.json")
    sf.get(body["id"], json=body)
    identity = make_client().identity(body["id"])
    assert identity["username"] == "john@playground.com"
    assert identity["active"] is True


def test_a_recorded_bulk_job_create_response_is_read():
    job = bulk_job_from_json(recorded("bulk2-create-job-response.json"))
    assert job.id == "750Tn000004ZoR3IAK"
    assert job.api_version == "57.0"
    assert job.state == "UploadComplete"
    assert job.operation == "queryAll"
    assert job.is_terminal is False
