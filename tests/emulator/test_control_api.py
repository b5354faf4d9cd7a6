"""The /__emulator__/ control API: the Python API's operations over HTTP, never counted."""

from __future__ import annotations

import json

import requests


def ctl(api, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, f"{api.base}/__emulator__/{path}", timeout=30, **kw)


def test_summary_lists_users_counts_and_credentials(api):
    body = ctl(api, "GET", "").json()
    assert body["profile"] == "tiny"
    assert body["client_id"] == "emulator-client-id"
    assert body["counts"]["Contact"] == 150
    assert {u["username"] for u in body["users"]} >= {
        "integration@example.com",
        "admin@example.com",
    }


def test_records_create_update_delete_undelete_purge(api):
    r = ctl(api, "POST", "records/Lead", json={"LastName": "Ctl", "Company": "Control Co"})
    assert r.status_code == 201
    lead = r.json()["id"]
    assert (
        ctl(
            api, "PATCH", f"records/Lead/{lead}", json={"Status": "Working - Contacted"}
        ).status_code
        == 204
    )
    rec = api.query(f"SELECT Status FROM Lead WHERE Id = '{lead}'").json()["records"][0]
    assert rec["Status"] == "Working - Contacted"
    assert ctl(api, "DELETE", f"records/Lead/{lead}").status_code == 204
    assert api.query(f"SELECT COUNT() FROM Lead WHERE Id = '{lead}'").json()["totalSize"] == 0
    assert ctl(api, "POST", f"records/Lead/{lead}/undelete").status_code == 204
    assert api.query(f"SELECT COUNT() FROM Lead WHERE Id = '{lead}'").json()["totalSize"] == 1
    ctl(api, "DELETE", f"records/Lead/{lead}")
    assert ctl(api, "POST", f"records/Lead/{lead}/purge").status_code == 204
    assert (
        api.get("queryAll", params={"q": f"SELECT COUNT() FROM Lead WHERE Id = '{lead}'"}).json()[
            "totalSize"
        ]
        == 0
    )
    bad = ctl(api, "PATCH", f"records/Lead/{lead}", json={"Nope": 1})
    assert bad.status_code == 400
    assert "error" in bad.json()


def test_set_a_value_without_moving_the_modstamp(api):
    acc = api.query("SELECT Id, SystemModstamp FROM Account LIMIT 1").json()["records"][0]
    r = ctl(
        api,
        "POST",
        f"records/Account/{acc['Id']}/set-without-modstamp",
        json={"field": "Account_Tier__c", "value": "X"},
    )
    assert r.status_code == 204
    rec = api.query(
        f"SELECT Account_Tier__c, SystemModstamp FROM Account WHERE Id = '{acc['Id']}'"
    ).json()["records"][0]
    assert rec == {**rec, "Account_Tier__c": "X", "SystemModstamp": acc["SystemModstamp"]}


def test_ground_truth_records_and_counts(api):
    lines = ctl(api, "GET", "records/Campaign").text.splitlines()
    assert len(lines) == 8
    assert "attributes" not in json.loads(lines[0])
    assert ctl(api, "GET", "count/Campaign").json() == {"count": 8}


def test_changes_clock_counters_and_reset(api):
    body = ctl(api, "POST", "changes", json={"n": 25, "seed": 1}).json()
    assert sum(n for per in body.values() for n in per.values()) == 25
    before = ctl(api, "GET", "clock").json()
    after = ctl(api, "POST", "clock/advance", json={"seconds": 3600}).json()
    assert after["offset"] - before["offset"] == 3600
    api.login()
    api.get("sobjects")
    counters = ctl(api, "GET", "counters").json()
    assert counters["api_calls"] == {"describe_global": 1}
    assert ctl(api, "GET", "api-usage").json() == {"used": 1, "max": 100000}
    assert ctl(api, "POST", "reset").json() == {"reset": True}
    assert ctl(api, "GET", "counters").json()["api_calls_total"] == 0
    assert ctl(api, "GET", "count/Contact").json() == {"count": 150}


def test_tokens_schema_access_and_users(api):
    tokens = ctl(api, "POST", "tokens", json={"username": "admin@example.com"}).json()
    assert tokens["refresh_token"]
    assert (
        ctl(
            api, "POST", "schema/Lead/fields", json={"name": "Score2__c", "type": "double"}
        ).status_code
        == 201
    )
    fields = {f["name"] for f in api.get("sobjects/Lead/describe").json()["fields"]}
    assert "Score2__c" in fields
    assert ctl(api, "DELETE", "schema/Lead/fields/Score2__c").status_code == 204
    access = {"username": "integration@example.com", "sobject": "Lead", "readable": False}
    assert ctl(api, "PUT", "access", json=access).status_code == 204
    assert api.get("sobjects/Lead/describe").status_code == 404
    assert ctl(api, "PATCH", "users/admin@example.com", json={"active": False}).status_code == 204
    assert api.org.user_state("admin@example.com").active is False
    assert ctl(api, "GET", "nothing").status_code == 404


def test_control_calls_are_not_api_calls(api):
    ctl(api, "GET", "")
    ctl(api, "GET", "count/Account")
    assert api.org.api_usage() == (0, 100000)
