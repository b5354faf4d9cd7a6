"""The audience form in Chromium: a tampered CSV list id is an error on the page, not a 500."""

from __future__ import annotations

from audiences.models import Audience, CsvList
from connections.services import workspace_create
from tests.browser.conftest import screenshot
from tests.browser.test_connect_in_browser import _sign_in


def test_a_list_id_past_any_database_integer_is_shown_as_a_form_error(
    live_server, browser_page, user_factory, connection_factory
):
    alice = user_factory("alice@acme.example")
    acme = workspace_create(name="Acme", owner=alice)
    connection_factory(acme, label="Acme production")
    CsvList.objects.create(
        workspace=acme, name="Conference leads", kind="people", created_by=alice,
        status=CsvList.Status.READY,
    )  # fmt: skip
    page = browser_page
    _sign_in(page, live_server.url, "alice@acme.example")
    page.goto(f"{live_server.url}/audiences/new/")
    page.fill("input[name=name]", "Tampered")
    box = page.locator("input[name=include]").first
    box.check()
    box.evaluate("(el) => { el.value = '9223372036854775808'; }")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "is not one of the available choices" in page.inner_text("main")
    assert page.input_value("input[name=name]") == "Tampered"  # nothing typed is lost
    assert not Audience.objects.exists()
    screenshot(page, "audience-form-tampered-list-id", full_page=True)
