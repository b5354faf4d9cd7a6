"""Audiences join records to accounts through ``IngestedRecord.account_sf_id`` and its index
(ingestion migration 0013), so the three expression indexes of 0002 that served those joins go
(PostgreSQL; undoing this builds them again).

SQLite rebuilt the record table to add that column, which dropped the indexes 0004 made there
(it keeps only those Django's model state knows): they are built again.

Then PostgreSQL's table is vacuumed: adding the column rewrote it, which clears the visibility
map, and without it a count reads every matched row from the heap again; autovacuum would not
come by for a long time (a rewrite counts as no insert or update). 7 s for 4M records here,
against 119 s for ingestion 0013 itself (bench/README.md, "Account joins index-only"). VACUUM
cannot run in a transaction: the migration is not atomic, and each step can be run again.
"""

from django.db import migrations

TABLE = "ingestion_ingestedrecord"
# As 0002 made them.
REPLACED = {
    "aud_rec_contact_account_idx": "(connection_id, (data ->> 'AccountId')) "
    "WHERE sobject = 'Contact'",
    "aud_rec_opportunity_account_idx": "(connection_id, (data ->> 'AccountId')) "
    "WHERE sobject = 'Opportunity'",
    "aud_rec_lead_account_idx": "(connection_id, (data ->> 'ConvertedAccountId')) "
    "WHERE sobject = 'Lead'",
}
# As 0004 made them.
SQLITE = {
    "aud_rec_person_email_idx": """(connection_id, LOWER(JSON_EXTRACT(data, '$."Email"')))""",
    "aud_rec_person_last_name_idx": (
        """(connection_id, LOWER(JSON_EXTRACT(data, '$."LastName"')))"""
    ),
}


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name in REPLACED:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    elif vendor == "sqlite":
        for name, definition in SQLITE.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def vacuum(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"VACUUM (ANALYZE) {TABLE}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in REPLACED.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("audiences", "0005_record_fk_without_constraint"),
        ("ingestion", "0013_record_account_sf_id"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RunPython(vacuum, migrations.RunPython.noop),
    ]
