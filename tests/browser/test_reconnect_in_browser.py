"""Reconnecting in a real browser as a user without API access: the working and the new
sign-in side by side, on a desktop and on a phone; keeping the working one changes nothing."""

import re
from unittest import mock

import pytest

from connections.models import Connection
from tests.browser.conftest import screenshot
from tests.browser.test_connect_in_browser import _sign_in, customers, emulated  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _consent(page, emulated, username: str) -> None:  # noqa: F811
    page.wait_for_url(re.compile(re.escape(emulated.url) + r"/services/oauth2/authorize\?.*"))
    page.select_option("select[name=username]", username)
    page.click("button[name=action][value=allow]")


def test_reconnecting_as_a_user_without_api_access_asks_first(
    live_server,
    browser_page,
    emulated,  # noqa: F811
    customers,  # noqa: F811
):
    page = browser_page
    with mock.patch("ingestion.services.runs.sync_run_enqueue", autospec=True):
        _sign_in(page, live_server.url, "alice@acme.example")
        page.click("text=Manage and connect")
        page.check("input[name=environment][value=production]")
        page.fill("input[name=label]", "Demo org")
        page.click("button:has-text('Connect to Salesforce')")
        _consent(page, emulated, "integration@example.com")
        page.wait_for_url(re.compile(r".*/connections/\d+/$"))
        connection = Connection.objects.get(workspace=customers["acme"])
        working_token = connection.refresh_token

        page.click("button:has-text('Reconnect')")
        _consent(page, emulated, "noapi@example.com")
        page.wait_for_url(re.compile(r".*/reconnect/review/\d+/$"))

        assert "Nothing has changed yet" in page.inner_text("#review-reasons")
        assert "not as integration@example.com" in page.inner_text("#review-reasons")
        current = page.locator("#current-authorization").bounding_box()
        new = page.locator("#new-authorization").bounding_box()
        assert abs(current["y"] - new["y"]) < 2  # side by side
        assert current["x"] < new["x"]
        assert page.locator("#new-authorization li.fail").count() >= 1
        screenshot(page, "14-reconnect-review-desktop", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") == 390
        screenshot(page, "14-reconnect-review-mobile", full_page=True)

        page.click("#keep-current")
        page.wait_for_url(re.compile(r".*/connections/\d+/$"))
        assert "still signs in as integration@example.com" in page.inner_text("main")

    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.sf_username, stored.status) == ("integration@example.com", "active")
    assert stored.refresh_token == working_token
    assert stored.label == "Demo org"


def test_connecting_as_a_user_with_hidden_fields_names_them(
    live_server,
    browser_page,
    emulated,  # noqa: F811
    customers,  # noqa: F811
):
    page = browser_page
    with mock.patch("ingestion.services.runs.sync_run_enqueue", autospec=True):
        _sign_in(page, live_server.url, "alice@acme.example")
        page.click("text=Manage and connect")
        page.check("input[name=environment][value=production]")
        page.click("button:has-text('Connect to Salesforce')")
        _consent(page, emulated, "fls@example.com")
        page.wait_for_url(re.compile(r".*/connections/\d+/$"))

    card = page.locator("#field-visibility")
    assert "Salesforce hides" in card.inner_text()
    assert card.locator("#hidden-fields tbody tr").count() == 4  # Account, Contact, Lead, Opp.
    assert "Birthdate" in card.inner_text()
    assert page.locator("li[data-key=field_visibility].warn").count() == 1
    card.scroll_into_view_if_needed()
    screenshot(page, "14-field-visibility-desktop")
