"""Helpers for the Salesforce client tests: canned payloads and a client pointed at a fake org."""

import json
from pathlib import Path

import pytest
import responses

from connections.salesforce.client import SalesforceClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "salesforce"
INSTANCE = "https://acme.my.salesforce.com"
API = f"{INSTANCE}/services/data/v62.0"
LOGIN = "https://login.salesforce.com"
ACCESS_TOKEN = "00D5g000004ZtQx!AQ8AQOldAccessTokenThatMustNeverLeak"
LIMIT_INFO = {"Sforce-Limit-Info": "api-usage=4520/15000"}


def payload(name: str):
    """A canned Salesforce response body from tests/fixtures/salesforce/."""
    path = FIXTURES / name
    return json.loads(path.read_text()) if path.suffix == ".json" else path.read_text()


def error(name: str) -> dict:
    """``responses.add`` keyword arguments for a canned error (status and JSON body)."""
    entry = payload("errors.json")[name]
    return {"status": entry["status"], "json": entry["body"]}


@pytest.fixture
def sf():
    """A ``responses`` mock that fails the test if any registered call was not made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def make_client():
    """Build a client for the fake org, with retry waits switched off."""

    def make(**overrides) -> SalesforceClient:
        options = {
            "instance_url": INSTANCE,
            "access_token": ACCESS_TOKEN,
            "api_version": "62.0",
            "timeout": 5.0,
            "retry_max_wait": 0,
            "allowed_hosts": (".salesforce.com",),
        }
        options.update(overrides)
        return SalesforceClient(**options)

    return make
