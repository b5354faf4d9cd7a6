"""The facets GIN index becomes one partial index per object criteria filter on (PostgreSQL).

Audience criteria always filter on one object's live records (``sobject = 'Account' AND NOT
is_deleted``), but the one GIN index over every record's facets answers
``facets @> '{"Industry": "Technology"}'`` with the leads of that industry as well: on a 10M
record org, 100,000 Technology leads fetched from the heap to find 36,000 Technology accounts,
and the planner, whose estimate for containment is a guess, AND-ed that bitmap with every
account of the connection (1.25M rows, lossy pages). A partial index per object holds only
that object's live records: it answers the containment alone, with no other object's rows.
Each record is written to at most one of them, so a load builds no more than before (Campaign
and objects criteria never filter on, none). Created on the partitioned parent, so every
partition gets them, and ``ingestion.partitions`` builds them on each load table.
Measured with bench/audience_size.py at 10M records (bench/README.md, "Audiences").
"""

from django.db import migrations

TABLE = "ingestion_ingestedrecord"
OLD_INDEX = "ingested_record_facets_gin"
# The objects criteria filter on (audiences.criteria FILTER_OBJECTS and RELATED_OBJECTS).
OBJECTS = {
    "account": "Account",
    "contact": "Contact",
    "lead": "Lead",
    "opportunity": "Opportunity",
    "campaign_member": "CampaignMember",
}


def _name(key: str) -> str:
    return f"ingested_record_{key}_facets_gin"


def per_object(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for key, sobject in OBJECTS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_name(key)} ON {TABLE} USING gin "
            f"(facets jsonb_path_ops) WHERE sobject = '{sobject}' AND NOT is_deleted"
        )
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")


def one_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {OLD_INDEX} ON {TABLE} USING gin (facets jsonb_path_ops)"
    )
    for key in OBJECTS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_name(key)}")


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0010_record_partitions")]

    operations = [migrations.RunPython(per_object, one_index)]
