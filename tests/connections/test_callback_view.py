"""The OAuth callback: the state is checked, a cancellation is calm, success lands on the
connection's page, failures say the cause and the fix."""

from unittest import mock

import pytest
from django.utils import timezone

from connections.models import Connection
from connections.salesforce.exceptions import SalesforceAuthError
from connections.services import ConnectOutcome
from connections.views import PENDING_KEY
from primer_sf.errors import ApplicationError


@pytest.fixture
def started(client, world):
    """Alice has started connecting: a pending authorization sits in her session."""
    client.force_login(world["alice"])
    session = client.session
    session[PENDING_KEY] = {
        "good-state": {
            "state": "good-state",
            "code_verifier": "v" * 64,
            "login_url": "https://login.salesforce.com",
            "environment": "production",
            "workspace_id": world["acme"].pk,
            "connection_id": None,
            "label": "",
            "started_at": timezone.now().isoformat(),
        }
    }
    session.save()
    return client, world


@pytest.fixture
def complete():
    with mock.patch("connections.views.connection_authorize_complete", autospec=True) as patched:
        yield patched


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_a_wrong_state_is_refused_and_nothing_is_exchanged(started, complete):
    client, _ = started
    response = client.get("/connections/oauth/callback/", {"state": "forged", "code": "aPrx"})
    assert response.status_code == 400
    assert "does not match a connection you started here" in response.content.decode()
    complete.assert_not_called()


def test_a_missing_state_is_refused(started, complete):
    client, _ = started
    assert client.get("/connections/oauth/callback/", {"code": "aPrx"}).status_code == 400
    complete.assert_not_called()


def test_a_state_is_used_once(started, complete):
    client, world = started
    complete.return_value = ConnectOutcome(connection=world["acme_connection"], created=True)
    client.get("/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"})
    again = client.get("/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"})
    assert again.status_code == 400
    assert complete.call_count == 1


def test_an_expired_authorization_is_refused(started, complete):
    client, _ = started
    session = client.session
    session[PENDING_KEY]["good-state"]["started_at"] = "2020-01-01T00:00:00+00:00"
    session.save()
    response = client.get("/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"})
    assert response.status_code == 400


def test_access_denied_is_a_calm_cancellation(started, complete):
    client, world = started
    response = client.get(
        "/connections/oauth/callback/",
        {"state": "good-state", "error": "access_denied", "error_description": "end-user denied"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/connections/w/{world['acme'].slug}/"
    assert _messages(response) == ["You cancelled connecting Salesforce. Nothing was changed."]
    assert [m.level_tag for m in response.context["messages"]] == ["info"]
    complete.assert_not_called()
    assert (
        not Connection.objects.filter(workspace=world["acme"])
        .exclude(pk=world["acme_connection"].pk)
        .exists()
    )


def test_success_lands_on_the_connection_page_with_notices(started, complete):
    client, world = started
    connection = world["acme_connection"]
    complete.return_value = ConnectOutcome(
        connection=connection, created=True, notices=["Use a dedicated integration user."]
    )
    response = client.get(
        "/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/connections/{connection.pk}/"
    assert _messages(response) == [
        f"Connected {connection.label} as {connection.sf_username}.",
        "Use a dedicated integration user.",
    ]
    kwargs = complete.call_args.kwargs
    assert kwargs["code"] == "aPrx"
    assert kwargs["pending"]["code_verifier"] == "v" * 64
    assert kwargs["redirect_uri"] == "http://testserver/connections/oauth/callback/"


def test_a_refused_exchange_says_the_cause_and_the_fix(started, complete):
    client, _ = started
    complete.side_effect = SalesforceAuthError("inactive user", reason="inactive_user")
    response = client.get(
        "/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"}, follow=True
    )
    (message,) = _messages(response)
    assert message.startswith("Connecting failed. The Salesforce user")
    assert "reactivate" in message


def test_a_refused_reconnect_to_another_org_is_explained(started, complete):
    client, _ = started
    complete.side_effect = ApplicationError("You signed in to a different Salesforce org.")
    response = client.get(
        "/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"}, follow=True
    )
    assert _messages(response) == ["You signed in to a different Salesforce org."]


def test_a_state_from_another_users_session_does_not_work(started, complete, client, world):
    other = type(client)()
    other.force_login(world["bob"])
    response = other.get("/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"})
    assert response.status_code == 400
    complete.assert_not_called()
