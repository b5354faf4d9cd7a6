"""The preflight checklist, and what it does to the connection's status."""

import pytest

from connections.models import Connection
from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforcePermissionError,
    SalesforceQueryError,
    SalesforceUnavailable,
)
from connections.services import connection_run_preflight
from tests.connections.fakes import FakeClient


@pytest.fixture
def fake(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(
        "connections.services.preflight.salesforce_client_for", lambda connection: client
    )
    return client


def _items(checklist):
    return {item["key"]: item for item in checklist["items"]}


def test_a_healthy_user_passes_everything_but_the_text_areas(connection, fake):
    checklist = connection_run_preflight(connection=connection)
    items = _items(checklist)
    assert checklist["result"] == "warn"
    assert [k for k, i in items.items() if i["status"] != "pass"] == ["text_areas"]
    assert "Account.Notes__c" in items["text_areas"]["detail"]
    assert items["text_areas"]["fix"]
    assert set(items) >= {
        "session_security",
        "api_enabled",
        "view_setup",
        "object:Lead",
        "object:CampaignMember",
        "bulk_api",
    }
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE
    assert connection.preflight == checklist
    assert connection.preflight_checked_at is not None
    assert (connection.org_api_used, connection.org_api_max) == (47, 15000)


def test_without_api_enabled_the_connection_stops_with_the_fix(connection, fake):
    fake.fail["user_permissions"] = SalesforcePermissionError(
        "API is disabled for this User", reason="api_disabled", status=403
    )
    checklist = connection_run_preflight(connection=connection)
    items = _items(checklist)
    assert items["api_enabled"]["status"] == "fail"
    assert items["view_setup"]["status"] == "skip"
    assert fake.calls == ["user_permissions"]
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("error", "api_disabled")
    assert "API Enabled" in connection.status_fix


def test_without_view_setup_the_connection_stops(connection, fake):
    fake.permissions["PermissionsViewSetup"] = False
    items = _items(connection_run_preflight(connection=connection))
    assert items["view_setup"]["status"] == "fail"
    assert items["object:Lead"]["status"] == "pass"  # the other checks still ran
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("error", "missing_permission")
    assert "View Setup and Configuration" in connection.status_message


def test_no_campaign_access_is_a_warning_and_syncing_continues(connection, fake):
    fake.unreadable = {"Campaign", "CampaignMember"}
    items = _items(connection_run_preflight(connection=connection))
    assert items["object:Campaign"]["status"] == "warn"
    assert items["object:CampaignMember"]["status"] == "warn"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE


def test_an_unreadable_required_object_stops_syncing(connection, fake):
    fake.unreadable = {"Lead"}
    items = _items(connection_run_preflight(connection=connection))
    assert items["object:Lead"]["status"] == "fail"
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("error", "objects_unreadable")
    assert "Lead" in connection.status_message


def test_a_high_assurance_requirement_needs_reauth(connection, fake):
    fake.fail["user_permissions"] = SalesforceAuthError(
        "This session is not valid for use with the REST API", reason="high_assurance"
    )
    checklist = connection_run_preflight(connection=connection)
    assert checklist["items"][0]["key"] == "session_security"
    assert checklist["items"][0]["status"] == "fail"
    assert "High Assurance" in checklist["items"][0]["fix"]
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("needs_reauth", "high_assurance")


def test_a_passing_run_clears_an_earlier_permission_failure(connection, fake):
    Connection.objects.filter(pk=connection.pk).update(status="error", status_reason="api_disabled")
    connection.refresh_from_db()
    connection_run_preflight(connection=connection)
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason, connection.status_fix) == (
        "active",
        "",
        "",
    )


def test_a_passing_run_does_not_clear_needs_reauth_or_a_pause(connection_factory, fake):
    for status in ("needs_reauth", "paused"):
        connection = connection_factory(status=status)
        connection_run_preflight(connection=connection)
        connection.refresh_from_db()
        assert connection.status == status


def test_an_unreachable_org_is_a_warning_and_leaves_the_status(connection, fake):
    fake.fail["describe_global"] = SalesforceUnavailable("Server Unavailable", status=503)
    checklist = connection_run_preflight(connection=connection)
    assert checklist["result"] == "warn"
    assert checklist["items"][0]["key"] == "reachable"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE


def test_a_connection_without_tokens_says_so(connection_factory):
    connection = connection_factory(access_token="", refresh_token="")
    checklist = connection_run_preflight(connection=connection)
    assert checklist["items"][0]["status"] == "warn"
    assert "reconnect" in checklist["items"][0]["detail"].lower()


def test_a_refused_limits_call_is_a_warning_not_a_lost_checklist(connection, fake):
    fake.fail["limits"] = SalesforcePermissionError(
        "Insufficient privileges", reason="insufficient_access", status=403
    )
    items = _items(connection_run_preflight(connection=connection))
    assert items["bulk_api"]["status"] == "warn"
    assert "refused" in items["bulk_api"]["detail"]
    assert items["object:Lead"]["status"] == "pass"
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE


def test_unreadable_permissions_are_warnings_and_the_rest_is_checked(connection, fake):
    fake.fail["user_permissions"] = SalesforceQueryError(
        "sObject type 'UserPermissionAccess' is not supported.", error_code="INVALID_TYPE"
    )
    items = _items(connection_run_preflight(connection=connection))
    assert items["api_enabled"]["status"] == items["view_setup"]["status"] == "warn"
    assert items["object:Lead"]["status"] == "pass"
