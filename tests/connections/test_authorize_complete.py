"""connection_authorize_complete: a new org gets a row, a known org or a reconnect reuses its
row, the tokens are stored encrypted, the preflight runs and the first sync is queued."""

from unittest import mock

import pytest
from django.db import connection as db

from connections.models import Connection
from connections.salesforce import oauth
from connections.salesforce.exceptions import SalesforceAuthError, SalesforceError
from connections.salesforce.types import TokenSet
from connections.services import connection_authorize_complete
from ingestion.models import SyncRun
from primer_sf.errors import ApplicationError
from tests.connections.conftest import payload

ORG, USER = "00D5g000004ZtQxEAK", "0055g00000BxYzQAAV"
TOKENS = TokenSet(
    access_token="00D5g000004ZtQx!NEW-ACCESS",
    instance_url="https://acme.my.salesforce.com",
    identity_url=f"https://login.salesforce.com/id/{ORG}/{USER}",
    issued_at_ms=1708058728442,
    refresh_token="5Aep861-NEW-REFRESH",
    scope="refresh_token api",
)


@pytest.fixture
def salesforce():
    """The Salesforce side of the service, patched: exchange, identity, revoke, preflight."""
    base = "connections.services.authorization"
    with (
        mock.patch(f"{base}.oauth.token_exchange", autospec=oauth.token_exchange) as exchange,
        mock.patch(f"{base}.oauth.token_revoke", autospec=oauth.token_revoke) as revoke,
        mock.patch(f"{base}.SalesforceClient") as client_class,
        mock.patch(f"{base}.connection_run_preflight", autospec=True) as preflight,
        mock.patch("ingestion.services.runs.sync_run_enqueue", autospec=True) as enqueue,
        mock.patch(f"{base}.authorization_checklist", autospec=True) as new_checks,
    ):
        exchange.return_value = TOKENS
        new_checks.return_value = {"result": "pass", "items": []}
        client_class.return_value.identity.return_value = payload("identity.json")
        yield mock.Mock(
            exchange=exchange,
            revoke=revoke,
            client=client_class.return_value,
            preflight=preflight,
            enqueue=enqueue,
            new_checks=new_checks,
        )


def _pending(workspace, **extra):
    pending = {
        "state": "state-123",
        "code_verifier": "v" * 64,
        "login_url": "https://login.salesforce.com",
        "environment": "production",
        "workspace_id": workspace.pk,
        "connection_id": None,
        "label": "",
    }
    pending.update(extra)
    return pending


def _complete(workspace, **extra):
    return connection_authorize_complete(
        pending=_pending(workspace, **extra), code="aPrx-code", redirect_uri="https://app/cb"
    )


def test_a_new_org_gets_a_row_with_identity_and_encrypted_tokens(workspace, salesforce):
    outcome = _complete(workspace)
    connection = Connection.objects.get(pk=outcome.connection.pk)
    assert outcome.created
    assert (connection.org_id, connection.sf_user_id) == (ORG, USER)
    assert connection.sf_username == "integration@acme.example"
    assert connection.instance_url == "https://acme.my.salesforce.com"
    assert connection.access_token == TOKENS.access_token
    assert connection.refresh_token == TOKENS.refresh_token
    assert connection.status == Connection.Status.ACTIVE
    assert connection.label == "acme.example production"
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT refresh_token FROM connections_connection WHERE id = %s", [connection.pk]
        )
        assert TOKENS.refresh_token not in cursor.fetchone()[0]  # encrypted at rest
    kwargs = salesforce.exchange.call_args.kwargs
    assert (kwargs["code"], kwargs["code_verifier"]) == ("aPrx-code", "v" * 64)
    salesforce.preflight.assert_called_once_with(connection=outcome.connection)
    salesforce.enqueue.assert_called_once_with(
        connection=outcome.connection, kind=SyncRun.Kind.INITIAL, trigger=SyncRun.Trigger.CUSTOMER
    )


def test_an_org_the_workspace_already_has_reuses_its_row(workspace, connection_factory, salesforce):
    existing = connection_factory(
        workspace, org_id=ORG, sf_user_id=USER, status="needs_reauth", refresh_token="5Aep861-OLD"
    )
    outcome = _complete(workspace)
    assert outcome.connection.pk == existing.pk
    assert not outcome.created
    assert Connection.objects.filter(workspace=workspace).count() == 1
    existing.refresh_from_db()
    assert existing.status == "active"
    assert existing.refresh_token == TOKENS.refresh_token
    salesforce.revoke.assert_called_once_with(
        login_url="https://login.salesforce.com",
        token="5Aep861-OLD",
        timeout=mock.ANY,
        gate=mock.ANY,
    )


def test_reconnecting_keeps_the_row_and_syncs_incrementally_once_loaded(
    workspace, connection_factory, salesforce
):
    from django.utils import timezone

    existing = connection_factory(
        workspace, org_id=ORG, sf_user_id=USER, initial_sync_completed_at=timezone.now()
    )
    outcome = _complete(workspace, connection_id=existing.pk)
    assert outcome.connection.pk == existing.pk
    assert salesforce.enqueue.call_args.kwargs["kind"] == SyncRun.Kind.INCREMENTAL


def test_reconnecting_to_another_org_is_refused_and_the_new_grant_revoked(
    workspace, connection_factory, salesforce
):
    existing = connection_factory(workspace, org_id="00D5g000009OtHeRAB")
    with pytest.raises(ApplicationError, match="different Salesforce org"):
        _complete(workspace, connection_id=existing.pk)
    existing.refresh_from_db()
    assert existing.org_id == "00D5g000009OtHeRAB"
    salesforce.revoke.assert_called_once_with(
        login_url="https://login.salesforce.com",
        token=TOKENS.refresh_token,
        timeout=mock.ANY,
        gate=mock.ANY,
    )
    salesforce.enqueue.assert_not_called()


def test_a_refused_exchange_during_reconnect_leaves_the_working_row_untouched(
    workspace, connection_factory, salesforce
):
    existing = connection_factory(workspace, org_id=ORG)
    salesforce.exchange.side_effect = SalesforceAuthError("inactive user", reason="inactive_user")
    with pytest.raises(SalesforceAuthError):
        _complete(workspace, connection_id=existing.pk)
    existing.refresh_from_db()
    assert (existing.status, existing.status_reason) == ("active", "")


def test_an_unreadable_identity_still_stores_the_ids_from_its_url(workspace, salesforce):
    salesforce.client.identity.side_effect = SalesforceError("Bad_OAuth_Token", status=403)
    connection = _complete(workspace).connection
    assert (connection.org_id, connection.sf_user_id, connection.sf_username) == (ORG, USER, "")


def test_a_connection_the_preflight_stopped_is_not_synced(workspace, salesforce):
    def stop(connection):
        connection.status = Connection.Status.ERROR

    salesforce.preflight.side_effect = stop
    outcome = _complete(workspace)
    salesforce.enqueue.assert_not_called()
    assert outcome.notices == ["Syncing starts once the failed checks below are fixed."]


def test_a_refused_enqueue_becomes_a_notice(workspace, salesforce):
    salesforce.enqueue.side_effect = ApplicationError("Acme already has a sync queued or running.")
    assert _complete(workspace).notices == ["Acme already has a sync queued or running."]


def test_a_sixth_connection_of_one_user_warns_about_the_revoked_oldest(
    workspace_factory, connection_factory, workspace, salesforce
):
    for _ in range(5):
        connection_factory(workspace_factory(), sf_username="integration@acme.example")
    notices = _complete(workspace).notices
    assert len(notices) == 1
    assert "revoked the oldest" in notices[0]


@pytest.mark.django_db(transaction=True)
def test_the_first_sync_is_queued_after_the_row_is_committed(workspace, salesforce):
    seen = []
    salesforce.enqueue.side_effect = lambda **kwargs: seen.append(
        (db.in_atomic_block, Connection.objects.filter(pk=kwargs["connection"].pk).exists())
    )
    _complete(workspace)
    assert seen == [(False, True)]
