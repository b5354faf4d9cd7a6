"""The whole connect flow against the emulator: production and sandbox, PKCE and state checked,
a wrong state refused, access denied a calm cancellation."""

import pytest

from connections.models import Connection
from ingestion.models import SyncRun
from tests.connections.emulated import (
    CALLBACK,
    consent,
    local_path,
    messages_of,
    query_of,
    start_connect,
    start_emulator,
)


@pytest.fixture
def alice(client, world):
    client.force_login(world["alice"])
    return client, world["acme"]


def test_connecting_production_stores_the_org_and_starts_the_initial_sync(alice, emulated, enqueue):
    client, workspace = alice
    authorize = start_connect(client, workspace)
    assert authorize.startswith(f"{emulated.url}/services/oauth2/authorize?")
    back = consent(authorize, "integration@example.com")
    assert query_of(back)["state"] == query_of(authorize)["state"]

    response = client.get(local_path(back), follow=True)

    connection = Connection.objects.get(workspace=workspace, org_id=emulated.org.org_id)
    assert response.redirect_chain[-1][0] == f"/connections/{connection.pk}/"
    assert messages_of(response)[0] == (f"Connected {connection.label} as integration@example.com.")
    assert connection.status == Connection.Status.ACTIVE
    assert connection.environment == "production"
    assert connection.sf_username == "integration@example.com"
    assert connection.sf_user_id == emulated.org.user_id("integration@example.com")
    assert connection.instance_url == emulated.url
    assert connection.login_host == emulated.url
    assert connection.access_token.startswith(emulated.org.org_id[:15] + "!")
    assert connection.refresh_token.startswith("5Aep861")
    assert connection.preflight["items"][0]["key"] == "session_security"
    assert {i["status"] for i in connection.preflight["items"]} <= {"pass", "warn"}
    assert connection.org_api_max == 100_000
    enqueue.assert_called_once_with(
        connection=connection, kind=SyncRun.Kind.INITIAL, trigger=SyncRun.Trigger.CUSTOMER
    )
    assert emulated.grants("authorization_code") == 1
    html = response.content.decode()
    assert "integration@example.com" in html
    assert "Permission checks" in html


def test_connecting_a_sandbox_signs_in_at_the_sandbox_host(alice, settings, enqueue):
    client, workspace = alice
    sandbox = start_emulator(settings, sandbox=True, redirect_uris=(CALLBACK,))
    settings.SALESFORCE_LOGIN_URL = "https://login.salesforce.com"  # production is elsewhere
    try:
        authorize = start_connect(client, workspace, environment="sandbox")
        assert authorize.startswith(f"{sandbox.url}/services/oauth2/authorize?")
        back = consent(authorize, "integration@example.com")
        client.get(local_path(back), follow=True)
    finally:
        sandbox.server.stop()
    connection = Connection.objects.get(workspace=workspace, org_id=sandbox.org.org_id)
    assert connection.environment == "sandbox"
    assert connection.login_host == sandbox.url
    assert connection.status == Connection.Status.ACTIVE


def test_the_pkce_verifier_is_checked_by_salesforce(alice, emulated, enqueue):
    client, workspace = alice
    authorize = start_connect(client, workspace)
    back = consent(authorize, "integration@example.com")
    session = client.session
    session["salesforce_oauth"][query_of(authorize)["state"]]["code_verifier"] = "x" * 64
    session.save()

    response = client.get(local_path(back), follow=True)

    assert messages_of(response)[0].startswith("Connecting failed.")
    assert not Connection.objects.filter(org_id=emulated.org.org_id).exists()
    enqueue.assert_not_called()


def test_a_wrong_state_is_refused_before_the_code_is_used(alice, emulated, enqueue):
    client, workspace = alice
    back = consent(start_connect(client, workspace), "integration@example.com")
    forged = local_path(back).replace("state=", "state=forged")

    response = client.get(forged)

    assert response.status_code == 400
    assert emulated.grants("authorization_code") == 0
    assert not Connection.objects.filter(org_id=emulated.org.org_id).exists()


def test_denying_access_is_a_calm_cancellation(alice, emulated, enqueue):
    client, workspace = alice
    back = consent(start_connect(client, workspace), "integration@example.com", action="deny")
    assert query_of(back)["error"] == "access_denied"

    response = client.get(local_path(back), follow=True)

    assert response.redirect_chain[-1][0] == f"/connections/w/{workspace.slug}/"
    assert messages_of(response) == ["You cancelled connecting Salesforce. Nothing was changed."]
    assert not Connection.objects.filter(org_id=emulated.org.org_id).exists()
