"""Each emulated problem user ends in the right status and checklist."""

import pytest

from connections.models import Connection
from tests.connections.emulated import connect, messages_of


@pytest.fixture
def alice(client, world):
    client.force_login(world["alice"])
    return client, world["acme"]


def _connected(alice, emulated, username):
    client, workspace = alice
    response = connect(client, workspace, username)
    connection = Connection.objects.filter(org_id=emulated.org.org_id).first()
    items = {i["key"]: i["status"] for i in (connection.preflight["items"] if connection else [])}
    return response, connection, items


def test_a_healthy_user_is_active_and_synced(alice, emulated, enqueue):
    _, connection, items = _connected(alice, emulated, "integration@example.com")
    assert connection.status == "active"
    assert items["api_enabled"] == items["view_setup"] == items["session_security"] == "pass"
    assert all(items[f"object:{o}"] == "pass" for o in ("Lead", "Contact", "Campaign"))
    enqueue.assert_called_once()


def test_a_user_without_api_enabled_stops_with_the_fix(alice, emulated, enqueue):
    response, connection, items = _connected(alice, emulated, "noapi@example.com")
    assert (connection.status, connection.status_reason) == ("error", "api_disabled")
    assert items["api_enabled"] == "fail"
    assert items["view_setup"] == "skip"
    assert "API Enabled" in connection.status_fix
    assert "Syncing starts once the failed checks below are fixed." in messages_of(response)
    enqueue.assert_not_called()
    assert "API Enabled" in response.content.decode()


def test_a_user_without_view_setup_stops_with_the_fix(alice, emulated, enqueue):
    _, connection, items = _connected(alice, emulated, "nosetup@example.com")
    assert (connection.status, connection.status_reason) == ("error", "missing_permission")
    assert items["view_setup"] == "fail"
    assert items["bulk_api"] == "warn"  # /limits needs View Setup
    enqueue.assert_not_called()


def test_a_user_who_cannot_read_campaigns_syncs_with_a_warning(alice, emulated, enqueue):
    _, connection, items = _connected(alice, emulated, "nocampaign@example.com")
    assert connection.status == "active"
    assert items["object:Campaign"] == "warn"
    assert items["object:Lead"] == "pass"
    enqueue.assert_called_once()


def test_a_user_with_hidden_fields_is_active(alice, emulated, enqueue):
    _, connection, items = _connected(alice, emulated, "fls@example.com")
    assert connection.status == "active"
    assert "fail" not in items.values()


def test_a_high_assurance_user_needs_reauth_without_a_refresh_loop(alice, emulated, enqueue):
    _, connection, items = _connected(alice, emulated, "highassurance@example.com")
    assert (connection.status, connection.status_reason) == ("needs_reauth", "high_assurance")
    assert items == {"session_security": "fail"}
    assert "High Assurance" in connection.status_fix
    assert emulated.grants("refresh_token") == 0
    enqueue.assert_not_called()


def test_an_inactive_user_cannot_connect_and_is_told_why(alice, emulated, enqueue):
    response, connection, _ = _connected(alice, emulated, "inactive@example.com")
    assert connection is None
    (message,) = messages_of(response)
    assert message.startswith("Connecting failed.")
    assert "inactive" in message
    assert "reactivate" in message
