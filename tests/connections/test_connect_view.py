"""Connecting starts at Salesforce's login for the chosen environment, with state and PKCE
kept in the session; a My Domain must be a real one; a busy Salesforce user is warned about."""

from urllib.parse import parse_qs, urlsplit

import pytest

from connections.views import PENDING_KEY


@pytest.fixture
def member(client, world):
    client.force_login(world["alice"])
    return client, world["acme"]


def _connect(client, workspace, **data):
    return client.post(f"/connections/w/{workspace.slug}/connect/", data)


def _query(response):
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


@pytest.mark.parametrize(
    ("environment", "host"),
    [("production", "https://login.salesforce.com"), ("sandbox", "https://test.salesforce.com")],
)
def test_it_sends_the_browser_to_the_environments_login_host(member, environment, host):
    client, workspace = member
    response = _connect(client, workspace, environment=environment)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{host}/services/oauth2/authorize?")
    query = _query(response)
    assert query["redirect_uri"] == "http://testserver/connections/oauth/callback/"
    assert query["code_challenge_method"] == "S256"
    pending = client.session[PENDING_KEY][query["state"]]
    assert pending["environment"] == environment
    assert pending["login_url"] == host
    assert pending["workspace_id"] == workspace.pk
    assert pending["code_verifier"]
    assert pending["code_verifier"] not in response["Location"]


def test_a_my_domain_host_is_used_as_typed(member):
    client, workspace = member
    response = _connect(
        client, workspace, environment="my_domain", my_domain="acme.my.salesforce.com"
    )
    assert response["Location"].startswith(
        "https://acme.my.salesforce.com/services/oauth2/authorize?"
    )


def test_a_host_that_is_not_a_my_domain_is_refused_with_a_clear_error(member):
    client, workspace = member
    response = _connect(client, workspace, environment="my_domain", my_domain="evil.example.com")
    assert response.status_code == 400
    html = response.content.decode()
    assert "That is not a Salesforce My Domain" in html
    assert PENDING_KEY not in client.session


def test_a_user_holding_four_connections_needs_a_confirmation(
    member, workspace_factory, connection_factory
):
    client, workspace = member
    for _ in range(4):
        connection_factory(workspace_factory(), sf_username="busy@acme.example")
    response = _connect(
        client, workspace, environment="production", sf_username="busy@acme.example"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "already holds 4 connections" in html
    assert "dedicated" in html

    confirmed = _connect(
        client,
        workspace,
        environment="production",
        sf_username="busy@acme.example",
        confirm_shared_user="on",
    )
    assert confirmed.status_code == 302


def test_a_user_with_few_connections_is_not_warned(member, workspace_factory, connection_factory):
    client, workspace = member
    for _ in range(3):
        connection_factory(workspace_factory(), sf_username="calm@acme.example")
    response = _connect(
        client, workspace, environment="production", sf_username="calm@acme.example"
    )
    assert response.status_code == 302


def test_connect_is_post_only(member):
    client, workspace = member
    assert client.get(f"/connections/w/{workspace.slug}/connect/").status_code == 405


def test_connect_needs_csrf(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world["alice"])
    assert _connect(client, world["acme"], environment="production").status_code == 403


def test_connect_is_404_when_salesforce_is_not_configured(member, settings):
    client, workspace = member
    settings.SALESFORCE_CLIENT_SECRET = ""
    assert _connect(client, workspace, environment="production").status_code == 404


def test_reconnect_reauthorizes_the_same_row_at_its_login_host(client, world, connection_factory):
    client.force_login(world["alice"])
    connection = connection_factory(
        world["acme"], environment="sandbox", login_host="https://test.salesforce.com"
    )
    response = client.post(f"/connections/{connection.pk}/reconnect/")
    assert response["Location"].startswith("https://test.salesforce.com/services/oauth2/authorize?")
    pending = client.session[PENDING_KEY][_query(response)["state"]]
    assert pending["connection_id"] == connection.pk


def test_only_a_few_started_authorizations_are_kept(member):
    client, workspace = member
    for _ in range(7):
        _connect(client, workspace, environment="production")
    assert len(client.session[PENDING_KEY]) == 5
