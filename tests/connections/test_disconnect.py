"""connection_disconnect: revoked at Salesforce, tokens forgotten, data kept unless asked."""

from unittest import mock

import pytest
from django.utils import timezone

from connections.models import Connection
from connections.salesforce import oauth
from connections.salesforce.exceptions import SalesforceUnavailable
from connections.services import connection_disconnect
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun


@pytest.fixture
def revoke():
    with mock.patch(
        "connections.services.authorization.oauth.token_revoke", autospec=oauth.token_revoke
    ) as patched:
        patched.return_value = True
        yield patched


@pytest.fixture
def loaded(connection, sync_run_factory):
    now = timezone.now()
    ObjectCursor.objects.create(connection=connection, sobject="Contact", watermark=now)
    IngestedRecord.objects.create(
        connection=connection,
        sobject="Contact",
        sf_id="0035g00000AbCdEAAZ",
        data={"Id": "0035g00000AbCdEAAZ"},
        system_modstamp=now,
        first_seen_at=now,
        last_seen_at=now,
    )
    sync_run_factory(connection, status=SyncRun.Status.QUEUED)
    return connection


def test_it_revokes_forgets_the_tokens_and_keeps_the_data(loaded, revoke):
    refresh = loaded.refresh_token
    connection_disconnect(connection=loaded, delete_data=False)
    revoke.assert_called_once_with(
        login_url=loaded.login_host, token=refresh, timeout=mock.ANY, gate=mock.ANY
    )
    stored = Connection.objects.get(pk=loaded.pk)
    assert (stored.status, stored.access_token, stored.refresh_token) == ("disconnected", "", "")
    assert "revoked" in stored.status_message
    assert IngestedRecord.objects.filter(connection=loaded).count() == 1
    assert ObjectCursor.objects.filter(connection=loaded).count() == 1
    run = SyncRun.objects.get(connection=loaded)
    assert (run.status, run.error_code) == ("cancelled", "connection_disconnected")


def test_asked_to_it_deletes_the_ingested_data(loaded, revoke, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        connection_disconnect(connection=loaded, delete_data=True)
    assert not IngestedRecord.objects.filter(connection=loaded).exists()
    assert not ObjectCursor.objects.filter(connection=loaded).exists()
    assert Connection.objects.get(pk=loaded.pk).status == "disconnected"


def test_it_disconnects_even_when_salesforce_cannot_be_reached(loaded, revoke):
    revoke.side_effect = SalesforceUnavailable("down")
    connection_disconnect(connection=loaded, delete_data=False)
    stored = Connection.objects.get(pk=loaded.pk)
    assert stored.status == "disconnected"
    assert stored.refresh_token == ""
