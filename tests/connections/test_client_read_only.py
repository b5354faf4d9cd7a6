"""Invariant 1: towards Salesforce we only read. The client sends nothing but GETs, Bulk
query-job calls (POST create, PATCH abort, DELETE job) and OAuth calls."""

import inspect
import re

import pytest

from connections.salesforce import oauth
from connections.salesforce.client import SalesforceClient
from tests.connections.conftest import API, INSTANCE, LOGIN, payload

JOB = "7505g00000XyZ12AAB"
IDENTITY = "https://login.salesforce.com/id/00D5g000004ZtQxEAK/0055g00000BxYzQAAV"
ALLOWED = {
    ("POST", re.compile(r"^/services/data/v62\.0/jobs/query$")),
    ("PATCH", re.compile(rf"^/services/data/v62\.0/jobs/query/{JOB}$")),
    ("DELETE", re.compile(rf"^/services/data/v62\.0/jobs/query/{JOB}$")),
    ("POST", re.compile(r"^/services/oauth2/(token|revoke)$")),
}


def _register_everything(sf):
    sf.get(f"{INSTANCE}/services/data/", json=payload("versions.json"))
    sf.get(f"{API}/limits", json=payload("limits.json"))
    sf.get(f"{API}/sobjects", json=payload("describe_global.json"))
    sf.get(f"{API}/sobjects/Account/describe", json=payload("describe_account.json"))
    sf.get(f"{API}/query", json=payload("query_contacts_page2.json"))
    sf.get(f"{API}/queryAll", json=payload("count.json"))
    sf.get(IDENTITY, json=payload("identity.json"))
    sf.get(f"{INSTANCE}/services/data/v62.0/sobjects/Attachment/00P5g00000AbCdEEAZ/Body", body=b"x")
    sf.post(f"{API}/jobs/query", json=payload("bulk_job_created.json"))
    sf.get(f"{API}/jobs/query/{JOB}", json=payload("bulk_job_complete.json"))
    sf.get(f"{API}/jobs/query/{JOB}/results", body='"Id"\n', headers={"Sforce-Locator": "null"})
    sf.patch(f"{API}/jobs/query/{JOB}", json=payload("bulk_job_aborted.json"))
    sf.delete(f"{API}/jobs/query/{JOB}", status=204)
    sf.post(f"{LOGIN}/services/oauth2/token", json=payload("refresh_response.json"))
    sf.post(f"{LOGIN}/services/oauth2/revoke", body="")


def _use_everything(client: SalesforceClient):
    client.versions()
    client.limits()
    client.describe_global()
    client.describe("Account")
    list(client.query("SELECT Id FROM Contact"))
    client.count("SELECT COUNT() FROM Contact", include_deleted=True)
    client.identity(IDENTITY)
    client.get_blob("/services/data/v62.0/sobjects/Attachment/00P5g00000AbCdEEAZ/Body")
    client.bulk_create_query_job("SELECT Id FROM Contact")
    client.bulk_get_job(JOB)
    with client.bulk_result_page(JOB) as page:
        page.text().read()
    client.bulk_abort_job(JOB)
    client.bulk_delete_job(JOB)
    common = {"login_url": LOGIN, "timeout": 5.0, "gate": oauth.Gate((".salesforce.com",))}
    oauth.token_refresh(
        client_id="id",
        client_secret="secret",
        refresh_token="5Aep861-refresh",
        **common,
    )
    oauth.token_revoke(token="5Aep861-refresh", **common)


def test_a_whole_session_sends_only_reads_and_query_job_calls(sf, make_client):
    _register_everything(sf)
    _use_everything(make_client())
    for call in sf.calls:
        method = call.request.method
        path = re.sub(r"\?.*$", "", call.request.path_url)
        if method == "GET":
            continue
        assert any(method == m and p.match(path) for m, p in ALLOWED), f"{method} {path}"


def test_the_client_offers_no_record_writes():
    public = {name for name, _ in inspect.getmembers(SalesforceClient) if not name.startswith("_")}
    writes = {n for n in public if re.search(r"create|update|upsert|delete|insert|patch", n)}
    assert writes == {"bulk_create_query_job", "bulk_delete_job"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/services/data/v62.0/sobjects/Account"),
        ("PATCH", "/services/data/v62.0/sobjects/Account/0015g00000QwErTAAR"),
        ("DELETE", "/services/data/v62.0/sobjects/Account/0015g00000QwErTAAR"),
        ("POST", "/services/data/v62.0/composite/sobjects"),
        ("POST", "/services/data/v62.0/jobs/ingest"),
        ("PUT", "/services/data/v62.0/jobs/ingest/7505g00000XyZ12AAB/batches"),
        ("PATCH", "/services/data/v62.0/jobs/ingest/7505g00000XyZ12AAB"),
    ],
)
def test_the_choke_point_refuses_anything_but_reads(sf, make_client, method, path):
    with pytest.raises(ValueError, match="never writes"):
        make_client()._request(method, path, kind="query")
    assert len(sf.calls) == 0
