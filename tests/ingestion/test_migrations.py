"""Data migrations: records stored before a migration come out right after it."""

import pytest
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

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


@pytest.mark.skipif(db.vendor != "postgresql", reason="a PostgreSQL storage setting")
@pytest.mark.django_db
def test_record_documents_are_compressed_with_lz4():
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'ingestion_ingestedrecord'::regclass AND attname = 'data'"
        )
        assert cursor.fetchone()[0] == "l"
