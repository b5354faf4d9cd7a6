"""The permission checklist tells a customer why it could not check, in words, never a code."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.salesforce.exceptions import SalesforceBudgetExceeded, SalesforceRateLimited
from connections.services import connection_run_preflight
from tests.connections.fakes import FakeClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(
        "connections.services.preflight.salesforce_client_for", lambda connection: client
    )
    return client


def test_the_org_ceiling_is_explained_with_the_fix(connection, fake, client):
    fake.fail["describe_global"] = SalesforceBudgetExceeded(
        "The org has used 85,000 of its 100,000 daily API calls, at or past the 80% ceiling.",
        resume_at=timezone.now() + timedelta(minutes=5),
        error_code="ORG_USAGE_CEILING",
    )
    item = connection_run_preflight(connection=connection)["items"][0]
    assert "ORG_USAGE_CEILING" not in item["detail"]
    assert "past the ceiling you set for primer" in item["detail"]
    assert "raise the ceiling in Settings" in item["fix"]

    client.force_login(connection.workspace.memberships.get().user)
    html = client.get(f"/connections/{connection.pk}/").content.decode()
    assert "ORG_USAGE_CEILING" not in html


def test_salesforces_daily_limit_is_explained(connection, fake):
    fake.fail["describe_global"] = SalesforceRateLimited(
        "TotalRequests Limit exceeded.", error_code="REQUEST_LIMIT_EXCEEDED", status=403
    )
    item = connection_run_preflight(connection=connection)["items"][0]
    assert "REQUEST_LIMIT_EXCEEDED" not in item["detail"]
    assert "daily allocation is spent" in item["detail"]
