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


def _estimate_noting_settings(connection):
    """Run an estimate of people titled VP*; the settings each of its COUNTs ran with."""
    from audiences.selectors import AudienceSpec, audience_size_estimate

    title = {"type": "condition", "object": "Lead", "field": "Title", "operator": "starts_with"}
    tree = _tree(connection, "people", [title | {"value": "VP"}])
    seen = []

    def note(execute, sql, params, many, context):
        if sql.startswith("SELECT COUNT(*)"):
            seen.append(_settings())
        return execute(sql, params, many, context)

    spec = AudienceSpec(connection=connection, holds="people", tree=tree)
    with db.execute_wrapper(note):
        assert audience_size_estimate(spec=spec).total == 4
    assert seen
    return set(seen)


def _settings():
    with db.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('random_page_cost')")
        return cursor.fetchone()


def test_an_estimate_counts_without_jit_and_with_random_reads_priced_for_ssds(
    ready_connection, record_factory
):
    """Each COUNT of an estimate runs with JIT off (compiling took 40-150 ms of each estimate
    at 10M records, for nothing) and random_page_cost 1.1 (at 4, people titled VP* at
    Technology accounts were counted by reading every contact: 5.0 s against 0.9 s); the
    session's own settings are back after it."""
    for n in range(4):
        record_factory(ready_connection, "Contact", Title=f"VP {n}")
        record_factory(ready_connection, "Lead", Title=f"VP {n}")
    before = _settings()
    assert before == ("on", "4")
    assert _estimate_noting_settings(ready_connection) == {("off", "1.1")}
    assert _settings() == before
    with db.cursor() as cursor:  # a server priced lower keeps its price
        cursor.execute("SET LOCAL random_page_cost = 1")
    assert _estimate_noting_settings(ready_connection) == {("off", "1")}
