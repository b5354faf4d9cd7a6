"""Fields that field-level security hides from the connected user are named, with the fix:
in the checklist, on the connection page and in the admin."""

import pytest

from connections.models import Connection
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


def _item(checklist, key):
    return next(item for item in checklist["items"] if item["key"] == key)


def test_hidden_fields_are_a_warning_that_names_them_and_the_fix(connection, fake):
    fake.hidden = {"Contact": {"Birthdate": "Birthdate", "Lead_Score__c": "Lead Score"}}

    item = _item(connection_run_preflight(connection=connection), "field_visibility")

    assert item["status"] == "warn"
    assert "hides 2 fields" in item["detail"]
    assert "Contact: Birthdate, Lead Score" in item["detail"]
    assert "Field Permissions" in item["fix"]
    stored = Connection.objects.get(pk=connection.pk).field_visibility
    assert [f["name"] for f in stored["objects"]["Contact"]] == ["Birthdate", "Lead_Score__c"]
    assert connection.status == Connection.Status.ACTIVE  # a warning: syncing goes on


def test_nothing_hidden_passes(connection, fake):
    item = _item(connection_run_preflight(connection=connection), "field_visibility")
    assert item["status"] == "pass"
    assert Connection.objects.get(pk=connection.pk).field_visibility["objects"] == {}


def test_the_page_and_the_admin_list_the_hidden_fields(connection, fake, client, staff_user):
    fake.hidden = {"Account": {"Margin__c": "Margin"}}
    connection_run_preflight(connection=connection)

    client.force_login(connection.workspace.memberships.get().user)
    page = client.get(f"/connections/{connection.pk}/").content.decode()
    card = page[page.index('id="field-visibility"') :].split('id="settings"')[0]
    assert "Salesforce hides 1 field from" in card
    assert "Margin <code" in card
    assert "Field Permissions" in card

    client.force_login(staff_user)
    admin = client.get(f"/admin/connections/connection/{connection.pk}/change/")
    html = admin.content.decode()
    assert "Margin (Margin__c)" in html
    assert 'name="field_visibility"' not in html  # shown, never editable


def test_a_refused_metadata_query_is_a_warning_not_a_lost_checklist(connection, fake):
    from connections.salesforce.exceptions import SalesforceQueryError

    fake.fail["field_definitions"] = SalesforceQueryError(
        "insufficient access", error_code="INSUFFICIENT_ACCESS", status=400
    )
    checklist = connection_run_preflight(connection=connection)
    assert _item(checklist, "field_visibility")["status"] == "warn"
    assert _item(checklist, "object:Contact")["status"] == "pass"
