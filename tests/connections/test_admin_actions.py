"""The Connection admin: the checklist and status shown (never a token), and the actions
preflight, sync now, full resync, pause and resume."""

from unittest import mock

import pytest

from connections.models import Connection
from ingestion.models import SyncRun
from primer_sf.errors import ApplicationError

URL = "/admin/connections/connection/"


@pytest.fixture
def ops(staff_client, world):
    connection = world["acme_connection"]
    connection.preflight = {
        "result": "warn",
        "items": [
            {
                "key": "bulk_api",
                "label": "Bulk API 2.0",
                "status": "warn",
                "detail": "None left.",
                "fix": "Wait.",
            }
        ],
    }
    connection.status_fix = "Reconnect."
    connection.save()
    return staff_client, connection


def _act(client, action, connection, follow=True):
    data = {"action": action, "_selected_action": [connection.pk], "confirmed": "yes"}
    return client.post(URL, data, follow=follow)


def test_the_change_page_shows_the_checklist_and_no_token(ops):
    client, connection = ops
    html = client.get(f"{URL}{connection.pk}/change/").content.decode()
    assert "Bulk API 2.0" in html
    assert "None left." in html
    assert connection.access_token not in html
    assert connection.refresh_token not in html
    assert 'name="access_token"' not in html


def test_preflight_action_runs_the_checks(ops):
    client, connection = ops
    with mock.patch(
        "connections.admin.connection_run_preflight",
        autospec=True,
        return_value={"result": "pass", "items": []},
    ) as preflight:
        response = _act(client, "run_preflight", connection)
    preflight.assert_called_once_with(connection=connection)
    assert "checks pass" in response.content.decode()


def test_sync_now_enqueues_for_the_admin(ops):
    # (Full resync resets cursors first: tests/ingestion/test_admin_actions.py.)
    client, connection = ops
    kind = SyncRun.Kind.INCREMENTAL
    with mock.patch("ingestion.services.runs.sync_run_enqueue", autospec=True) as enqueue:
        enqueue.return_value = SyncRun(connection=connection, kind=kind, trigger="admin")
        _act(client, "sync_now", connection)
    enqueue.assert_called_once_with(connection=connection, kind=kind, trigger=SyncRun.Trigger.ADMIN)


def test_a_refused_sync_is_reported(ops):
    client, connection = ops
    with mock.patch(
        "ingestion.services.runs.sync_run_enqueue",
        autospec=True,
        side_effect=ApplicationError("Acme production already has a sync queued or running."),
    ):
        response = _act(client, "sync_now", connection)
    assert "already has a sync queued or running" in response.content.decode()


def test_pause_and_resume(ops):
    client, connection = ops
    _act(client, "pause", connection)
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("paused", "paused_by_ops")
    _act(client, "resume", connection)
    connection.refresh_from_db()
    assert (connection.status, connection.status_reason) == ("active", "")


def test_pause_leaves_a_connection_that_needs_reauth_alone(ops):
    client, connection = ops
    Connection.objects.filter(pk=connection.pk).update(status="needs_reauth")
    response = _act(client, "pause", connection)
    assert "Paused 0 of 1" in response.content.decode()
    assert Connection.objects.get(pk=connection.pk).status == "needs_reauth"
