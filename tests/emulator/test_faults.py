"""Injected faults: each one as a client meets it, reproducible from the seed."""

from __future__ import annotations

import time

import pytest
import requests

from emulator import Org
from emulator.faults import FaultError, parse_spec


def statuses(api, n=40) -> list[int]:
    return [api.get("sobjects").status_code for _ in range(n)]


def test_the_spec_grammar():
    assert parse_spec("http_500:rate=0.5,burst=2; latency:ms=10 ;expire_tokens") == [
        ("http_500", {"rate": "0.5", "burst": "2"}),
        ("latency", {"ms": "10"}),
        ("expire_tokens", {}),
    ]
    org = Org.from_profile("tiny")
    assert org.faults.set_spec("http_500:rate=0.5,burst=2;latency:ms=10") == ["http_500", "latency"]
    assert org.faults.active()["http_500"]["burst"] == 2
    with pytest.raises(FaultError):
        org.faults.set_spec("meteor_strike")
    with pytest.raises(FaultError):
        org.faults.set_spec("http_500:speed=3")
    with pytest.raises(FaultError):
        org.faults.set_spec("http_500:rate=often")
    with pytest.raises(FaultError):
        org.faults.set_spec("field_removed:field=Title")


def test_500_bursts_are_reproducible_from_the_seed(api):
    api.org.faults.set("http_500", rate=0.2, burst=3)
    first = statuses(api)
    assert set(first) == {200, 500}
    api.org.reset()
    api.login()
    api.org.faults.set("http_500", rate=0.2, burst=3)
    assert statuses(api) == first
    runs = "".join("x" if s == 500 else "." for s in first)
    assert "xxx" in runs


def test_500_and_503_bodies(api):
    api.org.faults.set("http_500")
    r = api.get("sobjects")
    assert r.status_code == 500
    assert r.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "Please include this ErrorId" in r.json()[0]["message"]
    assert "Sforce-Limit-Info" in r.headers
    api.org.faults.clear()
    api.org.faults.set("unavailable_503", rate=1)
    r = api.get("sobjects")
    assert r.status_code == 503
    assert r.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"


def test_faults_can_target_kinds_of_calls(api):
    api.org.faults.set("http_500", kinds="query+bulk_results")
    assert api.get("sobjects").status_code == 200
    assert api.query("SELECT Id FROM Account").status_code == 500


def test_concurrent_limit_and_lock_row(api):
    api.org.faults.set("concurrent_limit")
    r = api.get("sobjects")
    assert r.status_code == 403
    assert r.json() == [
        {
            "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]
    api.org.faults.clear("concurrent_limit")
    api.org.faults.set("lock_row")
    r = api.get("sobjects")
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"


def test_added_latency(api):
    api.org.faults.set("latency", ms=250)
    start = time.perf_counter()
    api.get("sobjects")
    assert time.perf_counter() - start >= 0.25


def test_a_csv_page_can_be_cut_mid_stream(api):
    job = api.create_job("SELECT Id, Name, Email FROM Contact")
    api.wait_job(job["id"])
    api.org.faults.set("cut_stream", after_rows=40, count=1)
    r = api.get(f"jobs/query/{job['id']}/results", stream=True)
    assert r.status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        b"".join(r.iter_content(1024))
    whole = api.get(f"jobs/query/{job['id']}/results")
    assert len(whole.text.splitlines()) == 151


def test_a_gzipped_page_can_be_cut_too(api):
    job = api.create_job("SELECT Id, Name FROM Lead")
    api.wait_job(job["id"])
    api.org.faults.set("cut_stream", after_rows=10)
    r = api.get(f"jobs/query/{job['id']}/results", headers={"Accept-Encoding": "gzip"}, stream=True)
    with pytest.raises(requests.exceptions.RequestException):
        b"".join(r.iter_content(1024))


def test_expire_all_tokens_now(api):
    tokens = api.org.issue_tokens("integration@example.com")
    api.token = tokens["access_token"]
    assert api.get("sobjects").status_code == 200
    api.org.faults.set("expire_tokens")
    assert api.get("sobjects").status_code == 401
    refreshed = api.org.auth.grant_refresh(
        {"refresh_token": tokens["refresh_token"]}, "emulator-client-id", "emulator-client-secret"
    )
    api.token = refreshed["access_token"]
    assert api.get("sobjects").status_code == 200


def test_a_short_session_timeout_for_soak_tests(api):
    api.org.faults.set("session_timeout", seconds=120)
    for _ in range(3):
        api.org.clock.advance(50)
        status = api.get("sobjects").status_code
    assert status == 401


def test_revoke_a_given_refresh_token(api):
    tokens = api.org.issue_tokens("integration@example.com")
    api.org.faults.set("revoke_refresh_token", token=tokens["refresh_token"])
    assert api.org.auth.state.refresh[tokens["refresh_token"]].revoked


def test_the_daily_limit_reached(api):
    api.org.faults.set("daily_limit_reached")
    r = api.get("sobjects")
    assert r.status_code == 403
    assert r.json()[0]["message"] == "TotalRequests Limit exceeded."
    assert r.headers["Sforce-Limit-Info"] == "api-usage=100000/100000"


def test_failing_jobs(api):
    api.org.faults.set("job_fail", count=1, object="Contact", message="Boom")
    other = api.create_job("SELECT Id FROM Account")
    failed = api.create_job("SELECT Id FROM Contact")
    fine = api.create_job("SELECT Id FROM Contact")
    info = api.wait_job(failed["id"], "Failed")
    assert info["errorMessage"] == "Boom"
    assert api.get(f"jobs/query/{failed['id']}/results").status_code == 412
    api.wait_job(other["id"])
    api.wait_job(fine["id"])


def test_a_job_that_stays_in_progress(api):
    api.org.faults.set("job_stuck")
    job = api.create_job("SELECT Id FROM Account")
    api.org.clock.advance(3600)
    api.login()
    assert api.get(f"jobs/query/{job['id']}").json()["state"] == "InProgress"
    assert api.patch(f"jobs/query/{job['id']}", json={"state": "Aborted"}).status_code == 200


def test_query_timeout_above_n_rows(api):
    api.org.faults.set("query_timeout", rows=130)
    big = api.create_job("SELECT Id FROM Contact")
    small = api.create_job("SELECT Id FROM Lead")
    info = api.wait_job(big["id"], "Failed")
    assert "QUERY_TIMEOUT" in info["errorMessage"]
    api.wait_job(small["id"])
    r = api.query("SELECT Id FROM Contact")
    assert r.status_code == 400
    assert r.json() == [
        {"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}
    ]
    assert api.query("SELECT COUNT() FROM Contact").json()["totalSize"] == 150


def test_a_field_removed_between_describe_and_query(api):
    api.org.faults.set("field_removed", object="Contact", field="Title")
    fields = {f["name"] for f in api.get("sobjects/Contact/describe").json()["fields"]}
    assert "Title" in fields
    r = api.query("SELECT Id, Title FROM Contact")
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "Title" not in {f["name"] for f in api.get("sobjects/Contact/describe").json()["fields"]}


def test_read_permission_revoked_after_n_calls(api):
    api.org.faults.set("revoke_read", object="Campaign", user="integration@example.com", after=2)
    assert api.query("SELECT Id FROM Campaign").status_code == 200
    assert api.query("SELECT Id FROM Campaign").status_code == 200
    r = api.query("SELECT Id FROM Campaign")
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_TYPE"
    assert api.get("sobjects/CampaignMember/describe").status_code == 404


def test_faults_over_the_control_api(api):
    base = f"{api.base}/__emulator__/faults"
    r = requests.put(base, json={"spec": "lock_row:rate=1"}, timeout=10)
    assert r.status_code == 200
    assert "lock_row" in requests.get(base, timeout=10).json()
    assert api.get("sobjects").status_code == 400
    requests.delete(f"{base}/lock_row", timeout=10)
    assert api.get("sobjects").status_code == 200
    r = requests.put(f"{base}/http_500", json={"rate": 1}, timeout=10)
    assert r.json()["http_500"]["rate"] == 1.0
    assert api.get("sobjects").status_code == 500
    requests.delete(base, timeout=10)
    assert requests.get(base, timeout=10).json() == {}
    bad = requests.put(f"{base}/nope", json={}, timeout=10)
    assert bad.status_code == 400
