"""Against the emulator: reconnecting a healthy connection as a problem user shows both
authorizations side by side and changes nothing unless the customer chooses the new one."""

import pytest

from connections.models import Connection, ReconnectCandidate
from tests.connections.emulated import connect, consent, local_path, messages_of


@pytest.fixture
def healthy(client, world, emulated, enqueue):
    client.force_login(world["alice"])
    connect(client, world["acme"], "integration@example.com")
    return Connection.objects.get(org_id=emulated.org.org_id)


def _reconnect_as(client, connection, username):
    authorize = client.post(f"/connections/{connection.pk}/reconnect/")["Location"]
    return client.get(local_path(consent(authorize, username)), follow=True)


@pytest.mark.parametrize(
    ("username", "failing"),
    [("noapi@example.com", "API Enabled"), ("highassurance@example.com", "Session security")],
)
def test_a_problem_user_is_shown_beside_the_working_one_and_kept_out(
    client, healthy, username, failing
):
    before = Connection.objects.get(pk=healthy.pk)

    page = _reconnect_as(client, healthy, username)

    html = page.content.decode()
    assert page.redirect_chain[-1][0].startswith(f"/connections/{healthy.pk}/reconnect/review/")
    assert "Nothing has changed yet" in html
    assert "Now: integration@example.com" in html
    assert f"New: {username}" in html
    assert failing in html
    after = Connection.objects.get(pk=healthy.pk)
    assert (after.sf_username, after.status) == ("integration@example.com", "active")
    assert after.refresh_token == before.refresh_token

    kept = client.post(page.redirect_chain[-1][0], {"choice": "keep"}, follow=True)
    assert "Nothing changed" in messages_of(kept)[0]
    assert Connection.objects.get(pk=healthy.pk).refresh_token == before.refresh_token
    assert not ReconnectCandidate.objects.exists()


def test_an_inactive_user_cannot_reconnect_and_the_connection_keeps_working(client, healthy):
    before = Connection.objects.get(pk=healthy.pk)
    authorize = client.post(f"/connections/{healthy.pk}/reconnect/")["Location"]
    back = consent(authorize, "inactive@example.com")
    response = client.get(local_path(back), follow=True)
    after = Connection.objects.get(pk=healthy.pk)
    assert (after.status, after.refresh_token) == ("active", before.refresh_token)
    assert response.redirect_chain[-1][0] == f"/connections/{healthy.pk}/"


def test_another_workspace_cannot_see_the_review(client, healthy, world):
    page = _reconnect_as(client, healthy, "admin@example.com")
    url = page.redirect_chain[-1][0]
    client.force_login(world["bob"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"choice": "new"}).status_code == 404
    assert Connection.objects.get(pk=healthy.pk).sf_username == "integration@example.com"
