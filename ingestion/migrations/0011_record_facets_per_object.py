"""The facets GIN index becomes one partial index per object criteria filter on (PostgreSQL).

Audience criteria always filter on one object's live records (``sobject = 'Account' AND NOT
is_deleted``), but the one GIN index over every record's facets answers
``facets @> '{"Industry": "Technology"}'`` with the leads of that industry as well: on a 9.6M
record copy, 130,584 rows for 35,028 Technology accounts, and the planner, whose estimate for
containment is a guess, AND-ed that bitmap with every account of the connection (1.2M rows,
18,436 lossy pages). A partial index per object holds only that object's live records: it
answers the containment alone, with no other object's rows. Each record is written to at most
one of them (Campaign and objects criteria never filter on, to none), so incremental writes
cost no more; a load's end builds five instead of one, each a scan of the load table (the five
took 172 s on the 9.6M copy; load_finish built all the old indexes there in 216 s). Created on
the partitioned parent, so every partition gets them, and ``ingestion.partitions`` builds them
on each load table. Estimates at 10M: bench/README.md, "Audiences at 10M, again".
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
