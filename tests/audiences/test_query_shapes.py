"""The SQL shapes that keep estimates fast on large orgs (issue 16) give the same records as the
plain shapes: relations as ``= ANY(ARRAY(subquery))`` on PostgreSQL, and facet containment
served by a GIN index of the filtered object alone (ingestion migration 0011)."""

import pytest
from django.db import connection as db
from django.db.models import Q
from django.db.models.lookups import In
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiences.criteria import criteria_parse
from audiences.selectors import compiler, connection_fields, criteria_records
from ingestion.models import IngestedRecord

postgres_only = pytest.mark.skipif(db.vendor != "postgresql", reason="PostgreSQL plans")


def _tree(connection, holds, children):
    raw = {"type": "group", "match": "all", "children": children}
    return criteria_parse(raw, fields=connection_fields(connection=connection), holds=holds)


def _ids(connection, target, tree):
    qs = criteria_records(connection=connection, target=target, tree=tree)
    return set(qs.values_list("sf_id", flat=True))


def _plain_in(lhs, rows):
    return Q(In(lhs, rows))


OPEN_OVER_50K = {
    "type": "related",
    "object": "Opportunity",
    "conditions": [
        {"field": "IsClosed", "operator": "is_false"},
        {"field": "Amount", "operator": "gt", "value": 50000},
    ],
}
TECHNOLOGY = {
    "type": "condition",
    "object": "Account",
    "field": "Industry",
    "operator": "equals",
    "value": "Technology",
}
VP = {
    "type": "condition",
    "object": "Contact",
    "field": "Title",
    "operator": "starts_with",
    "value": "VP",
}
CASES = [
    ("contacts", "Contact", [OPEN_OVER_50K]),
    ("leads", "Lead", [OPEN_OVER_50K]),
    ("companies", "Account", [OPEN_OVER_50K]),
    ("contacts", "Contact", [TECHNOLOGY, VP]),
    ("companies", "Account", [TECHNOLOGY, VP]),
    ("leads", "Lead", [TECHNOLOGY]),
]

accounts = st.lists(
    st.tuples(st.sampled_from(["Technology", "Retail", None]), st.booleans()), max_size=6
)
people = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 7)),  # index of the account (past the end: dangling)
        st.sampled_from(["VP Sales", "vp ops", "CTO"]),
        st.booleans(),  # deleted
    ),
    max_size=8,
)
deals = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 7)),
        st.booleans(),  # closed
        st.sampled_from([None, 10_000, 50_000, 90_000]),
    ),
    max_size=6,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(accounts=accounts, contacts=people, leads=people, opportunities=deals)
def test_relations_match_the_same_records_as_in_subqueries(
    ready_connection, record_factory, monkeypatch, accounts, contacts, leads, opportunities
):
    c, make = ready_connection, record_factory
    IngestedRecord.objects.filter(connection=c).delete()
    made = [make(c, "Account", Industry=i, is_deleted=gone).sf_id for i, gone in accounts]

    def account(n):
        # None: no account; past the end of the list: an account the copy does not hold.
        if n is None:
            return None
        return made[n] if n < len(made) else f"001DANGLING{n:07d}"

    for n, title, gone in contacts:
        make(c, "Contact", AccountId=account(n), Title=title, is_deleted=gone)
    for n, title, gone in leads:
        make(c, "Lead", ConvertedAccountId=account(n), Title=title, is_deleted=gone)
    for n, closed, amount in opportunities:
        make(c, "Opportunity", AccountId=account(n), IsClosed=closed, Amount=amount)
    for holds, target, children in CASES:
        tree = _tree(c, holds, children)
        shaped = _ids(c, target, tree)
        with monkeypatch.context() as patch:
            patch.setattr(compiler, "_in", _plain_in)
            assert shaped == _ids(c, target, tree), (holds, target, children)


@postgres_only
def test_relations_compile_to_one_array_per_subquery(ready_connection):
    tree = _tree(ready_connection, "contacts", [OPEN_OVER_50K])
    sql = str(criteria_records(connection=ready_connection, target="Contact", tree=tree).query)
    assert "= ANY(ARRAY(SELECT" in sql
    assert " IN (SELECT" not in sql


@postgres_only
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
