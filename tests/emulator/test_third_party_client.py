"""simple-salesforce, a widely used third-party client, run unmodified against the emulator over
HTTPS: password-grant login, query, query_all, a Bulk API 2.0 query, describe and limits.

The client builds its login URL as `https://login.salesforce.com/...` whatever it is given; the
only stand-in is for DNS: the session routes that host to the emulator (as an /etc/hosts entry
would). Everything after login goes to the `instance_url` the emulator returned, trusted through
REQUESTS_CA_BUNDLE pointing at the certificate `--tls` generated.
"""

from __future__ import annotations

import csv
import io

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from emulator import EmulatorServer, Org
from emulator.data.profiles import profile_counts

LOGIN_HOST = "https://login.salesforce.com"
VERSION = "66.0"
CONTACTS = 650


class LoginHostResolver(HTTPAdapter):
    """Sends requests for login.salesforce.com to the emulator: name resolution, nothing more
    (path, body and headers are the client's own)."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def send(self, request, **kwargs):
        request.url = self.base_url + request.url[len(LOGIN_HOST) :]
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    cert = tmp_path_factory.mktemp("tls") / "emulator.pem"
    org = Org.from_profile("tiny", counts={**profile_counts("tiny"), "Contact": CONTACTS})
    server = EmulatorServer(org, port=0, cert_file=str(cert)).start()
    yield server, cert
    server.stop()


@pytest.fixture
def sf(served, monkeypatch) -> Salesforce:
    server, cert = served
    server.org.reset()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    session = requests.Session()
    session.mount(LOGIN_HOST, LoginHostResolver(server.base_url))
    return Salesforce(
        username="integration@example.com",
        password="emulator",
        consumer_key="emulator-client-id",
        consumer_secret="emulator-client-secret",
        session=session,
        version=VERSION,
    )


def test_password_grant_login_lands_on_the_https_instance(sf, served):
    server, _ = served
    assert server.base_url == f"https://{sf.sf_instance}"
    assert sf.base_url == f"{server.base_url}/services/data/v{VERSION}/"
    assert server.org.counters()["oauth_grants"] == {"password": 1}


def test_query_and_query_all(sf, served):
    org = served[0].org
    truth = {r["Id"]: r for r in org.iter_records("Contact", include_deleted=False)}
    page = sf.query("SELECT Id, Name, Email FROM Contact ORDER BY Id LIMIT 5")
    assert page["totalSize"] == 5
    assert page["done"] is True
    for record in page["records"]:
        assert record["attributes"]["type"] == "Contact"
        assert record["Email"] == truth[record["Id"]]["Email"]
    everything = sf.query_all(
        "SELECT Id, LastName FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"}
    )
    assert everything["totalSize"] == CONTACTS
    assert {r["Id"] for r in everything["records"]} == set(truth)
    assert org.counters()["api_calls"]["query_more"] == 3


def test_a_bulk_2_query_returns_csv_whose_header_is_the_select_list(sf, served):
    org = served[0].org
    fields = ["Id", "FirstName", "LastName", "Email", "CreatedDate", "HasOptedOutOfEmail"]
    pages = list(
        sf.bulk2.Contact.query(f"SELECT {', '.join(fields)} FROM Contact", max_records=200)
    )
    assert len(pages) == 4
    rows = []
    for page in pages:
        reader = csv.reader(io.StringIO(page))
        assert next(reader) == fields
        rows.extend(reader)
    truth = {r["Id"]: r for r in org.iter_records("Contact", include_deleted=False)}
    assert len(rows) == CONTACTS
    assert {row[0] for row in rows} == set(truth)
    some = rows[17]
    assert some[3] == (truth[some[0]]["Email"] or "")
    assert org.counters()["jobs_created"] == 1


def test_describe_and_limits(sf):
    names = {entry["name"] for entry in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity"} <= names
    contact = sf.Contact.describe()
    assert contact["name"] == "Contact"
    assert {f["name"] for f in contact["fields"]} >= {"Id", "Email", "MailingAddress"}
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert limits["DailyBulkV2QueryJobs"] == {"Max": 10_000, "Remaining": 10_000}
