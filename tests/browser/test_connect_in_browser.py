"""A customer connects Salesforce in a real browser: sign in, the settings page, connect, the
emulator's consent page, allow, and back on the settings page with the connection. Another
workspace's user gets 404 on it."""

import re
from unittest import mock

import pytest

from connections.models import Connection
from connections.services import workspace_create
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD
from tests.connections.emulated import start_emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def emulated(settings):
    emulated = start_emulator(settings)  # no callback configured: loopback callbacks allowed
    yield emulated
    emulated.server.stop()


@pytest.fixture
def customers(user_factory):
    alice = user_factory("alice@acme.example")
    bob = user_factory("bob@globex.example")
    return {
        "alice": alice,
        "acme": workspace_create(name="Acme", owner=alice),
        "bob": bob,
        "globex": workspace_create(name="Globex", owner=bob),
    }


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/connections/$"))


def test_a_customer_connects_salesforce_through_the_consent_page(
    live_server, browser_page, emulated, customers
):
    page = browser_page
    with mock.patch("ingestion.services.runs.sync_run_enqueue", autospec=True) as enqueue:
        _sign_in(page, live_server.url, "alice@acme.example")
        page.click("text=Manage and connect")
        page.wait_for_url(re.compile(r".*/connections/w/acme/$"))
        page.check("input[name=environment][value=production]")
        screenshot(page, "1-connect-form", full_page=True)

        page.click("button:has-text('Connect to Salesforce')")
        page.wait_for_url(re.compile(re.escape(emulated.url) + r"/services/oauth2/authorize\?.*"))
        page.select_option("select[name=username]", "integration@example.com")
        screenshot(page, "2-emulator-consent")

        page.click("button[name=action][value=allow]")
        page.wait_for_url(re.compile(r".*/connections/\d+/$"))
        screenshot(page, "3-connected-settings-page", full_page=True)

        text = page.inner_text("main")
        assert "Connected" in text
        assert "integration@example.com" in text
        assert page.inner_text("#connection-status") == "Active"
        assert "Permission checks" in text
        assert page.locator("ul.checklist li.pass").count() >= 8
        enqueue.assert_called_once()

    connection = Connection.objects.get(workspace=customers["acme"])
    assert connection.org_id == emulated.org.org_id
    assert page.url == f"{live_server.url}/connections/{connection.pk}/"


def test_another_workspaces_user_gets_404_on_the_connection(
    live_server, browser_page, customers, connection_factory
):
    connection = connection_factory(customers["acme"], label="Acme production")
    page = browser_page
    _sign_in(page, live_server.url, "bob@globex.example")

    response = page.goto(f"{live_server.url}/connections/{connection.pk}/")
    assert response.status == 404
    screenshot(page, "4-other-workspace-404")

    response = page.goto(f"{live_server.url}/connections/w/acme/")
    assert response.status == 404
    page.goto(f"{live_server.url}/connections/")
    assert "Acme production" not in page.inner_text("main")
