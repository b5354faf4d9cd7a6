"""Fixtures for engine tests: a fake org behind the client contract, wired into the engine."""

import pytest

from ingestion.engine.config import EngineConfig
from tests.ingestion.fake_salesforce import FakeClient, FakeOrg, field_def

ADDRESS = [
    field_def("BillingAddress", "address"),
    *[
        field_def(f"Billing{part}", kind, compoundFieldName="BillingAddress")
        for part, kind in [
            ("Street", "textarea"),
            ("City", "string"),
            ("State", "string"),
            ("PostalCode", "string"),
            ("Country", "string"),
            ("Latitude", "double"),
            ("Longitude", "double"),
            ("GeocodeAccuracy", "picklist"),
        ]
    ],
]


@pytest.fixture
def fake_org():
    org = FakeOrg()
    org.add_object(
        "Account",
        [
            *ADDRESS,
            field_def("Industry", "picklist"),
            field_def("AnnualRevenue", "currency"),
            field_def("NumberOfEmployees", "int"),
            field_def("CreatedDate", "datetime"),
        ],
    )
    org.add_object(
        "Contact",
        [
            field_def("Email", "email"),
            field_def("AccountId", "reference"),
            field_def("Birthdate", "date"),
            field_def("Interests__c", "multipicklist"),
            field_def("DoNotCall", "boolean"),
        ],
    )
    return org


@pytest.fixture
def engine_config():
    return EngineConfig(poll_initial_seconds=0, poll_max_seconds=0, heartbeat_seconds=0)


@pytest.fixture
def fake_client_for(monkeypatch, fake_org):
    """Route the engine's client factory to the fake org; returns the clients it built."""
    built = []

    def factory(connection, *, recorder=None, on_call=None):
        client = FakeClient(fake_org, recorder, on_call)
        built.append(client)
        return client

    monkeypatch.setattr("ingestion.services.sync.salesforce_client_for", factory)
    return built


@pytest.fixture
def sync_connection(connection_factory, fake_client_for):
    return connection_factory(enabled_objects=["Account", "Contact"])
