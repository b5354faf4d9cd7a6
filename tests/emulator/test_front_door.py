"""What Salesforce's front door does before the API: HTTPS, API versions, request size limits,
and the daily Bulk query-job cap."""

from __future__ import annotations

import requests

from emulator import EmulatorServer, Org
from emulator.web.request_size import HEADERS_TOO_LARGE_BODY, URI_TOO_LONG_BODY

PASSWORD_GRANT = {
    "grant_type": "password",
    "client_id": "emulator-client-id",
    "client_secret": "emulator-client-secret",
    "username": "integration@example.com",
    "password": "emulator",
}


def test_versions_run_to_spring_26_and_each_lists_the_resources_it_has(api):
    versions = api.session.get(f"{api.base}/services/data/", timeout=10).json()
    assert [v["version"] for v in versions[-4:]] == ["63.0", "64.0", "65.0", "66.0"]
    assert versions[-2]["label"] == "Winter '26"
    latest = api.get(f"{api.base}/services/data/v66.0/").json()
    assert latest["jobs"] == "/services/data/v66.0/jobs"
    assert latest["graphql"] == "/services/data/v66.0/graphql"
    old = api.get(f"{api.base}/services/data/v28.0/").json()
    assert "query" in old
    assert "limits" not in old
    assert "jobs" not in old
    assert api.get(f"{api.base}/services/data/v28.0/limits").status_code == 404
    assert (
        api.get(f"{api.base}/services/data/v28.0/queryAll?q=SELECT+Id+FROM+User").status_code == 404
    )
    assert api.get(f"{api.base}/services/data/v66.0/limits").status_code == 200
    assert api.get(f"{api.base}/services/data/v67.0/limits").status_code == 404


def test_a_request_line_over_16384_bytes_gets_the_real_414_and_is_not_counted(api):
    path = "/services/data/v62.0/limits?pad="
    room = 16_384 - len(f"GET {path} HTTP/1.1")
    # The line and the headers share Jetty's 16 KB buffer: a line that leaves room for the
    # headers passes, a line of exactly 16,384 bytes fits but its headers do not (431).
    assert api.get(path + "x" * (room - 1000)).status_code == 200
    assert api.get(path + "x" * room).status_code == 431
    counted = api.org.counters()["limit_counted_total"]
    assert api.org.counters()["largest_request_line"] == 16_384
    too_long = api.get(path + "x" * (room + 1))
    assert too_long.status_code == 414
    assert too_long.text == URI_TOO_LONG_BODY
    assert too_long.headers["Content-Type"] == "text/html;charset=iso-8859-1"
    assert "Sforce-Limit-Info" not in too_long.headers
    after = api.org.counters()
    assert after["limit_counted_total"] == counted
    assert after["refused_requests"] == {"431": 1, "414": 1}
    assert after["largest_request_line"] == 16_385


def test_oversized_headers_get_431(api):
    r = api.get("limits", headers={"X-Padding": "p" * 16_300})
    assert r.status_code == 431
    assert r.text == HEADERS_TOO_LARGE_BODY
    assert api.get("limits", headers={"X-Padding": "p" * 15_000}).status_code == 200
    assert api.org.counters()["refused_requests"] == {"431": 1}
    assert api.org.counters()["largest_request_headers"] > 16_300


def test_the_bulk_job_cap_counts_jobs_over_a_rolling_24_hours():
    org = Org.from_profile("tiny", bulk_daily_jobs=3, session_timeout=10**7)
    with EmulatorServer(org, port=0) as server:
        token = org.issue_tokens("integration@example.com")["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        url = f"{server.base_url}/services/data/v62.0/jobs/query"

        def create():
            return session.post(url, json={"operation": "query", "query": "SELECT Id FROM Account"})

        first = create().json()["id"]
        for _ in range(2):
            org.clock.advance(3600)
            assert create().status_code == 200
        refused = create()
        assert refused.status_code == 400
        assert refused.json() == [
            {
                "message": "Max bulk v2 query jobs (3) per 24 hrs has been reached",
                "errorCode": "LIMIT_EXCEEDED",
            }
        ]
        limits = session.get(f"{server.base_url}/services/data/v62.0/limits").json()
        assert limits["DailyBulkV2QueryJobs"] == {"Max": 3, "Remaining": 0}
        # Deleting a job does not give its slot back.
        assert session.delete(f"{url}/{first}").status_code == 204
        assert create().status_code == 400
        org.clock.advance(22 * 3600 - 120)
        assert create().status_code == 400
        # 24 hours after the first job, one slot is free again; then none.
        org.clock.advance(180)
        assert create().status_code == 200
        assert create().status_code == 400


def test_tls_serves_https_with_a_certificate_clients_can_trust(tmp_path):
    cert = tmp_path / "emulator.pem"
    org = Org.from_profile("tiny")
    with EmulatorServer(org, port=0, cert_file=str(cert)) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        text = cert.read_text()
        assert text.startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE KEY" not in text
        token = requests.post(
            f"{server.base_url}/services/oauth2/token", data=PASSWORD_GRANT, verify=str(cert)
        ).json()
        assert token["instance_url"] == server.base_url
        assert token["id"].startswith(server.base_url + "/id/")
        r = requests.get(
            f"{server.base_url}/services/data/v66.0/sobjects",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            verify=str(cert),
        )
        assert r.status_code == 200
        local = server.base_url.replace("127.0.0.1", "localhost")
        assert requests.get(f"{local}/services/data/", verify=str(cert)).status_code == 200
        try:
            requests.get(f"{server.base_url}/services/data/", timeout=5)
        except requests.exceptions.SSLError:
            pass
        else:
            raise AssertionError("an untrusted self-signed certificate must fail verification")
