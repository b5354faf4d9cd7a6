"""A real headless Chromium builds an audience from conditions, a relation and a CSV list,
reopens it, saves it unchanged and finds the same criteria and size; and edits one condition
and finds only that change (invariant 13)."""

import copy
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from audiences import services
from audiences.models import Audience
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parent.parent / "browser" / "screenshots" / "tmp"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture
def browser_page():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.set_default_timeout(15_000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def org(ready_connection, record_factory, user, settings, tmp_path):
    """Tech (with a won deal) and Retail accounts; VPs and CTOs at both; a list of some."""
    settings.MEDIA_ROOT = tmp_path
    c = ready_connection
    tech = record_factory(c, "Account", Industry="Technology", Name="Acme")
    retail = record_factory(c, "Account", Industry="Retail", Name="Shop")
    record_factory(c, "Opportunity", AccountId=tech.sf_id, StageName="Closed Won")
    people = [("VP Sales", tech), ("VP Ops", tech), ("VP Data", tech), ("CTO", tech),
              ("CTO", tech), ("VP Sales", retail), ("VP Ops", retail)]  # fmt: skip
    for i, (title, account) in enumerate(people):
        record_factory(c, "Contact", AccountId=account.sf_id, Title=title, LastName=f"P{i}",
                       Email=f"p{i}@acme.example")  # fmt: skip
    text = "Email\n" + "".join(f"p{i}@acme.example\n" for i in (0, 1, 3, 5))
    file = SimpleUploadedFile("vip.csv", text.encode(), content_type="text/csv")
    csv_list = services.csv_list_upload(
        workspace=c.workspace, name="VIP list", kind="people", file=file, user=user
    )
    services.csv_list_set_mapping(csv_list=csv_list, mapping=csv_list.mapping)
    services.csv_list_import(csv_list=csv_list)
    return {"connection": c, "list": csv_list}


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"audiences-edit-{name}.png"), full_page=True)


def _sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("[name=login]", user.email)
    page.fill("[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/connections/**")


def _estimate(page, value: int):
    # No wait_for_function: it evaluates a string, which the page's CSP (rightly) forbids.
    expect(page.locator("#estimate-total")).to_have_attribute("data-value", str(value))


def _build(page, org):
    page.fill("[name=name]", "VPs at won tech accounts")
    page.fill("[name=description]", "For the Q3 campaign")
    page.select_option("[name=holds]", "contacts")
    rows = page.locator(".group > .condition")
    page.click("#add-condition")
    rows.nth(0).locator("[aria-label=object]").select_option("Contact")
    rows.nth(0).locator("[aria-label=field]").select_option("Title")
    rows.nth(0).locator("[aria-label=operator]").select_option("contains")
    rows.nth(0).locator("[aria-label=value]").fill("VP")
    page.click("#add-condition")
    rows.nth(1).locator("[aria-label=object]").select_option("Account")
    rows.nth(1).locator("[aria-label=field]").select_option("Industry")
    rows.nth(1).locator("[aria-label=operator]").select_option("equals")
    _estimate(page, 3)
    page.click("text=+ Opportunity")
    deal = page.locator(".related .condition")
    deal.locator("[aria-label=field]").select_option("StageName")
    deal.locator("[aria-label=operator]").select_option("equals")
    deal.locator("[aria-label=value]").select_option("Closed Won")
    page.check(f"[name=include][value='{org['list'].pk}']")
    _estimate(page, 2)


def test_an_unchanged_edit_keeps_criteria_and_size(live_server, browser_page, org, user):
    page = browser_page
    _sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/audiences/new/")
    _build(page, org)
    _shot(page, "1-built")
    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    assert page.locator("#audience-size").inner_text() == "2"
    audience = Audience.objects.get()
    saved = (audience.criteria, audience.holds, audience.name, audience.description)
    assert len(audience.criteria["children"]) == 3
    words = page.locator("#criteria-words").inner_text()
    assert "Contact Title contains VP and Account Industry is Technology" in words
    _shot(page, "2-detail")

    page.click("text=Edit")
    _estimate(page, 2)  # the builder shows the stored criteria, not "No filters yet"
    assert page.locator(".group > .condition").count() == 2
    assert page.locator(".related .condition").count() == 1
    _shot(page, "3-reopened")
    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    assert page.locator("#audience-size").inner_text() == "2"
    audience.refresh_from_db()
    assert (audience.criteria, audience.holds, audience.name, audience.description) == saved
    assert list(audience.list_uses.values_list("csv_list", "mode")) == [(org["list"].pk, "include")]


def test_editing_one_condition_changes_only_that(live_server, browser_page, org, user):
    page = browser_page
    _sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/audiences/new/")
    _build(page, org)
    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    before = copy.deepcopy(Audience.objects.get().criteria)

    page.click("text=Edit")
    _estimate(page, 2)
    page.locator(".group > .condition").nth(0).locator("[aria-label=value]").fill("CTO")
    _estimate(page, 1)
    _shot(page, "4-one-change")
    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    assert page.locator("#audience-size").inner_text() == "1"
    after = Audience.objects.get().criteria
    expected = copy.deepcopy(before)
    expected["children"][0]["value"] = "CTO"
    assert after == expected


def test_a_semicolon_windows_file_is_read_right_then_deleted(
    live_server, browser_page, org, user, tmp_path
):
    page = browser_page
    _sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/audiences/lists/")
    path = tmp_path / "kontakte.csv"
    path.write_bytes("Vorname;Nachname;E-Mail\r\n“Jürgen”;Müller;p3@acme.example\r\n"
                     "Zoë;Ærø;not-an-email\r\n".encode("cp1252"))  # fmt: skip
    page.fill("[name=name]", "Kontakte")
    page.check("[name=kind][value=people]")
    page.set_input_files("[name=file]", str(path))
    page.click("button:has-text('Upload')")
    reading = page.locator("#reading").inner_text()
    assert "Windows-1252" in reading
    assert "semicolon" in reading
    _shot(page, "5-mapping")
    page.click("[name=mapping]")
    page.wait_for_selector("#rows-read")
    assert "Ready" in page.locator("h1").inner_text()
    assert page.locator("#rows-read").inner_text() == "2"
    _shot(page, "6-list")
    page.goto(f"{live_server.url}/audiences/lists/")
    assert "100%" in page.locator("tr", has_text="Kontakte").inner_text()
    page.click("text=Kontakte")
    page.click("#delete-list")
    page.wait_for_url(f"{live_server.url}/audiences/lists/")
    assert "Deleted “Kontakte”" in page.content()
