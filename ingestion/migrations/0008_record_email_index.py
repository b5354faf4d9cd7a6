"""An index for the admin's exact email and email-domain searches (PostgreSQL only).

Ops look records up by email ("ada@acme.example") or by company domain ("acme.example"); on a
JSON key without an index each lookup read every record (about 90 ms on 80,000 records here,
1.7 s reported on a busy server, and growing with the table). One index on the reversed,
lower-cased email serves both: an exact email is an equality and a domain is a prefix of the
reversed string ("elpmaxe.emca@…", text_pattern_ops makes LIKE 'prefix%' use it). It is
partial (rows with an email only: Contacts and Leads), so other objects' writes do not pay
for it. The expression matches ``ingestion.admin``'s.

Reference: https://www.postgresql.org/docs/current/indexes-opclass.html
"""

from django.db import migrations

NAME = "ingested_record_email_reversed_idx"
EXPRESSION = "reverse(lower(data ->> 'Email'))"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON ingestion_ingestedrecord "
        f"(({EXPRESSION}) text_pattern_ops) WHERE ({EXPRESSION}) IS NOT NULL"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0007_cursor_state_columns")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
