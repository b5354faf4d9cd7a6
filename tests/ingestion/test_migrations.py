"""Data migrations: records stored before a migration come out right after it."""

import pytest
from django.db import IntegrityError, transaction
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ingestion.engine.state import Checkpoint, Step
from ingestion.models import ObjectCursor

BEFORE = [("ingestion", "0004_reconcile_seen_ids")]
AFTER = [("ingestion", "0005_record_facets")]
PLAN = {
    "fields": {
        "Id": {"type": "id"},
        "Status": {"type": "picklist"},
        "IsConverted": {"type": "boolean"},
        "Email": {"type": "email"},
    }
}


def _migrate(targets):
    executor = MigrationExecutor(db)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_records_stored_before_facets_existed_get_them_from_their_field_plan(connection):
    apps = _migrate(BEFORE)
    apps.get_model("ingestion", "ObjectCursor").objects.create(
        connection_id=connection.pk, sobject="Lead", field_plan=PLAN
    )
    now = timezone.now()
    data = {"Id": "00Q000000000001AAA", "Status": "Open", "IsConverted": False, "Email": None}
    apps.get_model("ingestion", "IngestedRecord").objects.create(
        connection_id=connection.pk,
        sobject="Lead",
        sf_id=data["Id"],
        data=data,
        system_modstamp=now,
        first_seen_at=now,
        last_seen_at=now,
    )
    try:
        apps = _migrate(AFTER)
        record = apps.get_model("ingestion", "IngestedRecord").objects.get()
        assert record.facets == {"Status": "Open", "IsConverted": False}
    finally:
        _migrate(MigrationExecutor(db).loader.graph.leaf_nodes())


STATE_BEFORE = [("ingestion", "0006_record_data_lz4")]
STATE_AFTER = [("ingestion", "0007_cursor_state_columns")]
# A cursor half-way through a backfill pass, as last_counts stored it.
OLD_STATE = {
    "phase": "blobs",
    "job_complete": True,
    "job_failures": 1,
    "backfill_fields": ["Tier__c"],
    "pass": {"purpose": "backfill", "fields": ["Tier__c"], "started": "2026-01-01T00:00:00+00:00"},
}


@pytest.mark.django_db(transaction=True)
def test_cursor_state_moves_out_of_last_counts_into_named_columns_and_back(connection):
    apps = _migrate(STATE_BEFORE)
    cursors = apps.get_model("ingestion", "ObjectCursor").objects
    cursors.create(
        connection_id=connection.pk,
        sobject="Contact",
        job_id="750000000000000001",
        locator="6",
        last_counts=OLD_STATE,
    )
    cursors.create(connection_id=connection.pk, sobject="Lead", last_counts={})
    try:
        apps = _migrate(STATE_AFTER)
        cursors = apps.get_model("ingestion", "ObjectCursor").objects
        contact, lead = cursors.get(sobject="Contact"), cursors.get(sobject="Lead")
        assert (contact.phase, contact.job_complete, contact.job_failures) == ("blobs", True, 1)
        assert contact.backfill_fields == ["Tier__c"]
        assert contact.pass_in_flight == OLD_STATE["pass"]
        assert (lead.phase, lead.job_complete, lead.job_failures) == ("rows", False, 0)
        assert (lead.backfill_fields, lead.pass_in_flight) == ([], None)
        # The engine reads the converted row (with today's columns): the pass's job is done;
        # read on from locator 6.
        _migrate(MigrationExecutor(db).loader.graph.leaf_nodes())
        checkpoint = Checkpoint.load(ObjectCursor.objects.get(pk=contact.pk))
        assert (checkpoint.step, checkpoint.locator) == (Step.READ_PASS_PAGE, "6")
        assert checkpoint.pass_in_flight.fields == ("Tier__c",)

        apps = _migrate(STATE_BEFORE)
        cursors = apps.get_model("ingestion", "ObjectCursor").objects
        assert cursors.get(sobject="Contact").last_counts == OLD_STATE
        assert cursors.get(sobject="Lead").last_counts == {}
    finally:
        _migrate(MigrationExecutor(db).loader.graph.leaf_nodes())


@pytest.mark.skipif(db.vendor != "postgresql", reason="a PostgreSQL storage setting")
@pytest.mark.django_db
def test_record_documents_are_compressed_with_lz4():
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'ingestion_ingestedrecord'::regclass AND attname = 'data'"
        )
        assert cursor.fetchone()[0] == "l"


PARTITION_BEFORE = [("ingestion", "0009_data_purge")]
PARTITION_AFTER = [("ingestion", "0010_record_partitions")]


@pytest.mark.skipif(db.vendor != "postgresql", reason="PostgreSQL partitions")
@pytest.mark.django_db(transaction=True)
def test_a_populated_record_table_is_partitioned_by_connection(connection_factory):
    from ingestion import partitions

    apps = _migrate(PARTITION_BEFORE)
    first, second = connection_factory(), connection_factory()
    now = timezone.now()
    records = apps.get_model("ingestion", "IngestedRecord").objects
    stored = {
        records.create(
            connection_id=owner.pk,
            sobject="Contact",
            sf_id=f"003{n:015d}",
            data={"Email": f"p{n}@acme.example"},
            system_modstamp=now,
            first_seen_at=now,
            last_seen_at=now,
        ).pk: owner.pk
        for n, owner in enumerate([first, first, second])
    }
    try:
        # The model as of 0010: today's has columns added since.
        IngestedRecord = _migrate(PARTITION_AFTER).get_model("ingestion", "IngestedRecord")

        assert dict(IngestedRecord.objects.values_list("id", "connection_id")) == stored
        for owner in (first, second):
            assert partitions.partition_of(owner.pk) is not None
        # The sequence carries on after the copied ids, and the unique key holds.
        new = IngestedRecord.objects.create(
            connection_id=second.pk,
            sobject="Contact",
            sf_id="003NEW",
            system_modstamp=now,
            first_seen_at=now,
            last_seen_at=now,
        )
        assert new.pk > max(stored)
        with pytest.raises(IntegrityError), transaction.atomic():
            IngestedRecord.objects.create(
                connection_id=second.pk,
                sobject="Contact",
                sf_id="003NEW",
                system_modstamp=now,
                first_seen_at=now,
                last_seen_at=now,
            )
        # And back: a plain table again, with the same rows.
        _migrate(PARTITION_BEFORE)
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT relkind FROM pg_class WHERE relname = 'ingestion_ingestedrecord'"
            )
            assert cursor.fetchone() == ("r",)
            cursor.execute("SELECT count(*) FROM ingestion_ingestedrecord")
            assert cursor.fetchone() == (4,)
    finally:
        _migrate(MigrationExecutor(db).loader.graph.leaf_nodes())


ACCOUNT_BEFORE = [
    ("ingestion", "0012_record_load_from_default"),
    ("audiences", "0005_record_fk_without_constraint"),
]
ACCOUNT_AFTER = [
    ("ingestion", "0013_record_account_sf_id"),
    ("audiences", "0006_record_account_joins"),
]
RECORD_TABLE = "ingestion_ingestedrecord"


def _record_indexes():
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [RECORD_TABLE])
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
                [RECORD_TABLE],
            )
        return {name for (name,) in cursor.fetchall()}


def _load_under_way(apps, connection, now):
    """A first load as 0012's code began it: a table like the record table, with a row."""
    table = f"{RECORD_TABLE}_c{connection.pk}_0a0b0c0d"
    with db.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {table} (LIKE {RECORD_TABLE} INCLUDING DEFAULTS "
            "INCLUDING COMPRESSION INCLUDING STORAGE)"
        )
        cursor.execute(
            f"INSERT INTO {table} (connection_id, sobject, sf_id, data, facets, "
            "system_modstamp, is_deleted, first_seen_at, last_seen_at) VALUES "
            "(%s, 'Contact', '003LOADED', '{\"AccountId\": \"001B\"}', '{}', %s, false, %s, %s)",
            [connection.pk, now, now, now],
        )
    apps.get_model("ingestion", "RecordLoad").objects.create(
        connection_id=connection.pk, table=table
    )


@pytest.mark.django_db(transaction=True)
def test_stored_records_get_their_account_column_and_its_index(connection_factory):
    from ingestion import partitions

    apps = _migrate(ACCOUNT_BEFORE)
    first, loading = connection_factory(), connection_factory()
    now = timezone.now()
    records = apps.get_model("ingestion", "IngestedRecord").objects
    for sobject, sf_id, data in [
        ("Contact", "003A", {"AccountId": "001A"}),
        ("Lead", "00QA", {"ConvertedAccountId": "001A"}),
        ("Account", "001A", {"Name": "Acme"}),
    ]:
        records.create(
            connection_id=first.pk,
            sobject=sobject,
            sf_id=sf_id,
            data=data,
            system_modstamp=now,
            first_seen_at=now,
            last_seen_at=now,
        )
    postgres = db.vendor == "postgresql"
    if postgres:
        _load_under_way(apps, loading, now)
    try:
        _migrate(ACCOUNT_AFTER)
        from ingestion.models import IngestedRecord

        stored = IngestedRecord.objects.values_list("sf_id", "account_sf_id")
        assert dict(stored) == {"003A": "001A", "00QA": "001A", "001A": None}
        indexes = _record_indexes()
        assert "ingested_record_account_idx" in indexes
        if postgres:
            # The expression indexes the column replaces are gone; the load under way got the
            # column, so it attaches.
            assert not indexes & {"aud_rec_contact_account_idx", "aud_rec_lead_account_idx"}
            assert "aud_rec_opportunity_account_idx" not in indexes
            # Vacuumed after the rewrite: counts can read the index alone.
            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT relallvisible FROM pg_class WHERE relname = %s",
                    [f"{RECORD_TABLE}_default"],
                )
                assert cursor.fetchone()[0] > 0
            with transaction.atomic():
                assert partitions.load_finish(connection_id=loading.pk)
            loaded = IngestedRecord.objects.get(connection=loading)
            assert loaded.account_sf_id == "001B"
        else:
            # SQLite rebuilt the table for the column: 0004's CSV-matching indexes are back.
            assert {"aud_rec_person_email_idx", "aud_rec_person_last_name_idx"} <= indexes

        _migrate(ACCOUNT_BEFORE)
        indexes = _record_indexes()
        assert "ingested_record_account_idx" not in indexes
        if postgres:
            assert "aud_rec_contact_account_idx" in indexes
        else:
            assert {"aud_rec_person_email_idx", "aud_rec_person_last_name_idx"} <= indexes
    finally:
        _migrate(MigrationExecutor(db).loader.graph.leaf_nodes())
        if postgres:
            partitions.partition_drop(connection_id=loading.pk)


KEY_BEFORE = [("ingestion", "0014_reconcile_seen_ids_without_constraint")]
KEY_AFTER = [("ingestion", "0015_record_key_with_object")]


def _primary_key():
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'p'",
            [RECORD_TABLE],
        )
        return cursor.fetchone()[0]


def _kind(table):
    with db.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def _load_by_object(connection, sf_id, now):
    """A load as ingestion.partitions begins it now (partitioned by object), with a row."""
    from ingestion import partitions

    table = partitions.load_begin(connection=connection)
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (connection_id, sobject, sf_id, data, facets, "
            "system_modstamp, is_deleted, first_seen_at, last_seen_at) VALUES "
            "(%s, 'Contact', %s, '{}', '{}', %s, false, %s, %s)",
            [connection.pk, sf_id, now, now, now],
        )
    return table


@pytest.mark.django_db(transaction=True)
def test_the_record_key_takes_the_object_and_gives_it_back(connection_factory):
    """0015 lets a connection's partition be partitioned by object; undoing it turns such
    partitions, and loads under way, back into one table each, rows and all."""
    if db.vendor != "postgresql":
        pytest.skip("PostgreSQL's key; SQLite has no partitions")
    from ingestion import partitions
    from ingestion.models import IngestedRecord

    _migrate(KEY_BEFORE)
    assert _primary_key() == "PRIMARY KEY (id, connection_id)"
    attached, loading = connection_factory(), connection_factory()
    now = timezone.now()
    try:
        _migrate(KEY_AFTER)
        assert _primary_key() == "PRIMARY KEY (id, connection_id, sobject)"
        _load_by_object(attached, "003ATTACHED", now)
        with transaction.atomic():
            assert partitions.load_finish(connection_id=attached.pk)
        load = _load_by_object(loading, "003LOADING", now)
        partition = partitions.partition_of(attached.pk)
        assert _kind(partition) == _kind(load) == "p"

        _migrate(KEY_BEFORE)
        assert _primary_key() == "PRIMARY KEY (id, connection_id)"
        assert partitions.partition_of(attached.pk) == partition
        assert _kind(partition) == _kind(load) == "r"
        assert IngestedRecord.objects.get(connection=attached).sf_id == "003ATTACHED"
        # The load under way, one table again, finishes as a load begun before 0015 does.
        with transaction.atomic():
            assert partitions.load_finish(connection_id=loading.pk)
        assert IngestedRecord.objects.get(connection=loading).sf_id == "003LOADING"
    finally:
        _migrate(MigrationExecutor(db).loader.graph.leaf_nodes())
        for connection in (attached, loading):
            partitions.partition_drop(connection_id=connection.pk)
