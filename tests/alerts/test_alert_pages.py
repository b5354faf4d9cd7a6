"""The notifications list, the email setting, and the ops view of sent alerts."""

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertEmail
from alerts.services import alert_send

pytestmark = pytest.mark.django_db


def _alert(connection, **fields):
    defaults = {
        "workspace": connection.workspace,
        "connection": connection,
        "kind": "needs_reauth",
        "title": "needs reconnecting",
        "message": "Salesforce no longer accepts this connection's authorization.",
        "fix": "Reconnect.",
        "opened_at": timezone.now(),
    }
    defaults.update(fields)
    return Alert.objects.create(**defaults)


def test_members_see_their_workspaces_alerts_only(client, world):
    _alert(world["acme_connection"])
    _alert(world["globex_connection"], title="globex trouble")
    client.force_login(world["alice"])

    page = client.get("/alerts/").content.decode()

    assert "Acme production</a>: needs reconnecting" in page
    assert "globex trouble" not in page
    assert 'id="nav-alerts"' in page
    assert '<span class="count">1</span>' in page


def test_a_member_turns_alert_emails_off_for_a_workspace(client, world):
    client.force_login(world["alice"])
    response = client.post("/alerts/w/{}/email/".format(world["acme"].slug), {})
    assert response.status_code == 302
    page = client.get("/alerts/").content.decode()
    assert "You no longer get alert emails for Acme." in page
    assert 'name="email" checked' not in page


def test_another_workspaces_setting_is_404(client, world):
    client.force_login(world["alice"])
    assert client.post("/alerts/w/{}/email/".format(world["globex"].slug), {}).status_code == 404


def test_ops_see_sent_alerts_in_the_admin_without_delete(staff_client, connection):
    alert = _alert(connection)
    alert_send(alert=alert, event=AlertEmail.Event.OPENED)

    listing = staff_client.get("/admin/alerts/alertemail/").content.decode()
    assert "Acme production: needs reconnecting" in listing
    assert "customer@acme.example" in listing
    detail = staff_client.get(f"/admin/alerts/alert/{alert.pk}/change/").content.decode()
    assert "Salesforce no longer accepts" in detail
    assert staff_client.get(f"/admin/alerts/alert/{alert.pk}/delete/").status_code == 403
