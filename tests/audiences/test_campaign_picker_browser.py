"""A real headless Chromium picks a campaign out of 1,015 with the builder's search (by
keyboard), saves, reopens Edit and finds it still chosen; an unchanged save stores the same
criteria; the picker fits a 390 px phone."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audiences.models import Audience
from ingestion.models import IngestedRecord
from tests.audiences.conftest import FIELDS, _f, describe, sf_id
from tests.browser.conftest import browser_page, screenshot  # noqa: F401 (a fixture)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAMPAIGNS = 1015
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parent.parent / "browser" / "screenshots"


def _record(connection, sobject, now, **data):
    record_id = sf_id(sobject)
    return IngestedRecord(
        connection=connection, sobject=sobject, sf_id=record_id, data={"Id": record_id, **data},
        facets={}, system_modstamp=now, first_seen_at=now, last_seen_at=now,
    )  # fmt: skip


@pytest.fixture
def org(ready_connection):
    """1,015 campaigns; two contacts are members of the last one, one of the one before."""
    now = timezone.now()
    campaigns = [
        _record(ready_connection, "Campaign", now, Name=f"Campaign {n:04d}")
        for n in range(1, CAMPAIGNS + 1)
    ]
    contacts = [_record(ready_connection, "Contact", now, LastName=f"P{i}") for i in range(3)]
    IngestedRecord.objects.bulk_create(campaigns + contacts)
    last, before = campaigns[-1], campaigns[-2]
    members = [
        _record(ready_connection, "CampaignMember", now, CampaignId=c.sf_id, ContactId=p.sf_id)
        for c, p in ((last, contacts[0]), (last, contacts[1]), (before, contacts[2]))
    ]
    IngestedRecord.objects.bulk_create(members)
    return {"connection": ready_connection, "last": last}


def _sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("[name=login]", user.email)
    page.fill("[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/connections/**")


def _estimate(page, value: int):
    # No wait_for_function: it evaluates a string, which the page's CSP (rightly) forbids.
    expect(page.locator("#estimate-total")).to_have_attribute("data-value", str(value))


def _width(page) -> int:
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )


def test_search_picks_campaign_1015_and_edit_keeps_it(live_server, browser_page, org, user):  # noqa: F811
    page = browser_page
    _sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/audiences/new/")
    page.fill("[name=name]", "Late campaign")
    page.select_option("[name=holds]", "contacts")
    page.click("text=+ Campaign membership")
    search = page.locator(".related [aria-label='search values']")
    options = page.locator(".related [role=option]")

    # Every campaign is reachable: a page of 50 on focus, 50 more on "More results".
    search.focus()
    expect(options).to_have_count(50)
    page.click("text=More results")
    expect(options).to_have_count(100)

    # Keyboard only: type, move down to the match, pick it with Enter.
    search.fill("campaign 1015")
    expect(options).to_have_text(["Campaign 1015"])
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    search.press("Enter")
    chips = page.locator(".related .chip")
    expect(chips).to_have_text(["Campaign 1015✕"])
    expect(options.first).to_have_attribute("aria-selected", "true")
    _estimate(page, 2)

    # A second one by mouse, then removed with its chip's button.
    search.fill("1014")
    expect(options).to_have_text(["Campaign 1014"])
    options.first.click()
    expect(chips).to_have_count(2)
    _estimate(page, 3)
    page.click("[aria-label='Remove Campaign 1014']")
    expect(chips).to_have_text(["Campaign 1015✕"])
    _estimate(page, 2)
    search.press("Escape")
    expect(page.locator(".related [role=listbox]")).to_be_hidden()

    page.set_viewport_size(PHONE)
    search.fill("Campaign 0")
    expect(options).to_have_count(50)
    assert _width(page) == PHONE["width"]
    screenshot(page, "14b-campaign-picker-mobile", full_page=True)
    search.press("Escape")
    page.set_viewport_size({"width": 1100, "height": 820})

    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    assert page.locator("#audience-size").inner_text() == "2"
    assert "Campaign 1015" in page.locator("#criteria-words").inner_text()
    audience = Audience.objects.get()
    saved = audience.criteria
    [related] = saved["children"]
    assert related["conditions"][0]["value"] == [org["last"].sf_id]

    page.click("text=Edit")
    _estimate(page, 2)
    expect(page.locator(".related .chip")).to_have_text(["Campaign 1015✕"])
    screenshot(page, "14b-campaign-picker-reopened", full_page=True)
    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    assert page.locator("#audience-size").inner_text() == "2"
    audience.refresh_from_db()
    assert audience.criteria == saved


SOURCES = [f"Source {n:03d}" for n in range(1, 121)]


@pytest.fixture
def long_picklist(ready_connection, record_factory):
    """Contact.LeadSource with 120 values; two contacts from the last, one from the first."""
    contact = {**FIELDS["Contact"], "LeadSource": _f("picklist", None, SOURCES)}
    describe(ready_connection, {**FIELDS, "Contact": contact})
    for i, source in enumerate(("Source 120", "Source 120", "Source 001")):
        record_factory(ready_connection, "Contact", LastName=f"P{i}", LeadSource=source)
    return ready_connection


def test_a_long_picklist_is_searched_for_one_value_and_for_many(
    live_server,
    browser_page,  # noqa: F811
    long_picklist,
    user,
):
    page = browser_page
    _sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/audiences/new/")
    page.fill("[name=name]", "Late source")
    page.select_option("[name=holds]", "contacts")
    page.click("#add-condition")
    row = page.locator(".group > .condition").first
    row.locator("[aria-label=object]").select_option("Contact")
    row.locator("[aria-label=field]").select_option("LeadSource")
    row.locator("[aria-label=operator]").select_option("any_of")
    search = row.locator("[aria-label='search values']")
    search.fill("120")
    expect(row.locator("[role=option]")).to_have_text(["Source 120"])
    search.press("ArrowDown")
    search.press("Enter")
    expect(row.locator(".chip")).to_have_text(["Source 120✕"])
    _estimate(page, 2)

    # "equals": one value, the first by default, replaced by the one picked.
    row.locator("[aria-label=operator]").select_option("equals")
    expect(row.locator(".chip")).to_have_text(["Source 001✕"])
    _estimate(page, 1)
    one = row.locator("[aria-label='search value']")
    one.fill("Source 12")
    expect(row.locator("[role=option]")).to_have_text(["Source 120"])
    one.press("ArrowDown")
    one.press("Enter")
    expect(row.locator(".chip")).to_have_text(["Source 120✕"])
    expect(row.locator("[role=listbox]")).to_be_hidden()
    _estimate(page, 2)

    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    saved = Audience.objects.get().criteria
    assert saved["children"][0]["value"] == "Source 120"
    page.click("text=Edit")
    _estimate(page, 2)
    expect(page.locator(".group > .condition .chip")).to_have_text(["Source 120✕"])
    page.click("#save-run")
    page.wait_for_selector("#audience-size")
    assert Audience.objects.get().criteria == saved
