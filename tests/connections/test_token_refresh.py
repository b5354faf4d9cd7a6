"""connection_refresh_tokens: saved under a row lock, a rotated refresh token kept, a refused
refresh turning the connection needs_reauth."""

from unittest import mock

import pytest

from connections.models import Connection
from connections.salesforce import oauth
from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceInstanceNotAllowed,
    SalesforceUnavailable,
)
from connections.salesforce.types import TokenSet
from connections.services import connection_refresh_tokens

IDENTITY = "https://login.salesforce.com/id/00D5g000004ZtQxEAK/0055g00000BxYzQAAV"


def _tokens(access: str, refresh: str | None = None) -> TokenSet:
    return TokenSet(
        access_token=access,
        instance_url="https://acme.my.salesforce.com",
        identity_url=IDENTITY,
        issued_at_ms=1708062328442,
        refresh_token=refresh,
        scope="refresh_token api",
    )


@pytest.fixture
def token_refresh():
    with mock.patch(
        "connections.services.clients.oauth.token_refresh", autospec=oauth.token_refresh
    ) as patched:
        yield patched


def test_it_saves_the_new_access_token_and_keeps_the_refresh_token(connection, token_refresh):
    old_refresh = connection.refresh_token
    token_refresh.return_value = _tokens("00D!NEW-ACCESS")

    assert connection_refresh_tokens(connection=connection) == "00D!NEW-ACCESS"

    kwargs = token_refresh.call_args.kwargs
    assert kwargs["refresh_token"] == old_refresh
    assert kwargs["login_url"] == connection.login_host
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.access_token == "00D!NEW-ACCESS"
    assert stored.refresh_token == old_refresh
    assert stored.token_issued_at.year == 2024
    assert connection.access_token == "00D!NEW-ACCESS"


def test_a_rotated_refresh_token_is_saved_with_the_access_token(connection, token_refresh):
    token_refresh.return_value = _tokens("00D!NEW-ACCESS", refresh="5Aep861-ROTATED")
    connection_refresh_tokens(connection=connection)
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.access_token, stored.refresh_token) == ("00D!NEW-ACCESS", "5Aep861-ROTATED")
    assert connection.refresh_token == "5Aep861-ROTATED"


def test_a_token_another_worker_refreshed_is_used_without_refreshing(connection, token_refresh):
    other = Connection.objects.get(pk=connection.pk)
    other.access_token = "00D!REFRESHED-ELSEWHERE"
    other.save()

    assert connection_refresh_tokens(connection=connection) == "00D!REFRESHED-ELSEWHERE"
    token_refresh.assert_not_called()


def test_a_refused_refresh_marks_the_connection_needs_reauth(connection, token_refresh):
    token_refresh.side_effect = SalesforceAuthError(
        "expired access/refresh token", reason="token_revoked", status=400
    )
    with pytest.raises(SalesforceAuthError):
        connection_refresh_tokens(connection=connection)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert connection.status_reason == "token_revoked"
    assert "sixth" in connection.status_message
    assert connection.status_fix.startswith("Reconnect")


def test_an_inactive_user_is_named_in_the_cause(connection, token_refresh):
    token_refresh.side_effect = SalesforceAuthError("inactive user", reason="inactive_user")
    with pytest.raises(SalesforceAuthError):
        connection_refresh_tokens(connection=connection)
    connection.refresh_from_db()
    assert connection.status_reason == "inactive_user"
    assert connection.sf_username in connection.status_message


def test_an_outage_during_refresh_changes_nothing(connection, token_refresh):
    token_refresh.side_effect = SalesforceUnavailable("Server Unavailable", status=503)
    with pytest.raises(SalesforceUnavailable):
        connection_refresh_tokens(connection=connection)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE


def test_without_a_refresh_token_the_connection_needs_reauth(connection_factory, token_refresh):
    connection = connection_factory(refresh_token="")
    with pytest.raises(SalesforceAuthError):
        connection_refresh_tokens(connection=connection)
    token_refresh.assert_not_called()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH


def test_a_login_host_nobody_trusts_never_gets_the_refresh_token(connection_factory, token_refresh):
    connection = connection_factory(login_host="https://login.evil.example")
    with pytest.raises(SalesforceInstanceNotAllowed):
        connection_refresh_tokens(connection=connection)
    token_refresh.assert_not_called()


@pytest.mark.parametrize(
    "login_host",
    [
        "https://login.salesforce.com",
        "https://test.salesforce.com",
        "https://acme.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
    ],
)
def test_trusted_login_hosts_are_used(connection_factory, token_refresh, login_host):
    token_refresh.return_value = _tokens("00D!NEW")
    connection_refresh_tokens(connection=connection_factory(login_host=login_host))
    assert token_refresh.call_args.kwargs["login_url"] == login_host
