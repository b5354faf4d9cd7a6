"""IngestedRecord gets ``account_sf_id``, the account a Contact, Opportunity or (converted)
Lead belongs to, as a stored generated column, and one B-tree index on it; audiences
migration 0006 drops the three expression indexes on ``data->>'AccountId'`` /
``'ConvertedAccountId'`` it replaces.

Why (issue 16): an index on an expression over ``data`` can never serve an index-only scan,
so counting the contacts at accounts with an open opportunity read every matching contact
from the heap (560K rows, 4.2 s on a 9.6M record copy). The column's index holds the whole
count's key.

Cost on an existing table: adding a stored generated column rewrites the table (every
partition, DEFAULT included) under an ACCESS EXCLUSIVE lock, reading each record's ``data``;
then the index is built: 19 s on 800,000 records, 119 s on 4.0M, so minutes at 10M with syncs
and audience reads waiting (bench/README.md, "Account joins index-only"). Audiences 0006
vacuums the table after it. A load under way (a table not attached yet,
ingestion/partitions.py) gets the column too, or its ATTACH would refuse a table whose
columns differ from the parent's.
SQLite (tests, the demo) rebuilds its table, both ways, which loses the indexes audiences
migration 0004 made there: audiences 0006 builds them again, and so does undoing this.
"""

from django.db import migrations, models

import ingestion.expressions

TABLE = "ingestion_ingestedrecord"
COLUMN = "account_sf_id"


def _loads_under_way(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute('SELECT "table" FROM ingestion_recordload')
        return [table for (table,) in cursor.fetchall()]


def add_to_loads(apps, schema_editor):
    """The parent's column on each load table under way, from the same SQL: ATTACH compares
    the generation expressions, and one re-read from the catalog differs in form."""
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("ingestion", "IngestedRecord")
    definition, params = schema_editor.column_sql(model, model._meta.get_field(COLUMN))
    for table in _loads_under_way(schema_editor):
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {COLUMN} {definition}", params
        )


# As audiences migration 0004 made them on SQLite.
SQLITE_INDEXES = {
    "aud_rec_person_email_idx": """(connection_id, LOWER(JSON_EXTRACT(data, '$."Email"')))""",
    "aud_rec_person_last_name_idx": (
        """(connection_id, LOWER(JSON_EXTRACT(data, '$."LastName"')))"""
    ),
}


def rebuild_sqlite_indexes(apps, schema_editor):
    """Undoing the column rebuilt SQLite's table without them."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, definition in SQLITE_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def drop_from_loads(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _loads_under_way(schema_editor):
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {COLUMN}")


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0006_org_usage"),
        ("ingestion", "0012_record_load_from_default"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, rebuild_sqlite_indexes),
        migrations.AddField(
            model_name="ingestedrecord",
            name="account_sf_id",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(
                        sobject__in=["Contact", "Opportunity"],
                        then=ingestion.expressions.FieldText("AccountId", "data"),
                    ),
                    models.When(
                        sobject="Lead",
                        then=ingestion.expressions.FieldText("ConvertedAccountId", "data"),
                    ),
                ),
                output_field=models.TextField(null=True),
            ),
        ),
        migrations.RunPython(add_to_loads, drop_from_loads),
        migrations.AddIndex(
            model_name="ingestedrecord",
            index=models.Index(
                condition=models.Q(("account_sf_id__isnull", False), ("is_deleted", False)),
                fields=["connection", "sobject", "account_sf_id"],
                name="ingested_record_account_idx",
            ),
        ),
    ]
