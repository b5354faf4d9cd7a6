"""A real headless Chromium builds an audience: gate first, then live size, save, summary."""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from connections.models import Connection
from ingestion.signals import initial_sync_completed
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "browser" / "screenshots" / "tmp"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls below are sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(15_000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def org(loading_connection, record_factory):
    c = loading_connection
    tech = record_factory(
        c, "Account", Industry="Technology", Name="Acme Robotics", BillingCountry="United States"
    )
    retail = record_factory(
        c, "Account", Industry="Retail", Name="Shop Co", BillingCountry="Germany"
    )
    for i in range(12):
        account = tech if i < 7 else retail
        record_factory(
            c,
            "Contact",
            AccountId=account.sf_id,
            FirstName=f"Person{i}",
            LastName="Example",
            Email=f"person{i}@acme.example",
            Title="CTO",
            Phone="+1 415 555 2671",
        )
    return c


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"audiences-{name}.png"), full_page=True)


def test_building_an_audience_through_the_gate(live_server, browser_page, org, user):
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("[name=login]", user.email)
    page.fill("[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.goto(f"{live_server.url}/audiences/new/")

    gate = page.locator("#gate")
    assert "locked until the initial ingestion completes" in gate.inner_text()
    assert "records ingested of about" in gate.inner_text()
    assert page.locator("#add-condition").is_disabled()
    page.fill("[name=name]", "Tech buyers")
    _shot(page, "1-gate")

    # The ingestion finishes: the page unlocks by itself (it polls the gate).
    Connection.objects.filter(pk=org.pk).update(initial_sync_completed_at=timezone.now())
    org.refresh_from_db()
    initial_sync_completed.send(sender=Connection, connection=org)
    page.wait_for_selector("#gate.alert-ok")
    assert page.locator("#add-condition").is_enabled()

    expect = pytest.importorskip("playwright.sync_api").expect  # no eval(): the page has a CSP
    page.select_option("[name=holds]", "contacts")
    page.click("#add-condition")
    page.select_option("[aria-label=object]", "Account")
    page.select_option("[aria-label=field]", "Industry")
    page.select_option("[aria-label=operator]", "equals")
    page.select_option("[aria-label=value]", "Technology")
    expect(page.locator("#estimate-total")).to_have_attribute("data-value", "7")
    page.select_option("[aria-label=value]", "Retail")
    expect(page.locator("#estimate-total")).to_have_attribute("data-value", "5")
    page.select_option("[aria-label=value]", "Technology")
    expect(page.locator("#estimate-total")).to_have_attribute("data-value", "7")
    _shot(page, "2-builder")

    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    assert page.locator("#audience-size").inner_text() == "7"
    assert page.locator("#preview tbody tr").count() == 7
    assert "Technology" in page.content()
    _shot(page, "3-summary")
