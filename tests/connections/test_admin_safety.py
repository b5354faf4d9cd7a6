"""An admin that cannot hurt by accident: costly or stopping actions ask first, every action
declares its permission, and status, workspace and login host cannot be set by hand."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission

from connections.models import Connection
from ingestion.models import SyncRun

CONNECTIONS = "/admin/connections/connection/"


def _first_post(client, url, action, pk):
    return client.post(url, {"action": action, "_selected_action": [pk]})


@pytest.mark.parametrize(
    ("action", "button"),
    [("full_resync", "Yes, re-read everything"), ("pause", "Yes, pause them")],
)
def test_costly_connection_actions_ask_first(staff_client, connection, action, button):
    page = _first_post(staff_client, CONNECTIONS, action, connection.pk)
    assert page.status_code == 200
    assert button in page.content.decode()
    assert str(connection) in page.content.decode()
    assert not SyncRun.objects.exists()
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.ACTIVE


def test_cancelling_runs_asks_first(staff_client, connection, sync_run_factory):
    run = sync_run_factory(connection, status=SyncRun.Status.RUNNING)
    page = _first_post(staff_client, "/admin/ingestion/syncrun/", "cancel_runs", run.pk)
    assert "Yes, cancel them" in page.content.decode()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING


def test_every_admin_action_of_ours_declares_its_permissions():
    undeclared = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("connections", "ingestion", "audiences"):
            continue
        for func, name, _ in model_admin._get_base_actions():
            if name != "delete_selected" and not getattr(func, "allowed_permissions", None):
                undeclared.append(f"{model.__name__}.{name}")
    assert undeclared == []


def test_ops_without_sync_rights_are_not_offered_syncs(client, user_factory, connection):
    viewer = user_factory("viewer@primer.example", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_connection", "change_connection"])
    )
    client.force_login(viewer)
    html = client.get(CONNECTIONS).content.decode()
    assert 'value="pause"' in html
    assert 'value="full_resync"' not in html
    assert 'value="sync_now"' not in html
    response = client.post(
        CONNECTIONS,
        {"action": "full_resync", "_selected_action": [connection.pk], "confirmed": "yes"},
    )
    assert response.status_code in (200, 302)
    assert not SyncRun.objects.exists()


def _change_data(client, connection, **changes):
    """The connection's change form as the admin renders it, with ``changes`` applied."""
    response = client.get(f"{CONNECTIONS}{connection.pk}/change/")
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        data[name] = field.widget.format_value(value) if name == "enabled_objects" else value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    data.update(changes)
    return data


def test_status_and_workspace_cannot_be_set_by_hand(staff_client, connection, workspace_factory):
    other = workspace_factory("Other tenant")
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.NEEDS_REAUTH)
    data = _change_data(staff_client, connection, status="active", workspace=other.pk)
    response = staff_client.post(f"{CONNECTIONS}{connection.pk}/change/", data)
    assert response.status_code == 302
    stored = Connection.objects.get(pk=connection.pk)
    assert stored.status == Connection.Status.NEEDS_REAUTH
    assert stored.workspace_id == connection.workspace_id


@pytest.mark.parametrize(
    "login_host",
    [
        "https://attacker.example\\@login.salesforce.com",
        "https://login.salesforce.com@attacker.example",
        "https://login.salesforce.com.",
        "https://attacker.example",
        "http://login.salesforce.com",
    ],
)
def test_the_admin_form_refuses_a_login_host_the_gate_refuses(
    staff_client, connection, login_host, settings
):
    settings.SALESFORCE_INSECURE_LOOPBACK = False
    data = _change_data(staff_client, connection, login_host=login_host)
    response = staff_client.post(f"{CONNECTIONS}{connection.pk}/change/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["login_host"]
    assert Connection.objects.get(pk=connection.pk).login_host == connection.login_host


def test_the_admin_form_keeps_a_trusted_login_host(staff_client, connection):
    data = _change_data(staff_client, connection, login_host="https://acme.my.salesforce.com")
    response = staff_client.post(f"{CONNECTIONS}{connection.pk}/change/", data)
    assert response.status_code == 302
    assert Connection.objects.get(pk=connection.pk).login_host == "https://acme.my.salesforce.com"


def test_connections_are_not_added_by_hand(staff_client):
    assert staff_client.get(f"{CONNECTIONS}add/").status_code == 403


def test_ops_see_each_orgs_usage_read_only(staff_client, connection):
    from connections.services import ApiBudget

    connection.org_api_used, connection.org_api_max = 10, 1_000
    ApiBudget(connection).check("query")  # the reservation creates the org's row
    page = staff_client.get("/admin/connections/orgusage/").content.decode()
    assert connection.org_id in page
    assert staff_client.get("/admin/connections/orgusage/add/").status_code == 403
