"""Every response's Sforce-Limit-Info reaches the recorder; the budget check runs before the
request is sent and can stop it."""

from datetime import UTC, datetime

import pytest

from connections.salesforce.exceptions import SalesforceBudgetExceeded, SalesforceNotFound
from connections.salesforce.types import ApiUsage, CallRecord
from tests.connections.conftest import API, INSTANCE, LIMIT_INFO, error, payload


def test_the_limit_header_is_recorded_for_every_call(sf, make_client):
    sf.get(f"{API}/limits", json=payload("limits.json"), headers=LIMIT_INFO)
    sf.get(
        f"{API}/sobjects",
        **error("not_found"),
        headers={"Sforce-Limit-Info": "api-usage=4521/15000; api-bursts=1/750"},
    )
    records: list[CallRecord] = []
    client = make_client(recorder=records.append)

    client.limits()
    with pytest.raises(SalesforceNotFound):
        client.describe_global()

    assert records == [
        CallRecord(
            "limits", "GET", "/services/data/v62.0/limits", 200, ApiUsage(4520, 15000), True
        ),
        CallRecord(
            "describe_global",
            "GET",
            "/services/data/v62.0/sobjects",
            404,
            ApiUsage(4521, 15000),
            True,
        ),
    ]


def test_the_versions_call_does_not_count_against_the_limit(sf, make_client):
    sf.get(f"{INSTANCE}/services/data/", json=payload("versions.json"))
    records, checks = [], []
    client = make_client(recorder=records.append, budget_check=checks.append)

    assert client.versions()[-1]["version"] == "62.0"
    assert records[0].counts_against_limit is False
    assert records[0].usage is None
    assert checks == []


def test_the_budget_check_gets_the_kind_of_each_counted_call(sf, make_client):
    sf.get(f"{API}/query", json=payload("count.json"))
    sf.get(f"{API}/sobjects/Account/describe", json=payload("describe_account.json"))
    checks = []
    client = make_client(budget_check=checks.append)
    client.count("SELECT COUNT() FROM Contact")
    client.describe("Account")
    assert checks == ["count", "describe"]


def test_a_refused_budget_sends_nothing(sf, make_client):
    resume = datetime(2030, 1, 1, tzinfo=UTC)

    def refuse(kind):
        raise SalesforceBudgetExceeded("over budget", resume_at=resume, error_code="API_BUDGET")

    client = make_client(budget_check=refuse)
    with pytest.raises(SalesforceBudgetExceeded) as caught:
        client.limits()
    assert caught.value.resume_at == resume
    assert len(sf.calls) == 0
