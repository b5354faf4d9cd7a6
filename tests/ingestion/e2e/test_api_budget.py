"""The API budget: with a small daily allocation, the initial sync pauses at the ceiling, makes
no call past it, resumes after the day rolls over and finishes with complete data."""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from connections.models import ApiUsage, Connection, OrgUsage
from ingestion.models import SyncRun
from ingestion.services.schedule import schedule_tick
from ingestion.services.sync import sync_run_execute
from tests.connections.emulated import start_emulator
from tests.ingestion.e2e.conftest import ALL_OBJECTS, assert_copy_equals_org, run_sync

DAILY = 30
CEILING = 80  # percent: syncs stop at 24 calls


def _a_day_passes(org, connection):
    """The emulated org's rolling day moves on, and so does ours."""
    org.clock.advance(86_400 + 120)  # a rolling day, plus its one-minute buckets
    Connection.objects.filter(pk=connection.pk).update(
        org_api_checked_at=F("org_api_checked_at") - timedelta(hours=25)
    )
    ApiUsage.objects.filter(connection=connection).update(hour=F("hour") - timedelta(hours=25))
    OrgUsage.objects.update(checked_at=F("checked_at") - timedelta(hours=25))


def test_the_initial_sync_pauses_at_the_ceiling_and_finishes_the_next_day(
    settings, connect_as_factory
):
    live = start_emulator(settings, api_daily_limit=DAILY)
    try:
        connection = connect_as_factory(live)
        Connection.objects.filter(pk=connection.pk).update(
            org_usage_ceiling_percent=CEILING, api_budget_percent=100
        )
        connection.refresh_from_db()

        run = run_sync(connection)

        assert run.status == SyncRun.Status.PAUSED
        assert run.error_code == "org_usage_ceiling"
        assert "ceiling" in run.error_message
        assert "Resumes at" in run.error_message
        used, _ = live.org.api_usage()
        assert used == DAILY * CEILING // 100  # up to the ceiling, and not one call past it

        _a_day_passes(live.org, connection)
        assert schedule_tick(now=run.resume_at + timedelta(seconds=1))["resumed"] == 1
        sync_run_execute(run_id=run.pk, inline=True)
        run.refresh_from_db()

        assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
        for sobject in ALL_OBJECTS:
            assert_copy_equals_org(live, connection, sobject)
        assert live.org.api_usage()[0] <= DAILY * CEILING // 100
    finally:
        live.server.stop()


def test_the_connections_own_share_of_the_allocation_is_enforced(settings, connect_as_factory):
    live = start_emulator(settings, api_daily_limit=100)
    try:
        connection = connect_as_factory(live)
        Connection.objects.filter(pk=connection.pk).update(api_budget_percent=10)
        connection.refresh_from_db()
        run = run_sync(connection)
        assert run.status == SyncRun.Status.PAUSED
        assert run.error_code == "api_budget"
        assert run.api_calls == 10
        assert run.resume_at > timezone.now() + timedelta(hours=23)
    finally:
        live.server.stop()
