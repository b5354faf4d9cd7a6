"""The connection settings page: members see everything about their connection, others 404."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import ApiUsage, Connection
from ingestion.models import ObjectCursor, SyncRun

CHECKLIST = {
    "checked_at": "2026-01-01T00:00:00+00:00",
    "result": "fail",
    "items": [
        {"key": "api_enabled", "label": "API Enabled", "status": "pass", "detail": "ok", "fix": ""},
        {
            "key": "view_setup",
            "label": "View Setup and Configuration",
            "status": "fail",
            "detail": "The user lacks it.",
            "fix": "Enable View Setup and Configuration on the profile.",
        },
        {
            "key": "text_areas",
            "label": "Text fields",
            "status": "warn",
            "detail": "Account.Notes__c is a text area.",
            "fix": "Change it to Text.",
        },
    ],
}


@pytest.fixture
def page(client, world):
    connection = world["acme_connection"]
    connection.preflight = CHECKLIST
    connection.org_api_used, connection.org_api_max = 4_520, 15_000
    connection.org_api_checked_at = timezone.now()
    connection.initial_sync_started_at = timezone.now() - timedelta(hours=1)
    connection.save()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    ApiUsage.objects.create(connection=connection, hour=hour, calls=1_234)
    ObjectCursor.objects.create(
        connection=connection, sobject="Contact", estimated_total=4_000, records_ingested=1_000
    )
    SyncRun.objects.create(
        connection=connection, kind="initial", trigger="customer", status="running"
    )
    client.force_login(world["alice"])
    return client, connection


def test_a_member_sees_status_org_user_environment_and_actions(page):
    client, connection = page
    response = client.get(f"/connections/{connection.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        connection.label,
        connection.org_id,
        connection.sf_username,
        "Production",
        "Syncing",  # the badge says what is happening: a run is going
        "Sync now",
        "Check again",
        "Reconnect",
        "Disconnect",
    ):
        assert text in html, text


def test_the_checklist_shows_each_item_with_what_to_do(page):
    client, connection = page
    html = client.get(f"/connections/{connection.pk}/").content.decode()
    assert 'class="fail" data-key="view_setup"' in html
    assert 'class="warn" data-key="text_areas"' in html
    assert "Enable View Setup and Configuration on the profile." in html
    assert "Account.Notes__c is a text area." in html


def test_usage_today_is_shown_against_the_budget(page):
    client, connection = page
    html = client.get(f"/connections/{connection.pk}/").content.decode()
    assert "1,234" in html
    assert "7,500" in html  # 50% of 15,000
    assert "4,520 of 15,000" in html


def test_initial_ingestion_progress_is_shown_per_object(page):
    client, connection = page
    html = client.get(f"/connections/{connection.pk}/").content.decode()
    row = html[html.index("<td>Contact</td>") :].split("</tr>")[0]
    assert "1,000" in row
    assert "4,000" in row
    assert "25%" in row
    assert "<td>Lead</td>" in html
    assert "not started" in html
    assert "Time remaining" in html
    assert "Initial load" in html  # the last run


def test_the_error_banner_says_the_cause_and_the_fix(page):
    client, connection = page
    Connection.objects.filter(pk=connection.pk).update(
        status="needs_reauth",
        status_reason="inactive_user",
        status_message="The Salesforce user this connection signs in as is inactive.",
        status_fix="Ask your Salesforce admin to reactivate the user.",
    )
    html = client.get(f"/connections/{connection.pk}/").content.decode()
    assert 'id="status-banner"' in html
    assert "Syncing is stopped until you reconnect." in html
    assert "is inactive." in html
    assert "Ask your Salesforce admin to reactivate the user." in html


def test_anyone_outside_the_workspace_gets_404(client, world):
    client.force_login(world["bob"])
    connection = world["acme_connection"]
    for url in (
        f"/connections/{connection.pk}/",
        f"/connections/{connection.pk}/disconnect/",
        f"/connections/w/{world['acme'].slug}/",
    ):
        assert client.get(url).status_code == 404, url
    for url in ("sync", "preflight", "reconnect", "settings", "disconnect"):
        assert client.post(f"/connections/{connection.pk}/{url}/").status_code == 404, url
    assert client.post(f"/connections/w/{world['acme'].slug}/connect/").status_code == 404


def test_the_signed_out_are_sent_to_sign_in(client, world):
    response = client.get(f"/connections/{world['acme_connection'].pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_workspace_page_lists_its_connections_and_the_connect_form(client, world):
    client.force_login(world["alice"])
    html = client.get(f"/connections/w/{world['acme'].slug}/").content.decode()
    assert "Acme production" in html
    assert "Globex production" not in html
    assert 'name="environment"' in html
    assert "csrfmiddlewaretoken" in html
    assert "dedicated integration user" in html


def test_the_page_never_shows_a_token(page):
    client, connection = page
    html = client.get(f"/connections/{connection.pk}/").content.decode()
    assert connection.access_token not in html
    assert connection.refresh_token not in html
