"""The budget, ceiling and sync interval are editable within their ranges."""

import pytest

from connections.models import Connection


@pytest.fixture
def member(client, world):
    client.force_login(world["alice"])
    return client, world["acme_connection"]


def _post(client, connection, **values):
    data = {"api_budget_percent": 40, "org_usage_ceiling_percent": 75, "sync_interval_minutes": 15}
    data.update(values)
    return client.post(f"/connections/{connection.pk}/settings/", data)


def test_valid_settings_are_saved(member):
    client, connection = member
    response = _post(client, connection)
    assert response.status_code == 302
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.api_budget_percent, stored.org_usage_ceiling_percent) == (40, 75)
    assert stored.sync_interval_minutes == 15


@pytest.mark.parametrize(
    "values",
    [
        {"api_budget_percent": 0},
        {"api_budget_percent": 101},
        {"org_usage_ceiling_percent": 0},
        {"org_usage_ceiling_percent": 101},
        {"sync_interval_minutes": 4},
        {"sync_interval_minutes": 1441},
        {"api_budget_percent": "lots"},
    ],
)
def test_values_out_of_range_are_refused_with_the_reason(member, values):
    client, connection = member
    response = _post(client, connection, **values)
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.api_budget_percent, stored.sync_interval_minutes) == (50, 10)


def test_the_form_needs_csrf(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world["alice"])
    response = _post(client, world["acme_connection"])
    assert response.status_code == 403
