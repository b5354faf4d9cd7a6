"""Indexes that CSV matching looks people up by: lower-cased Email (SQLite; PostgreSQL has had
it since 0002) and lower-cased LastName (both).

Matching a 120,000-row list looks up its emails and, for rows no email matched, its last
names, 2,000 at a time; without an index each lookup scans every contact and lead
(bench/site_load.py). SQLite's indexes spell the expression exactly as the compiler's
``FieldText`` writes it (a literal JSON path), or SQLite would not use them.
"""

from django.db import migrations

TABLE = "ingestion_ingestedrecord"
POSTGRES = {
    "aud_rec_person_last_name_idx": "(connection_id, lower(data ->> 'LastName')) "
    "WHERE sobject IN ('Contact', 'Lead')",
}
SQLITE = {
    "aud_rec_person_email_idx": """(connection_id, LOWER(JSON_EXTRACT(data, '$."Email"')))""",
    "aud_rec_person_last_name_idx": (
        """(connection_id, LOWER(JSON_EXTRACT(data, '$."LastName"')))"""
    ),
}


def _indexes(schema_editor) -> dict[str, str]:
    vendor = schema_editor.connection.vendor
    return {"postgresql": POSTGRES, "sqlite": SQLITE}.get(vendor, {})


def create_indexes(apps, schema_editor):
    for name, definition in _indexes(schema_editor).items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def drop_indexes(apps, schema_editor):
    for name in _indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("audiences", "0003_csv_list_delimiter_matching")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
