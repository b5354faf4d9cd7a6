"""Tokens over time: an expired session refreshed transparently; the sixth approval revoking
the first connection's access, which then turns needs_reauth; disconnect revoking at
Salesforce."""

import pytest

from connections.models import Connection
from connections.salesforce.exceptions import SalesforceAuthError
from connections.services import connection_disconnect, salesforce_client_for
from tests.connections.emulated import connect


@pytest.fixture
def connected(client, world, emulated, enqueue):
    client.force_login(world["alice"])
    connect(client, world["acme"], "integration@example.com")
    return Connection.objects.get(org_id=emulated.org.org_id)


def test_a_token_expiring_mid_use_is_refreshed_transparently(connected, emulated):
    client = salesforce_client_for(connected)
    assert client.count("SELECT COUNT() FROM Contact") > 0
    old_access = connected.access_token

    emulated.org.clock.advance(7_300)  # past the 2-hour session timeout
    assert client.count("SELECT COUNT() FROM Lead") > 0

    assert emulated.grants("refresh_token") == 1
    stored = Connection.objects.get(pk=connected.pk)
    assert stored.access_token != old_access
    assert stored.access_token == connected.access_token
    assert stored.status == "active"


def test_every_tool_holding_a_stale_token_is_refreshed_once(connected, emulated):
    first, second = (
        salesforce_client_for(connected),
        salesforce_client_for(Connection.objects.get(pk=connected.pk)),
    )
    emulated.org.faults.set("expire_tokens")
    first.limits()
    second.limits()  # finds the token the first one saved, without a second refresh
    assert emulated.grants("refresh_token") == 1


def test_the_sixth_approval_revokes_the_first_connection(connected, emulated, world):
    # Five more approvals of the same user for our app (other tools, other workspaces).
    for _ in range(5):
        emulated.org.issue_tokens("integration@example.com")

    client = salesforce_client_for(connected)
    with pytest.raises(SalesforceAuthError) as caught:
        client.limits()

    assert caught.value.reason == "token_revoked"
    stored = Connection.objects.get(pk=connected.pk)
    assert (stored.status, stored.status_reason) == ("needs_reauth", "token_revoked")
    assert "sixth" in stored.status_message
    assert "dedicated integration user" in stored.status_fix


def test_an_inactive_user_turns_the_connection_needs_reauth(connected, emulated):
    emulated.org.set_user_active("integration@example.com", False)
    with pytest.raises(SalesforceAuthError):
        salesforce_client_for(connected).limits()
    stored = Connection.objects.get(pk=connected.pk)
    assert (stored.status, stored.status_reason) == ("needs_reauth", "inactive_user")
    assert "integration@example.com" in stored.status_message


def test_disconnect_revokes_the_grant_at_salesforce(connected, emulated):
    refresh = connected.refresh_token
    connection_disconnect(connection=connected, delete_data=False)
    assert emulated.org.auth.state.refresh[refresh].revoked
