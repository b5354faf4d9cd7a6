"""Connecting an org loads it: the initial sync queued after the callback runs through
``salesforce_client_for`` and the real client against the emulator, and every API call it
makes is accounted for."""

from django.db.models import Sum

from connections.models import ApiUsage, Connection
from ingestion.models import IngestedRecord, SyncRun
from tests.connections.emulated import connect


def test_the_initial_sync_after_connecting_loads_the_org(
    client, world, emulated, django_capture_on_commit_callbacks
):
    client.force_login(world["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        connect(client, world["acme"], "integration@example.com")

    connection = Connection.objects.get(org_id=emulated.org.org_id)
    run = SyncRun.objects.get(connection=connection)
    assert (run.kind, run.trigger, run.status) == ("initial", "customer", "succeeded")
    assert connection.initial_sync_completed_at is not None
    expected = sum(
        emulated.org.count(sobject, include_deleted=True) for sobject in connection.enabled_objects
    )
    assert IngestedRecord.objects.filter(connection=connection).count() == expected > 0

    counted = emulated.org.counters()["limit_counted_total"]
    recorded = ApiUsage.objects.filter(connection=connection).aggregate(n=Sum("calls"))["n"]
    assert recorded == counted  # every counted call went through the recorder
    assert connection.org_api_used == counted
