"""Sync now, check again and disconnect from the settings page."""

from unittest import mock

import pytest

from connections.models import Connection
from ingestion.models import SyncRun
from primer_sf.errors import ApplicationError


@pytest.fixture
def member(client, world):
    client.force_login(world["alice"])
    return client, world["acme_connection"]


@pytest.fixture
def enqueue():
    with mock.patch("ingestion.services.runs.sync_run_enqueue", autospec=True) as patched:
        yield patched


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_sync_now_queues_an_incremental_sync_for_the_customer(member, enqueue):
    client, connection = member
    enqueue.return_value = SyncRun(connection=connection, kind="incremental", trigger="customer")
    response = client.post(f"/connections/{connection.pk}/sync/", follow=True)
    enqueue.assert_called_once_with(
        connection=connection, kind=SyncRun.Kind.INCREMENTAL, trigger=SyncRun.Trigger.CUSTOMER
    )
    assert _messages(response) == ["Sync queued: it starts within a minute."]


def test_a_refused_sync_shows_why(member, enqueue):
    client, connection = member
    enqueue.side_effect = ApplicationError("Acme production already has a sync queued or running.")
    response = client.post(f"/connections/{connection.pk}/sync/", follow=True)
    assert _messages(response) == ["Acme production already has a sync queued or running."]


def test_sync_now_is_post_only(member):
    client, connection = member
    assert client.get(f"/connections/{connection.pk}/sync/").status_code == 405


def test_check_again_runs_the_preflight(member):
    client, connection = member
    with mock.patch(
        "connections.views.connection_run_preflight",
        autospec=True,
        return_value={"result": "pass", "items": []},
    ) as preflight:
        response = client.post(f"/connections/{connection.pk}/preflight/", follow=True)
    preflight.assert_called_once_with(connection=connection)
    assert _messages(response) == ["Every check passed."]


def test_disconnect_asks_for_confirmation_first(member):
    client, connection = member
    response = client.get(f"/connections/{connection.pk}/disconnect/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Disconnect Acme production?" in html
    assert 'name="delete_data"' in html


def test_disconnect_without_confirmation_changes_nothing(member):
    client, connection = member
    with mock.patch("connections.views.connection_disconnect", autospec=True) as disconnect:
        response = client.post(f"/connections/{connection.pk}/disconnect/", {})
    assert response.status_code == 400
    disconnect.assert_not_called()


@pytest.mark.parametrize(("delete", "word"), [(False, "kept"), (True, "being deleted")])
def test_a_confirmed_disconnect_keeps_data_unless_asked(member, delete, word):
    client, connection = member
    data = {"confirm": "on"}
    if delete:
        data["delete_data"] = "on"
    with mock.patch("connections.views.connection_disconnect", autospec=True) as disconnect:
        response = client.post(f"/connections/{connection.pk}/disconnect/", data, follow=True)
    disconnect.assert_called_once_with(connection=connection, delete_data=delete)
    assert _messages(response) == [f"Acme production is disconnected; its data is {word}."]


def test_a_disconnected_connection_offers_to_connect_again(member):
    client, connection = member
    Connection.objects.filter(pk=connection.pk).update(status="disconnected")
    html = client.get(f"/connections/{connection.pk}/").content.decode()
    assert "Connect again" in html
    assert "Sync now" not in html
