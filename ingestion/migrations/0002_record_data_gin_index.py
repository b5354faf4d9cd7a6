"""A GIN index on IngestedRecord.data, on PostgreSQL only.

Audience filters query the JSONB document; jsonb_path_ops serves containment (@>) and
jsonpath queries with a smaller, faster index than the default operator class. SQLite has no
GIN, so the operation does nothing there; it is not declared on the model for that reason.
"""

from django.db import migrations

INDEX = "ingested_record_data_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("ingestion", "IngestedRecord")._meta.db_table
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin (data jsonb_path_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
