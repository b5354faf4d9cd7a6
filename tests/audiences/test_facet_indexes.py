"""Facet containment is served by a GIN index of the filtered object alone (ingestion migration
0011), so a condition on accounts' Industry no longer reads every lead of that industry."""

import pytest
from django.db import connection as db

from audiences.criteria import criteria_parse
from audiences.selectors import connection_fields, criteria_records
from ingestion.models import IngestedRecord

pytestmark = pytest.mark.skipif(db.vendor != "postgresql", reason="PostgreSQL plans")

TECHNOLOGY = {
    "type": "condition",
    "object": "Account",
    "field": "Industry",
    "operator": "equals",
    "value": "Technology",
}


def _tree(connection, holds, children):
    raw = {"type": "group", "match": "all", "children": children}
    return criteria_parse(raw, fields=connection_fields(connection=connection), holds=holds)


def test_facet_containment_can_use_the_filtered_objects_own_index(ready_connection, record_factory):
    """The compiler's filter implies the partial index's predicate (this object, live records):
    with every other way to read the rows taken away, the plan is that index."""
    for n in range(20):
        record_factory(ready_connection, "Account", Industry="Technology" if n < 5 else "Retail")
        record_factory(ready_connection, "Lead", Industry="Technology")
    table = IngestedRecord._meta.db_table
    tree = _tree(ready_connection, "companies", [TECHNOLOGY])
    with db.cursor() as cursor:  # all undone with the test's transaction
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT ingested_record_unique_id")
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT ingestion_ingestedrecord_pkey")
        cursor.execute("DROP INDEX aud_rec_created_idx")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = criteria_records(connection=ready_connection, target="Account", tree=tree).explain()
        # The partition's own index of the parent's (partitions name theirs).
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'ingested_record_account_facets_gin'::regclass"
        )
        names = [name for (name,) in cursor.fetchall()]
    assert any(f"Index Scan on {name} " in plan for name in names), plan
    assert "Seq Scan" not in plan


def test_an_estimate_counts_without_jit_compilation(ready_connection, record_factory):
    """Each COUNT of an estimate runs with JIT off (compiling took 40-150 ms of each estimate
    at 10M records, for nothing); the session's own setting is back after it."""
    from audiences.selectors import AudienceSpec, audience_size_estimate

    for n in range(4):
        record_factory(ready_connection, "Contact", Title=f"VP {n}")
        record_factory(ready_connection, "Lead", Title=f"VP {n}")
    title = {"type": "condition", "object": "Lead", "field": "Title", "operator": "starts_with"}
    tree = _tree(ready_connection, "people", [title | {"value": "VP"}])
    settings = []

    def note_jit(execute, sql, params, many, context):
        if sql.startswith("SELECT COUNT(*)"):
            settings.append(_jit())
        return execute(sql, params, many, context)

    spec = AudienceSpec(connection=ready_connection, holds="people", tree=tree)
    with db.execute_wrapper(note_jit):
        assert audience_size_estimate(spec=spec).total == 4
    assert settings
    assert set(settings) == {"off"}
    assert _jit() == "on"


def _jit():
    with db.cursor() as cursor:
        cursor.execute("SHOW jit")
        return cursor.fetchone()[0]
