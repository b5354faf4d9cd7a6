"""The connection page's history and charts, its live refresh, and every customer page at a
phone's width (390 px) without sideways scrolling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import Alert
from audiences.models import Audience, CsvList
from connections.models import ApiUsage
from connections.services import workspace_create
from ingestion.models import ObjectCursor, SyncRun
from tests.browser.conftest import screenshot
from tests.browser.test_connect_in_browser import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def busy_connection(user_factory, connection_factory):
    """A month of syncing: runs every day, API calls near the budget, a long label."""
    alice = user_factory("alice.longname-for-testing@acme-corporation.example")
    acme = workspace_create(name="Acme Corporation International", owner=alice)
    connection = connection_factory(
        acme,
        label="Acme production org with a rather long label",
        sf_username="integration.user.with.a.long.name@acme-corporation.example",
        instance_url="https://acme-corporation-international.my.salesforce.com",
        org_api_used=41_200,
        org_api_max=100_000,
        org_api_checked_at=timezone.now(),
        initial_sync_started_at=timezone.now() - timedelta(days=30),
        initial_sync_completed_at=timezone.now() - timedelta(days=29),
        enabled_objects=["Lead", "Contact", "Account"],
    )
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    for day in range(30):
        at = now - timedelta(days=day, hours=1)
        run = SyncRun.objects.create(
            connection=connection,
            kind=SyncRun.Kind.INCREMENTAL if day else SyncRun.Kind.RECONCILE,
            trigger=SyncRun.Trigger.SCHEDULE,
            status=SyncRun.Status.PARTIAL if day == 3 else SyncRun.Status.SUCCEEDED,
            started_at=at,
            finished_at=at + timedelta(seconds=40 + day),
            records_written=1_000 + 150 * (day % 7),
            api_calls=300 + 20 * day,
            error_code="objects_skipped" if day == 3 else "",
            error_message="Campaign: INSUFFICIENT_ACCESS: no read access" if day == 3 else "",
        )
        SyncRun.objects.filter(pk=run.pk).update(created_at=at)
        ApiUsage.objects.create(
            connection=connection, hour=hour - timedelta(days=day), calls=30_000 + 900 * day
        )
    return alice, connection


def test_history_and_charts_on_the_connection_page(live_server, browser_page, busy_connection):
    alice, connection = busy_connection
    page = browser_page
    _sign_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/connections/{connection.pk}/")

    assert page.locator("#records-chart rect.bar").count() == 30
    assert page.locator("#calls-chart line.limit").count() == 1
    assert page.locator("#calls-chart rect.bar.over").count() > 0  # past 50,000 a day
    assert page.locator("#run-history tbody tr").count() == 20
    partial = page.locator("#run-history tbody tr", has_text="Partial")
    assert "Some objects could not be read" in partial.inner_text()
    assert "INSUFFICIENT_ACCESS" not in page.content()
    box = page.locator("#records-chart").bounding_box()
    assert box["width"] > 300  # drawn, and at a readable size
    page.locator("#history").scroll_into_view_if_needed()
    screenshot(page, "14-history-desktop", full_page=True)


def test_the_page_refreshes_itself_while_a_run_is_active(
    live_server, browser_page, busy_connection, settings
):
    settings.CONNECTION_PAGE_REFRESH_SECONDS = 1
    alice, connection = busy_connection
    ObjectCursor.objects.create(
        connection=connection, sobject="Lead", initial_load_complete=True, estimated_total=900
    )
    run = SyncRun.objects.create(
        connection=connection,
        kind=SyncRun.Kind.INCREMENTAL,
        trigger=SyncRun.Trigger.CUSTOMER,
        status=SyncRun.Status.RUNNING,
        sobjects=["Lead"],
        started_at=timezone.now() - timedelta(seconds=30),
        records_read=120,
        object_stats={"Lead": {"status": "active", "expected": 400, "records_read": 120}},
    )
    page = browser_page
    _sign_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/connections/{connection.pk}/")
    page.evaluate("window.sameDocument = true")
    assert page.locator("#sync-now").is_disabled()
    assert "Running now:" in page.inner_text("#syncing")
    assert "120 of 400 changed records to read" in page.inner_text("#run-progress")
    screenshot(page, "14-run-in-progress-desktop")
    page.fill("#id_api_budget_percent", "42")  # half-typed: must survive the refreshes

    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        records_read=400,
        records_written=400,
        object_stats={"Lead": {"status": "done", "expected": 400, "records_read": 400}},
    )

    # No wait_for_function: it evaluates a string, which the page's CSP (rightly) forbids.
    expect(page.locator("#sync-now")).to_be_enabled(timeout=10_000)
    assert page.evaluate("window.sameDocument") is True  # refreshed in place, not reloaded
    assert "Running now:" not in page.inner_text("#syncing")
    assert page.locator("#run-progress").count() == 0
    assert page.input_value("#id_api_budget_percent") == "42"
    assert page.get_attribute("#connection-page", "data-active") == "false"


def _customer_pages(connection) -> list[str]:
    workspace = connection.workspace
    owner = workspace.memberships.get().user
    audience = Audience.objects.create(
        workspace=workspace, connection=connection, name="Tech decision makers", created_by=owner
    )
    csv_list = CsvList.objects.create(
        workspace=workspace, name="Conference leads 2026", kind="people", created_by=owner
    )
    Alert.objects.create(
        workspace=workspace,
        connection=connection,
        kind="run_paused",
        title="sync paused on the API budget",
        message="Paused: this connection used the share of the org's daily API calls you "
        "allowed it.",
        fix="Nothing to do: it resumes by itself.",
        opened_at=timezone.now(),
    )
    return [
        "/connections/",
        f"/connections/w/{workspace.slug}/",
        f"/connections/{connection.pk}/",
        f"/connections/{connection.pk}/disconnect/",
        "/alerts/",
        "/audiences/",
        "/audiences/new/",
        f"/audiences/{audience.pk}/",
        f"/audiences/{audience.pk}/edit/",
        "/audiences/lists/",
        f"/audiences/lists/{csv_list.pk}/",
    ]


def _overflow(page) -> int:
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )


def test_every_customer_page_fits_a_390_px_phone(live_server, browser_page, busy_connection):
    alice, connection = busy_connection
    page = browser_page
    page.set_viewport_size(PHONE)
    for path in ("/accounts/login/", "/accounts/signup/"):
        page.goto(live_server.url + path)
        assert _overflow(page) == PHONE["width"], path
    screenshot(page, "14-sign-up-mobile", full_page=True)

    _sign_in(page, live_server.url, alice.email)
    widths = {}
    for path in _customer_pages(connection):
        page.goto(live_server.url + path)
        widths[path] = _overflow(page)
        if path == f"/connections/{connection.pk}/":
            screenshot(page, "14-connection-mobile", full_page=True)
        if path == "/alerts/":
            screenshot(page, "14-alerts-mobile", full_page=True)
        if path == "/audiences/new/":
            page.click("text=+ Condition")  # a condition row: field, operator and value
            widths[path + " with a condition"] = _overflow(page)
            screenshot(page, "14-audience-builder-mobile", full_page=True)
    assert widths == dict.fromkeys(widths, PHONE["width"])
    header = page.locator("header.top").bounding_box()
    assert header["width"] == PHONE["width"]
