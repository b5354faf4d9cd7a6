"""Expression indexes on IngestedRecord for the audience filter compiler, PostgreSQL only.

The compiler joins people to accounts and opportunities through ``data->>'AccountId'``,
filters on ``data->>'CreatedDate'``, and matches CSV rows by ``lower(data->>'Email')``; without
these, each of those is a scan of every contact or lead. Partial on ``sobject`` so other objects' writes pay nothing, and small: one text key
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
    # "Created in the last N days" is the most common date filter on people and companies.
    "aud_rec_created_idx": "(connection_id, sobject, (data ->> 'CreatedDate')) "
    "WHERE sobject IN ('Account', 'Contact', 'Lead')",
    "aud_rec_person_email_idx": "(connection_id, lower(data ->> 'Email')) "
    "WHERE sobject IN ('Contact', 'Lead')",
}

# Whole-table statistics on the same expressions (PostgreSQL 14+). The planner does not use a
# partial index's statistics for selectivity, and without them it guessed 1,503 contacts per
# account (the default 200 distinct values) and hash-joined a scan of every contact for
# "contacts at accounts with an open opportunity over 50,000": 617 ms; with them, 124 ms.
STATISTICS = {
    "aud_rec_account_stats": "((data ->> 'AccountId'))",
    "aud_rec_converted_account_stats": "((data ->> 'ConvertedAccountId'))",
    "aud_rec_created_stats": "((data ->> 'CreatedDate'))",
    "aud_rec_amount_stats": "((data -> 'Amount'))",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")
    if schema_editor.connection.pg_version >= 140000:
        for name, expression in STATISTICS.items():
            schema_editor.execute(
                f"CREATE STATISTICS IF NOT EXISTS {name} ON {expression} FROM {TABLE}"
            )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for name in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("audiences", "0001_initial"),
        ("ingestion", "0002_record_data_gin_index"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
