"""Reconciliation: hard deletes found, formula fields refreshed, new fields backfilled."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from ingestion.engine.records import stage_seen_ids
from ingestion.models import IngestedRecord, ObjectCursor, ReconcileSeenId, SyncRun
from ingestion.services.schedule import reconcile_due
from tests.ingestion.fake_salesforce import field_def
from tests.ingestion.test_sync_engine import _run, _seed


def _reconcile(connection, config):
    return _run(connection, kind=SyncRun.Kind.RECONCILE, config=config)


def test_a_purged_record_is_marked_deleted_with_the_time_found(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    purged = list(fake_org.records["Contact"])[3]
    soft = list(fake_org.records["Contact"])[4]
    fake_org.purge("Contact", purged)
    fake_org.delete("Contact", soft)  # still in the recycle bin: queryAll returns it
    before = timezone.now()

    run = _reconcile(sync_connection, engine_config)

    assert run.status == SyncRun.Status.SUCCEEDED
    record = IngestedRecord.objects.get(sf_id=purged)
    assert record.is_deleted
    assert record.deleted_at >= before
    assert not IngestedRecord.objects.get(sf_id=soft).is_deleted  # the next sync marks it
    assert run.records_deleted == 1
    assert run.api_calls_by_kind["bulk_create"] == 2  # one Id job per object
    assert ReconcileSeenId.objects.count() == 0
    assert ObjectCursor.objects.get(sobject="Contact").last_reconciled_at is not None


def test_records_first_seen_after_the_reconciliation_started_are_not_judged(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    newcomer = IngestedRecord.objects.filter(sobject="Contact").first()
    IngestedRecord.objects.filter(pk=newcomer.pk).update(
        first_seen_at=timezone.now() + timedelta(minutes=5)
    )
    fake_org.purge("Contact", newcomer.sf_id)
    _reconcile(sync_connection, engine_config)
    assert not IngestedRecord.objects.get(pk=newcomer.pk).is_deleted


def test_formula_fields_are_refreshed_though_systemmodstamp_did_not_move(
    sync_connection, fake_org, engine_config
):
    fake_org.schema["Account"].append(field_def("Score__c", "double", calculated=True))
    _seed(fake_org)
    account = next(iter(fake_org.records["Account"]))
    fake_org.records["Account"][account].update(
        Score__c=1.0, SystemModstamp="2025-06-01T00:00:00.000+0000"
    )
    _run(sync_connection, config=engine_config)
    assert IngestedRecord.objects.get(sf_id=account).data["Score__c"] == 1.0
    fake_org.records["Account"][account]["Score__c"] = 42.0  # a parent changed the formula

    _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
    assert IngestedRecord.objects.get(sf_id=account).data["Score__c"] == 1.0  # invisible so far
    _reconcile(sync_connection, engine_config)
    assert IngestedRecord.objects.get(sf_id=account).data["Score__c"] == 42.0
    assert ObjectCursor.objects.get(sobject="Account").last_formula_refresh_at is not None


def test_a_new_field_is_backfilled_on_the_next_run_without_a_full_resync(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    fake_org.schema["Contact"].append(field_def("Tier__c", "picklist"))
    for n, record in enumerate(fake_org.records["Contact"].values()):
        record["Tier__c"] = f"T{n % 3}"  # values exist; SystemModstamp did not move
    fake_org.calls.clear()

    run = _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)

    for sf_id, source in fake_org.records["Contact"].items():
        assert IngestedRecord.objects.get(sf_id=sf_id).data["Tier__c"] == source["Tier__c"]
    assert run.api_calls_by_kind.get("bulk_create") == 1  # Id + Tier__c, Contact only
    cursor = ObjectCursor.objects.get(sobject="Contact")
    assert cursor.backfill_fields == []
    assert cursor.pass_in_flight is None


def test_a_field_that_disappears_stops_being_read_and_is_noted(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    fake_org.schema["Contact"] = [f for f in fake_org.schema["Contact"] if f["name"] != "Email"]
    fake_org.upsert("Contact", Name="After the change")
    run = _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
    assert run.status == SyncRun.Status.SUCCEEDED
    cursor = ObjectCursor.objects.get(sobject="Contact")
    assert cursor.removed_fields == ["Email"]
    assert "Email" not in cursor.field_plan["bulk_fields"]


def test_reconciliation_is_queued_daily_for_idle_loaded_connections(
    sync_connection, fake_org, engine_config, connection_factory
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    connection_factory()  # initial load not complete: nothing to reconcile yet
    assert reconcile_due() == 1
    run = SyncRun.objects.filter(kind=SyncRun.Kind.RECONCILE).get()
    assert run.trigger == SyncRun.Trigger.SCHEDULE
    from ingestion.services.sync import sync_run_execute

    sync_run_execute(run_id=run.pk, inline=True, config=engine_config)
    assert reconcile_due() == 0
    assert reconcile_due(now=timezone.now() + timedelta(hours=25)) == 1


def test_a_reconciliation_page_stages_exactly_its_ids(sync_connection, engine_config):
    """COPY on PostgreSQL, the ORM elsewhere: the same rows, whatever an Id holds."""
    from ingestion.engine.passes import apply_pass_page
    from ingestion.engine.state import PassState, Purpose

    run = SyncRun.objects.create(connection=sync_connection, kind=SyncRun.Kind.RECONCILE)
    state = PassState(Purpose.RECONCILE, (), timezone.now())
    ids = ["003000000000001AAA", "003000000000002AAA", "003\t\\odd\nId"]
    read, _ = apply_pass_page(
        connection_id=sync_connection.pk,
        sobject="Contact",
        run_id=run.pk,
        state=state,
        rows=[{"Id": sf_id} for sf_id in ids],
    )
    assert read == 3
    staged = ReconcileSeenId.objects.filter(run=run).values_list("sobject", "sf_id")
    assert sorted(staged) == sorted(("Contact", sf_id) for sf_id in ids)


def test_seen_ids_carry_no_foreign_key_constraint_to_check_at_each_commit(db):
    """Each staged Id would queue a deferred check of its run, run at the page's commit:
    0.35 s per 100,000 Ids, 35 s of a 10M-record reconciliation (bench/README.md)."""
    table = ReconcileSeenId._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert not [name for name, c in constraints.items() if c["foreign_key"]]


def test_a_deleted_run_takes_its_seen_ids_with_it(sync_connection):
    run = SyncRun.objects.create(
        connection=sync_connection,
        kind=SyncRun.Kind.RECONCILE,
        trigger=SyncRun.Trigger.COMMAND,
        status=SyncRun.Status.FAILED,
    )
    other = SyncRun.objects.create(
        connection=sync_connection, kind=SyncRun.Kind.RECONCILE, trigger=SyncRun.Trigger.COMMAND
    )
    for owner in (run, other):
        stage_seen_ids(run_id=owner.pk, sobject="Contact", ids=["003000000000001AAA"])
    run.delete()
    assert list(ReconcileSeenId.objects.values_list("run_id", flat=True)) == [other.pk]
