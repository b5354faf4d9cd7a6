"""A load knows whether its connection's previous copy is in the DEFAULT partition, so its
swap reads that partition only after taking its turn (ingestion/partitions.py)."""

from django.db import migrations, models


def mark_loads_under_way(apps, schema_editor):
    """A load under way during the upgrade: its previous copy is DEFAULT rows if the
    connection has some and no partition of its own."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """UPDATE ingestion_recordload l SET from_default = true
            WHERE EXISTS (SELECT 1 FROM ingestion_ingestedrecord_default d
                          WHERE d.connection_id = l.connection_id)
            AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'ingestion_ingestedrecord'::regclass
                AND pg_get_expr(c.relpartbound, c.oid)
                    = format('FOR VALUES IN (''%s'')', l.connection_id))"""
        )


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0011_record_facets_per_object")]

    operations = [
        migrations.AddField(
            model_name="recordload",
            name="from_default",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_loads_under_way, migrations.RunPython.noop),
    ]
