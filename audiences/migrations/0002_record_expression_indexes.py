"""Expression indexes on IngestedRecord for the audience filter compiler, PostgreSQL only.

The compiler joins people to accounts and opportunities through ``data->>'AccountId'`` and
matches CSV rows by ``lower(data->>'Email')``; without these, each of those is a scan of every
contact. Partial on ``sobject`` so other objects' writes pay nothing, and small: one text key
per row. Measured with bench/audience_size.py (see README "Audiences"). SQLite gets none: it
is the embedded demo database, not the one that holds 800,000-record orgs.
"""

from django.db import migrations

TABLE = "ingestion_ingestedrecord"
INDEXES = {
    "aud_rec_contact_account_idx": "(connection_id, (data ->> 'AccountId')) "
    "WHERE sobject = 'Contact'",
    "aud_rec_opportunity_account_idx": "(connection_id, (data ->> 'AccountId')) "
    "WHERE sobject = 'Opportunity'",
    "aud_rec_lead_account_idx": "(connection_id, (data ->> 'ConvertedAccountId')) "
    "WHERE sobject = 'Lead'",
    "aud_rec_person_email_idx": "(connection_id, lower(data ->> 'Email')) "
    "WHERE sobject IN ('Contact', 'Lead')",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("audiences", "0001_initial"),
        ("ingestion", "0002_record_data_gin_index"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
