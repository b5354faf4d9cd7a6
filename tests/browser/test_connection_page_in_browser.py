"""A connection in trouble, as its customer sees it: the cause and the fix, the failed check,
and the initial load's progress so far."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import ApiUsage
from connections.services import workspace_create
from ingestion.models import ObjectCursor
from tests.browser.conftest import screenshot
from tests.browser.test_connect_in_browser import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHECKLIST = {
    "result": "fail",
    "items": [
        {
            "key": "session_security",
            "label": "Session security level",
            "status": "pass",
            "detail": "API sessions are accepted.",
            "fix": "",
        },
        {
            "key": "api_enabled",
            "label": "API Enabled",
            "status": "pass",
            "detail": "integration@acme.example has “API Enabled”.",
            "fix": "",
        },
        {
            "key": "object:Campaign",
            "label": "Read access to Campaign",
            "status": "warn",
            "detail": "The connected user cannot read Campaign. It is skipped until it can.",
            "fix": "Give the user Read on Campaign, then click “Check again”.",
        },
    ],
}


def test_a_connection_that_needs_reconnecting_says_why_and_what_to_do(
    live_server, browser_page, user_factory, connection_factory
):
    alice = user_factory("alice@acme.example")
    acme = workspace_create(name="Acme", owner=alice)
    started = timezone.now() - timedelta(hours=2)
    connection = connection_factory(
        acme,
        label="Acme production",
        status="needs_reauth",
        status_reason="token_revoked",
        status_message="Salesforce no longer accepts this connection's authorization: the token "
        "expired or was revoked (for example after a sixth approval of the same user).",
        status_fix="Reconnect. To keep it from happening again, connect with a dedicated "
        "integration user.",
        preflight=CHECKLIST,
        preflight_checked_at=timezone.now(),
        initial_sync_started_at=started,
        org_api_used=41_200,
        org_api_max=100_000,
        org_api_checked_at=timezone.now(),
    )
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    ApiUsage.objects.create(connection=connection, hour=hour, calls=812)
    for sobject, total, done in [
        ("Lead", 30_000, 30_000),
        ("Contact", 30_000, 12_500),
        ("Account", 10_000, 10_000),
    ]:
        ObjectCursor.objects.create(
            connection=connection,
            sobject=sobject,
            estimated_total=total,
            records_ingested=done,
            initial_load_complete=done == total,
        )

    page = browser_page
    _sign_in(page, live_server.url, "alice@acme.example")
    page.goto(f"{live_server.url}/connections/{connection.pk}/")
    screenshot(page, "5-connection-needs-reconnecting", full_page=True)

    banner = page.inner_text("#status-banner")
    assert "Syncing is stopped until you reconnect." in banner
    assert "dedicated integration user" in banner
    assert page.locator("button:has-text('Reconnect')").count() == 1
    assert page.locator("button:has-text('Sync now')").is_disabled()
    assert page.locator("ul.checklist li.warn").count() == 1
    assert "12,500" in page.inner_text("#progress")
