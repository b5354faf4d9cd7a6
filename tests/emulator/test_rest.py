"""REST resources over HTTP: versions, resources, limits, describe, records, query paging,
Sforce-Limit-Info accounting and the daily limit."""

from __future__ import annotations

import re

NOT_FOUND = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_versions_are_listed_without_auth_and_without_counting(api):
    r = api.session.get(f"{api.base}/services/data/", timeout=10)
    assert r.status_code == 200
    assert "Sforce-Limit-Info" not in r.headers
    versions = r.json()
    assert versions[0] == {"label": "Winter '11", "url": "/services/data/v20.0", "version": "20.0"}
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in versions
    assert versions[-1] == {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"}
    assert api.org.api_usage()[0] == 0


def test_every_counted_call_carries_sforce_limit_info(api):
    for n, path in enumerate(["", "limits", "sobjects", "sobjects/Account/describe"], start=1):
        r = api.get(path)
        assert r.status_code == 200
        assert r.headers["Sforce-Limit-Info"] == f"api-usage={n}/100000"
        assert re.fullmatch(r"api-usage=\d+/\d+", r.headers["Sforce-Limit-Info"])
    r = api.query("SELECT Id, Nope FROM Account")
    assert r.status_code == 400
    assert r.headers["Sforce-Limit-Info"] == "api-usage=5/100000"
    assert r.headers["Content-Type"] == "application/json;charset=UTF-8"


def test_resources_list_the_services(api):
    body = api.get("").json()
    assert body["sobjects"] == "/services/data/v62.0/sobjects"
    assert body["query"] == "/services/data/v62.0/query"
    assert body["jobs"] == "/services/data/v62.0/jobs"


def test_limits_are_live(api):
    before = api.get("limits").json()
    api.get("sobjects")
    after = api.get("limits").json()
    assert before["DailyApiRequests"]["Max"] == 100_000
    assert after["DailyApiRequests"]["Remaining"] == before["DailyApiRequests"]["Remaining"] - 2
    api.create_job("SELECT Id FROM Account")
    jobs = api.get("limits").json()["DailyBulkV2QueryJobs"]
    assert jobs == {"Max": 10000, "Remaining": 9999}


def test_the_user_without_view_setup_cannot_read_limits(api):
    api.login("nosetup@example.com")
    r = api.get("limits")
    assert r.status_code == 403
    assert r.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS"
    assert api.get("sobjects").status_code == 200


def test_describe_global_and_describe_follow_object_permissions(api):
    names = {e["name"] for e in api.get("sobjects").json()["sobjects"]}
    assert {"Campaign", "CampaignMember"} <= names
    api.login("nocampaign@example.com")
    names = {e["name"] for e in api.get("sobjects").json()["sobjects"]}
    assert not {"Campaign", "CampaignMember"} & names
    r = api.get("sobjects/Campaign/describe")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    assert api.query("SELECT Id FROM CampaignMember").json()[0]["errorCode"] == "INVALID_TYPE"


def test_field_level_security_hides_fields_from_describe(api):
    api.login("fls@example.com")
    fields = {f["name"] for f in api.get("sobjects/Account/describe").json()["fields"]}
    assert "AnnualRevenue" not in fields
    assert "Name" in fields


def test_describe_global_supports_if_modified_since(api):
    r = api.get("sobjects")
    again = api.get("sobjects", headers={"If-Modified-Since": r.headers["Last-Modified"]})
    assert again.status_code == 304


def test_an_unknown_object_or_version_or_path_is_404(api):
    assert api.get("sobjects/Nope/describe").json() == NOT_FOUND
    assert api.get(f"{api.base}/services/data/v67.0/sobjects").status_code == 404
    assert api.get(f"{api.base}/services/data/v67.0/sobjects").json() == NOT_FOUND
    assert api.get("nothing/here").status_code == 404


def test_a_wrong_method_is_405(api):
    r = api.delete("query")
    assert r.status_code == 405
    assert r.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_a_missing_or_bad_token_is_401(api):
    api.token = None
    r = api.get("sobjects")
    assert r.status_code == 401
    assert r.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    api.token = "00Dxx!nope"
    assert api.get("sobjects").status_code == 401


def test_the_oauth_authorization_header_form_is_accepted(api):
    r = api.session.get(
        api.url("sobjects"), headers={"Authorization": f"OAuth {api.token}"}, timeout=10
    )
    assert r.status_code == 200


def test_batch_size_is_at_least_200(api):
    r = api.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=100"})
    body = r.json()
    assert body["totalSize"] == 150
    assert body["done"] is True
    assert len(body["records"]) == 150
    assert "nextRecordsUrl" not in body


def test_query_more_and_query_all_paging(api):
    for _ in range(60):
        api.org.create("Lead", {"LastName": "Extra", "Company": "Extra Co"})
    body = api.query(
        "SELECT Id, Name FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"}
    ).json()
    assert body["totalSize"] == 180
    assert body["done"] is True
    for i in range(300):
        api.org.create("Lead", {"LastName": f"More {i}", "Company": "More Co"})
    body = api.query(
        "SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"}
    ).json()
    assert body["done"] is False
    assert re.fullmatch(r"/services/data/v62\.0/query/01g\w{15}-200", body["nextRecordsUrl"])
    seen = [r["Id"] for r in body["records"]]
    while not body["done"]:
        body = api.get(body["nextRecordsUrl"]).json()
        seen += [r["Id"] for r in body["records"]]
    assert len(seen) == len(set(seen)) == 480
    everything = api.get(
        "queryAll",
        params={"q": "SELECT Id FROM Lead"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    assert everything["nextRecordsUrl"].startswith("/services/data/v62.0/queryAll/01g")
    assert api.get(everything["nextRecordsUrl"]).status_code == 200
    assert api.org.counters()["api_calls"]["query_more"] >= 2


def test_a_bad_locator_is_invalid_query_locator(api):
    r = api.get("query/01gNOPE-200")
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_a_missing_query_string_is_malformed(api):
    r = api.get("query")
    assert r.json() == [
        {"message": "A query string has to be specified", "errorCode": "MALFORMED_QUERY"}
    ]


def test_base64_fields_are_urls_in_queries_and_bytes_at_the_url(api):
    rec = api.query("SELECT Id, Body, BodyLength FROM Document LIMIT 1").json()["records"][0]
    assert rec["Body"] == f"/services/data/v62.0/sobjects/Document/{rec['Id']}/Body"
    blob = api.get(rec["Body"])
    assert blob.status_code == 200
    assert len(blob.content) == rec["BodyLength"]
    assert api.org.counters()["api_calls"]["blob"] == 1


def test_a_record_can_be_retrieved(api):
    some = api.query("SELECT Id FROM Account LIMIT 1").json()["records"][0]["Id"]
    rec = api.get(f"sobjects/Account/{some}").json()
    assert rec["Id"] == some
    assert rec["attributes"]["type"] == "Account"
    assert isinstance(rec["BillingAddress"], dict | type(None))
    assert api.get("sobjects/Account/001000000000000AAA").status_code == 404


def test_past_the_daily_limit_calls_are_refused(api):
    api.org.api_daily_limit = 3
    try:
        for _ in range(3):
            assert api.get("sobjects").status_code == 200
        r = api.get("sobjects")
        assert r.status_code == 403
        assert r.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        assert r.headers["Sforce-Limit-Info"] == "api-usage=3/3"
        api.org.clock.advance(86400 + 120)
        api.login()
        assert api.get("sobjects").status_code == 200
    finally:
        api.org.api_daily_limit = 100_000


def test_oauth_calls_do_not_count_against_the_limit(api):
    api.session.post(
        f"{api.base}/services/oauth2/token",
        data={
            "grant_type": "password",
            "username": "integration@example.com",
            "password": "emulator",
            "client_id": "emulator-client-id",
            "client_secret": "emulator-client-secret",
        },
        timeout=10,
    )
    assert api.org.api_usage()[0] == 0
    assert api.org.counters()["oauth_grants"]["password"] == 1


def test_counters_report_calls_by_kind(api):
    api.get("sobjects")
    api.get("sobjects/Account/describe")
    api.query("SELECT COUNT() FROM Account")
    c = api.org.counters()
    assert c["api_calls"] == {"describe_global": 1, "describe": 1, "query": 1}
    assert c["api_calls_total"] == 3
