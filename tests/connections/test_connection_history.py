"""The connection page's sync history: recent runs in words, and 30-day charts drawn as SVG."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.charts import bar_chart, nice_ceiling
from connections.models import ApiUsage
from ingestion.models import SyncRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, world):
    client.force_login(world["alice"])
    connection = world["acme_connection"]
    connection.org_api_max = 15_000  # budget: 50% = 7,500 calls a day
    connection.initial_sync_completed_at = timezone.now() - timedelta(days=3)
    connection.save()
    return client, connection


def _html(client, connection) -> str:
    return client.get(f"/connections/{connection.pk}/").content.decode()


def test_history_lists_runs_with_kind_trigger_status_duration_and_problems_in_words(
    page, sync_run_factory
):
    client, connection = page
    start = timezone.now() - timedelta(hours=1)
    sync_run_factory(
        connection,
        kind=SyncRun.Kind.INCREMENTAL,
        trigger=SyncRun.Trigger.SCHEDULE,
        status=SyncRun.Status.PARTIAL,
        started_at=start,
        finished_at=start + timedelta(seconds=95),
        records_written=1_234,
        api_calls=17,
        error_code="objects_skipped",
        error_message="Campaign: INSUFFICIENT_ACCESS: insufficient access rights on object id",
    )
    html = _html(client, connection)
    row = html[html.index('id="run-history"') :].split("</tr>")[1]
    for text in ("Incremental", "Schedule", "Partial", "1 min 35 s", "1,234", "17"):
        assert text in row, text
    assert "Some objects could not be read" in row
    assert "Campaign: insufficient access rights" in row
    assert "INSUFFICIENT_ACCESS" not in row


def test_a_budget_pause_is_told_in_words_not_salesforce_codes(page, sync_run_factory):
    client, connection = page
    sync_run_factory(
        connection,
        status=SyncRun.Status.PAUSED,
        error_code="daily_limit",
        error_message="TotalRequests Limit exceeded. Resumes at 2026-01-01 10:00 UTC.",
        resume_at=timezone.now() + timedelta(hours=2),
    )
    html = _html(client, connection)
    assert "TotalRequests" not in html
    assert "daily allocation is spent" in html
    assert 'id="connection-status" data-live>Paused<' in html  # not a green "Active"
    assert "the paused sync resumes around" in html


def test_a_queued_run_is_labelled_queued_and_sync_now_is_disabled(page, sync_run_factory):
    client, connection = page
    sync_run_factory(connection, status=SyncRun.Status.QUEUED)
    html = _html(client, connection)
    assert "<strong>Queued:</strong>" in html
    assert "Last finished sync:</strong>\n        none yet" in html
    button = html[html.index('id="sync-now"') :].split(">")[0]
    assert "disabled" in button
    assert 'data-active="true"' in html


def test_with_no_run_active_sync_now_is_enabled_and_the_page_does_not_refresh(page):
    client, connection = page
    html = _html(client, connection)
    button = html[html.index('id="sync-now"') :].split(">")[0]
    assert "disabled" not in button
    assert 'data-active="false"' in html
    assert "<script>" not in html  # no inline script: the refresher is a static file
    assert "js/connection.js" in html


def test_charts_draw_records_and_api_calls_per_day_against_the_budget(page, sync_run_factory):
    client, connection = page
    now = timezone.now()
    sync_run_factory(connection, status="succeeded", records_written=5_000)
    hour = now.replace(minute=0, second=0, microsecond=0)
    ApiUsage.objects.create(connection=connection, hour=hour - timedelta(days=2), calls=9_000)
    ApiUsage.objects.create(connection=connection, hour=hour, calls=300)

    html = _html(client, connection)

    records = html[html.index('id="records-chart"') :].split("</svg>")[0]
    assert records.count("<rect") == 30
    assert f'data-day="{now:%Y-%m-%d}" data-value="5000"' in records
    calls = html[html.index('id="calls-chart"') :].split("</svg>")[0]
    assert 'class="limit"' in calls
    assert "budget 7.5k/day" in calls
    assert calls.count('class="bar over"') == 1  # the 9,000-call day went past the budget
    assert "cdn" not in html.lower()


def test_bar_heights_scale_to_the_tallest_bar_or_the_limit():
    from datetime import date

    chart = bar_chart({date(2026, 1, 1): 50, date(2026, 1, 2): 100}, limit=200)
    low, high = chart.bars
    assert high.height == pytest.approx(low.height * 2)
    assert chart.limit_y < high.y  # the limit line sits above the tallest bar
    assert [nice_ceiling(v) for v in (0, 7, 30, 101, 7_500)] == [1, 10, 50, 200, 10_000]


def test_lists_of_connections_show_what_each_is_doing(page, sync_run_factory, world):
    client, connection = page
    sync_run_factory(connection, status=SyncRun.Status.PAUSED, error_code="api_budget")
    for url in ("/connections/", f"/connections/w/{world['acme'].slug}/"):
        html = client.get(url).content.decode()
        assert '<span class="badge badge-warn">Paused</span>' in html, url
        assert ">Active<" not in html, url
