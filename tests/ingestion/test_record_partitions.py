"""Loads that build their indexes once: a connection's first load and a full resync write into
a table without indexes, attached as the connection's partition when complete (PostgreSQL,
ingestion/partitions.py). SQLite keeps one plain table; its behaviour is tested elsewhere."""

import os
import signal
import threading
from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest
from django.db import DatabaseError, transaction
from django.db import connection as db
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audiences.criteria import Group, criteria_parse
from audiences.models import Audience, AudienceMember, CsvList, CsvRow, CsvRowMatch
from audiences.selectors import AudienceSpec, audience_size_estimate, connection_fields
from audiences.selectors.compiler import audience_records, records_of
from audiences.selectors.members import audience_preview
from ingestion import partitions
from ingestion.engine import records
from ingestion.engine.helper_process import HelperProcess
from ingestion.models import IngestedRecord, ObjectCursor, RecordLoad, SyncRun
from ingestion.services import sync
from ingestion.services.cursors import connection_resync
from ingestion.services.purge import data_purge_execute, data_purge_request
from ingestion.services.runs import sync_run_enqueue
from ingestion.services.sync import sync_run_execute
from tests.ingestion.fake_salesforce import FakeClient, field_def
from tests.ingestion.test_record_account_column import _store
from tests.ingestion.test_sync_engine import _assert_local_copy_equals, _run, _seed

pytestmark = pytest.mark.skipif(db.vendor != "postgresql", reason="PostgreSQL partitions")

PARENT = IngestedRecord._meta.db_table


def _fetch(sql, params=None):
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _indexes(table):
    return {
        row[0] for row in _fetch("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
    }


def _checks(table):
    return [name for name, _ in partitions._constraints("c", table)]


def _index_shapes(table):
    """Index definitions without their names and table: comparable between tables."""
    return sorted(d.split(" USING ", 1)[1] for d in _indexes(table))


def _leaves(table):
    return [
        name
        for (name,) in _fetch(
            "SELECT relid::regclass::text FROM pg_partition_tree(%s) WHERE isleaf", [table]
        )
    ]


def _assert_indexed_as_the_parent(table):
    """Every index of the parent is on ``table``, adopted by its parent (none built twice),
    named after the parent's with the table's suffix (none left for ATTACH to build and name);
    so are its extended statistics."""
    assert _index_shapes(table) == _index_shapes(PARENT)
    suffix = "_" + table.removeprefix(PARENT + "_")
    assert all(name.endswith(suffix) for name in partitions._index_names(table))
    attached = _fetch(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE c.relkind IN ('i', 'I') AND c.relname IN (SELECT indexname FROM pg_indexes "
        "WHERE tablename = %s)",
        [table],
    )[0][0]
    assert attached == len(_indexes(table))
    statistics = "SELECT count(*) FROM pg_statistic_ext WHERE stxrelid = %s::regclass"
    assert _fetch(statistics, [table]) == _fetch(statistics, [PARENT]) != [(0,)]


def _assert_attached(connection):
    """The connection's partition is attached, partitioned by object, indexed as the parent
    at both levels; its load is over."""
    table = partitions.partition_of(connection.pk)
    assert table is not None
    parent = _fetch(
        "SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = %s::regclass", [table]
    )
    assert parent == [(PARENT,)]
    leaves = _leaves(table)
    expected = {f"{table}_{key}" for key in partitions.LEAVES.values()}
    assert set(leaves) == expected | {f"{table}_{partitions.OTHER_LEAF}"}
    for indexed in (table, *leaves):
        _assert_indexed_as_the_parent(indexed)
    assert not RecordLoad.objects.filter(connection=connection).exists()
    return table


def _slice(run_id, config):
    """One slice of a run, as one task of a worker."""
    return sync_run_execute(run_id=run_id, config=replace(config, slice_seconds=0))


def _initial_run(connection):
    return SyncRun.objects.create(
        connection=connection, kind=SyncRun.Kind.INITIAL, trigger=SyncRun.Trigger.COMMAND
    )


def _begin_load(connection, config):
    """An initial run's first slice, which creates the load table: the run and the table."""
    run = _initial_run(connection)
    assert _slice(run.pk, config)["status"] == "continue"
    return run, RecordLoad.objects.get(connection=connection).table


@pytest.fixture
def small_pages(engine_config):
    return replace(engine_config, page_max_records=3, write_batch=2)


def test_an_initial_load_is_indexed_and_attached_as_the_connections_partition(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    run = _run(sync_connection, config=engine_config)
    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_attached(sync_connection)
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_the_load_writes_into_a_table_without_indexes_until_it_completes(
    sync_connection, fake_org, small_pages
):
    _seed(fake_org)
    run, table = _begin_load(sync_connection, small_pages)
    while not _fetch(f"SELECT count(*) FROM {table}")[0][0]:
        assert _slice(run.pk, small_pages)["status"] == "continue"
    assert _indexes(table) == set()
    # On each object's leaf, only the partial indexes none of its rows can enter (built
    # while empty, so the end need not read the leaf for them); on the DEFAULT leaf, none
    # PostgreSQL can prove so.
    empty_early = {}
    for sobject, key in partitions.LEAVES.items():
        leaf = f"{table}_{key}"
        early = _indexes(leaf)
        assert early
        assert all(" WHERE " in d and f"'{sobject}'" not in d for d in early)
        empty_early[leaf] = _index_oids(leaf)
    # Each record is in its object's leaf.
    stored = _fetch(f"SELECT DISTINCT tableoid::regclass::text, sobject FROM {table}")
    assert stored
    assert all(leaf == f"{table}_{partitions.LEAVES[obj]}" for leaf, obj in stored)
    assert not IngestedRecord.objects.filter(connection=sync_connection).exists()
    assert len(_checks(table)) == 1  # from its creation: ATTACH need not scan the table
    with CaptureQueriesContext(db) as queries:
        sync_run_execute(run_id=run.pk, inline=True, config=small_pages)
    assert _assert_attached(sync_connection) == table
    assert not [q for q in queries.captured_queries if "ADD CHECK" in q["sql"]]
    for leaf, oids in empty_early.items():  # kept, not built again
        assert oids.items() <= _index_oids(leaf).items()


def _index_oids(table):
    return dict(
        _fetch(
            "SELECT indexrelid::regclass::text, indexrelid FROM pg_index "
            "WHERE indrelid = %s::regclass",
            [table],
        )
    )


def test_a_load_begun_without_its_check_gets_it_before_the_attach(
    sync_connection, fake_org, small_pages
):
    """A load table created before tables were created with their CHECK (an upgrade mid-load)."""
    _seed(fake_org)
    run, table = _begin_load(sync_connection, small_pages)
    (name,) = _checks(table)
    with db.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    sync_run_execute(run_id=run.pk, inline=True, config=small_pages)
    assert _assert_attached(sync_connection) == table
    assert len(_checks(table)) == 1
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_a_first_load_of_some_objects_is_attached_when_its_run_ends(
    sync_connection, fake_org, engine_config
):
    """A run that loads only Contact still ends with its records readable; the objects loaded
    by later runs go through the attached partition's indexes."""
    _seed(fake_org)
    run = sync_run_enqueue(
        connection=sync_connection,
        kind=SyncRun.Kind.INITIAL,
        trigger=SyncRun.Trigger.COMMAND,
        sobjects=["Contact"],
    )
    sync_run_execute(run_id=run.pk, inline=True, config=engine_config)
    table = _assert_attached(sync_connection)
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    sync_connection.refresh_from_db()
    assert sync_connection.initial_sync_completed_at is None  # Account is still to load

    _run(sync_connection, config=engine_config)
    assert partitions.partition_of(sync_connection.pk) == table  # no second load, no swap
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)
    sync_connection.refresh_from_db()
    assert sync_connection.initial_sync_completed_at is not None


def test_audience_queries_still_use_the_indexes(sync_connection, fake_org, engine_config):
    _seed(fake_org, contacts=30)
    _run(sync_connection, config=engine_config)
    with db.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a table this small would be scanned
        query = records_of(connection=sync_connection, sobject="Contact").filter(
            data__Email="ada1@acme.example"
        )
        plan = query.explain()
        cursor.execute("SET enable_seqscan = on")
    table = partitions.partition_of(sync_connection.pk)
    assert table in plan
    assert "Index" in plan
    assert PARENT + "_default" not in plan


def _counts(queries):
    """The COUNT queries among those captured (not the transaction or settings around them)."""
    return [q for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT")]


def _count_plans(spec):
    """EXPLAIN ANALYZE of the COUNT queries an estimate runs, as they run."""
    with CaptureQueriesContext(db) as queries:
        audience_size_estimate(spec=spec)
    plans = []
    for query in _counts(queries):
        rows = _fetch(f"EXPLAIN (ANALYZE, COSTS OFF) {query['sql']}")
        plans.append("\n".join(row[0] for row in rows))
    return plans


def test_counting_contacts_at_accounts_reads_only_the_account_index(
    transactional_db, connection_factory, fake_org, fake_client_for, engine_config, monkeypatch
):
    """ "Contacts at accounts with an open opportunity" counts from the account_sf_id index
    alone (issue 16): no expression over data, and the partition vacuumed after its load, so
    the visibility map spares every heap fetch."""
    monkeypatch.setattr(sync, "ANALYZE_AFTER_ROWS", 0)  # this small load is refreshed too
    fake_org.add_object(
        "Opportunity",
        [
            field_def("AccountId", "reference"),
            field_def("IsClosed", "boolean"),
            field_def("Amount", "currency"),
        ],
    )
    accounts = [fake_org.upsert("Account", Name=f"Acme {n}") for n in range(20)]
    for n in range(200):
        fake_org.upsert("Contact", Name=f"Ada {n}", AccountId=accounts[n % 20])
    for n, account in enumerate(accounts[:5]):
        fake_org.upsert("Opportunity", AccountId=account, IsClosed=n == 0, Amount=60000.0)
    connection = connection_factory(enabled_objects=["Account", "Contact", "Opportunity"])
    _run(connection, config=engine_config)
    try:
        related = {
            "type": "related",
            "object": "Opportunity",
            "conditions": [
                {"field": "IsClosed", "operator": "is_false"},
                {"field": "Amount", "operator": "gt", "value": 50000},
            ],
        }
        raw = {"type": "group", "match": "all", "children": [related]}
        tree = criteria_parse(
            raw, fields=connection_fields(connection=connection), holds="contacts"
        )
        spec = AudienceSpec(connection=connection, holds="contacts", tree=tree)
        assert audience_size_estimate(spec=spec).total == 40  # 4 open accounts x 10 contacts
        with db.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")  # a table this small would be scanned
            try:
                (plan,) = _count_plans(spec)
            finally:
                cursor.execute("SET enable_seqscan = on")
        table = partitions.partition_of(connection.pk)
        assert (
            f"Index Only Scan using ingested_record_account_idx_{table.removeprefix(PARENT + '_')}"
            in plan
        )
        assert "Heap Fetches: 0" in plan
        assert "data ->> 'AccountId'" not in plan
    finally:
        partitions.partition_drop(connection_id=connection.pk)


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_an_objects_rows_are_planned_on_its_own_statistics(
    sync_connection, fake_org, engine_config, monkeypatch
):
    """An estimate's query is pruned to the object's leaf and planned on its statistics. On one
    table for all objects, containment (``facets @> '{"IsClosed": false}'``) was estimated over
    every record and multiplied by ``sobject = 'Opportunity'``: a tenth of the open
    opportunities here, and a nested loop chosen for 212,011 of them at 10M records."""
    monkeypatch.setattr(sync, "ANALYZE_AFTER_ROWS", 0)  # this small load is refreshed too
    fake_org.add_object(
        "Opportunity", [field_def("AccountId", "reference"), field_def("IsClosed", "boolean")]
    )
    accounts = [fake_org.upsert("Account", Name=f"Acme {n}") for n in range(100)]
    for n in range(1500):
        fake_org.upsert("Contact", Name=f"Ada {n}", AccountId=accounts[n % 100])
    for n in range(200):
        fake_org.upsert("Opportunity", AccountId=accounts[n % 100], IsClosed=n % 4 == 0)
    connection = sync_connection
    connection.enabled_objects = ["Account", "Contact", "Opportunity"]
    connection.save(update_fields=["enabled_objects"])
    _run(connection, config=engine_config)
    related = {
        "type": "related",
        "object": "Opportunity",
        "conditions": [{"field": "IsClosed", "operator": "is_false"}],
    }
    raw = {"type": "group", "match": "all", "children": [related]}
    fields = connection_fields(connection=connection)
    spec = AudienceSpec(
        connection=connection,
        holds="contacts",
        tree=criteria_parse(raw, fields=fields, holds="contacts"),
    )
    # Each account has two opportunities, both closed for a quarter of the accounts.
    assert audience_size_estimate(spec=spec).total == 1125
    with CaptureQueriesContext(db) as queries:
        audience_size_estimate(spec=spec)
    (query,) = _counts(queries)
    ((plan,),) = _fetch(f"EXPLAIN (ANALYZE, FORMAT JSON) {query['sql']}")
    # The opportunities' scan (the subquery's alias): the leaf's Bitmap Heap Scan or Seq Scan.
    (scan,) = [
        node
        for node in _plan_nodes(plan[0]["Plan"])
        if node.get("Alias") == "u0" and "Relation Name" in node
    ]
    opportunities = f"{partitions.partition_of(connection.pk)}_{partitions.LEAVES['Opportunity']}"
    assert scan["Relation Name"] == opportunities
    assert scan["Actual Rows"] == 150
    assert scan["Plan Rows"] >= 100  # on one table for all objects: 18


def test_an_object_without_a_leaf_of_its_own_is_loaded_into_the_default_leaf(
    transactional_db, connection_factory
):
    connection = connection_factory()
    table = partitions.load_begin(connection=connection)
    now = timezone.now()
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (connection_id, sobject, sf_id, data, facets, system_modstamp, "
            "is_deleted, first_seen_at, last_seen_at) VALUES "
            "(%s, 'Task', '00T1', '{\"Subject\": \"Call\"}', '{}', %s, false, %s, %s)",
            [connection.pk, now, now, now],
        )
    try:
        with transaction.atomic():
            assert partitions.load_finish(connection_id=connection.pk)
        _assert_attached(connection)
        task = IngestedRecord.objects.get(connection=connection, sobject="Task")
        assert task.data == {"Subject": "Call"}
        assert _fetch(f"SELECT tableoid::regclass::text FROM {PARENT} WHERE sf_id = '00T1'") == [
            (f"{table}_{partitions.OTHER_LEAF}",)
        ]
    finally:
        partitions.partition_drop(connection_id=connection.pk)


def test_incremental_syncs_write_through_the_attached_partitions_indexes(
    sync_connection, fake_org, engine_config, monkeypatch
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    table = partitions.partition_of(sync_connection.pk)
    fake_org.tick(5)
    fake_org.upsert("Contact", Name="New one")
    fake_org.upsert("Account", next(iter(fake_org.records["Account"])), Name="Renamed")
    copied_into = []
    copy = records._copy
    monkeypatch.setattr(
        records,
        "_copy",
        lambda cursor, into, text: (copied_into.append(into), copy(cursor, into, text)),
    )
    run = _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
    assert run.status == SyncRun.Status.SUCCEEDED
    # Loaded objects' pages go straight to the upsert, through the stage: no COPY into the
    # table to be undone at the first stored Id.
    assert set(copied_into) == {records._STAGE}
    assert partitions.partition_of(sync_connection.pk) == table  # no load, no swap
    assert not RecordLoad.objects.exists()
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_a_full_resync_serves_the_previous_copy_until_the_new_one_is_complete(
    sync_connection, fake_org, small_pages
):
    _seed(fake_org)
    _run(sync_connection, config=small_pages)
    before = partitions.partition_of(sync_connection.pk)
    contact = IngestedRecord.objects.get(sobject="Contact", data__Name="Ada 1")
    audience = Audience.objects.create(
        workspace=sync_connection.workspace, connection=sync_connection, name="Everyone"
    )
    AudienceMember.objects.create(audience=audience, record=contact, sobject="Contact")
    fake_org.tick(5)
    for n in range(4):
        fake_org.upsert("Contact", Name=f"Newcomer {n}")
    sf_id = contact.sf_id
    fake_org.upsert("Contact", sf_id, Name="Ada renamed")

    run = connection_resync(connection=sync_connection, trigger=SyncRun.Trigger.ADMIN, full=True)
    assert RecordLoad.objects.filter(connection=sync_connection).exists()
    slices = 0
    while _slice(run.pk, small_pages)["status"] == "continue":
        slices += 1
        # Mid-way the audiences read the previous copy, whole and unchanged.
        assert records_of(connection=sync_connection, sobject="Contact").count() == 7
        assert IngestedRecord.objects.get(sf_id=sf_id).data["Name"] == "Ada 1"
        assert partitions.partition_of(sync_connection.pk) == before
    assert slices > 1
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED

    after = _assert_attached(sync_connection)
    assert after != before
    assert not _fetch("SELECT to_regclass(%s)", [before])[0][0]  # the old copy is dropped
    assert records_of(connection=sync_connection, sobject="Contact").count() == 11
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)
    # The record keeps its id and first sighting: audience members still point at it.
    renamed = IngestedRecord.objects.get(sf_id=sf_id)
    assert (renamed.pk, renamed.first_seen_at) == (contact.pk, contact.first_seen_at)
    assert renamed.data["Name"] == "Ada renamed"
    assert AudienceMember.objects.get().record == renamed


def test_a_load_resumed_after_its_worker_was_killed_continues_into_the_same_table(
    sync_connection, fake_org, small_pages, monkeypatch
):
    _seed(fake_org, accounts=8, contacts=9)
    copied = []
    real_copy = records._copy

    def copy_then_die(cursor, table, text):
        real_copy(cursor, table, text)
        copied.append(table)
        if len(copied) == 4:
            raise SystemExit("killed mid-page")  # not an Exception: nothing marks the run

    monkeypatch.setattr(records, "_copy", copy_then_die)
    run = _initial_run(sync_connection)
    with pytest.raises(SystemExit):
        sync_run_execute(run_id=run.pk, inline=True, config=small_pages)
    table = RecordLoad.objects.get(connection=sync_connection).table
    assert set(copied) == {table}
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    sync_run_execute(run_id=run.pk, inline=True, config=small_pages)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert set(copied) == {table}
    assert _assert_attached(sync_connection) == table
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_an_id_loaded_twice_keeps_its_newest_copy(sync_connection, fake_org, engine_config):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    load = partitions.load_begin(connection=sync_connection, fresh=True)
    now = timezone.now()
    old, new = now - timedelta(days=1), now
    _fetch(
        f"INSERT INTO {load} (connection_id, sobject, sf_id, data, facets, system_modstamp, "
        "is_deleted, first_seen_at, last_seen_at) VALUES "
        "(%s, 'Lead', 'L1', '{\"v\": \"new\"}', '{}', %s, false, %s, %s), "
        "(%s, 'Lead', 'L1', '{\"v\": \"old\"}', '{}', %s, false, %s, %s) RETURNING id",
        [sync_connection.pk, new, now, now, sync_connection.pk, old, now, now],
    )
    assert partitions.load_finish(connection_id=sync_connection.pk)
    assert IngestedRecord.objects.get(sobject="Lead").data == {"v": "new"}


def test_disconnect_with_delete_drops_the_partition_and_the_members(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    table = partitions.partition_of(sync_connection.pk)
    audience = Audience.objects.create(
        workspace=sync_connection.workspace, connection=sync_connection, name="Everyone"
    )
    AudienceMember.objects.create(
        audience=audience, record=IngestedRecord.objects.first(), sobject="Contact"
    )
    purge = data_purge_request(connection=sync_connection)
    outcome = data_purge_execute(purge_id=purge.pk, inline=True)
    assert outcome == {"purge": purge.pk, "status": "done", "deleted": 12}
    assert partitions.partition_of(sync_connection.pk) is None
    assert not _fetch("SELECT to_regclass(%s)", [table])[0][0]
    assert not IngestedRecord.objects.filter(connection=sync_connection).exists()
    assert not AudienceMember.objects.exists()


def test_disconnect_mid_load_drops_the_load_table(sync_connection, fake_org, small_pages):
    _seed(fake_org)
    run = _initial_run(sync_connection)
    _slice(run.pk, small_pages)
    table = RecordLoad.objects.get(connection=sync_connection).table
    purge = data_purge_request(connection=sync_connection)
    assert not _fetch("SELECT to_regclass(%s)", [table])[0][0]
    assert data_purge_execute(purge_id=purge.pk, inline=True)["status"] == "done"
    assert not RecordLoad.objects.exists()


def test_loads_of_two_connections_finishing_at_once_both_attach(
    transactional_db, connection_factory, monkeypatch
):
    """ATTACH holds the DEFAULT partition exclusively; two finishers that had both read it
    earlier in their transactions waited for each other (PostgreSQL then kills one: its run
    stayed "running" until taken over). Both finish their work, then both swap."""
    connections = [connection_factory(), connection_factory()]
    for connection in connections:
        partitions.load_begin(connection=connection)
    both_indexed = threading.Barrier(len(connections), timeout=30)
    build = partitions._build_indexes

    def build_then_wait(table, leaves, connection_id, gin=None):
        build(table, leaves, connection_id, gin)
        both_indexed.wait()

    monkeypatch.setattr(partitions, "_build_indexes", build_then_wait)
    errors = []

    def finish(connection):
        try:
            with transaction.atomic():
                partitions.load_finish(connection_id=connection.pk)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=finish, args=(c,)) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert errors == []
        assert all(partitions.partition_of(c.pk) for c in connections)
    finally:
        for connection in connections:
            partitions.partition_drop(connection_id=connection.pk)


def _hold_the_gin_builder_until(monkeypatch, ran):
    """Start the GIN builder's work only once the finishing transaction has run a statement
    ``ran(sql)`` says is the one (or after 2 s), so a lock it takes there meets the builder."""
    done = threading.Event()
    execute = partitions._execute

    def execute_then_signal(sql, params=None):
        execute(sql, params)
        if ran(sql):
            done.set()

    monkeypatch.setattr(partitions, "_execute", execute_then_signal)
    build = partitions._GinBuilder.run

    def held(self):
        done.wait(timeout=2)
        build(self)

    monkeypatch.setattr(partitions._GinBuilder, "run", held)


def _gin_builds(queries, table):
    """The GIN indexes holding rows that this session built on the leaves of ``table``: each
    object's own facets index on its leaf. (Those of other objects are built on the empty
    leaves when the load begins; on the table itself a CREATE INDEX adopts the leaves'.)"""
    own = [(f" ON {table}_{key} ", f"'{sobject}'") for sobject, key in partitions.LEAVES.items()]
    return [
        q["sql"]
        for q in queries.captured_queries
        if partitions._is_gin(q["sql"]) and any(a in q["sql"] and b in q["sql"] for a, b in own)
    ]


def _first_load_with_a_duplicate(connection):
    """A first load's table (committed: the GIN builder's session sees it) holding Lead L1
    twice, its older copy written last."""
    table = partitions.load_begin(connection=connection)
    now = timezone.now()
    _fetch(
        f"INSERT INTO {table} (connection_id, sobject, sf_id, data, facets, system_modstamp, "
        "is_deleted, first_seen_at, last_seen_at) VALUES "
        "(%s, 'Lead', 'L1', '{\"v\": \"new\"}', '{\"Status\": \"Open\"}', %s, false, %s, %s), "
        "(%s, 'Lead', 'L1', '{\"v\": \"old\"}', '{}', %s, false, %s, %s) RETURNING id",
        [connection.pk, now, now, now, connection.pk, now - timedelta(days=1), now, now],
    )
    return table


def test_a_first_loads_gin_indexes_are_built_by_a_session_of_their_own(
    transactional_db, sync_connection, fake_org, small_pages, caplog, monkeypatch
):
    """PostgreSQL builds a GIN index in one process: a second session builds a first load's
    beside the B-trees. The finishing transaction builds none of them, and from its unique
    key's index on takes no lock that would make the builder wait (it would give up after its
    lock timeout, and say so)."""
    _hold_the_gin_builder_until(monkeypatch, lambda sql: "UNIQUE INDEX" in sql)
    _seed(fake_org)
    try:
        with CaptureQueriesContext(db) as queries:
            run = _run(sync_connection, config=small_pages)
        assert run.status == SyncRun.Status.SUCCEEDED
        table = _assert_attached(sync_connection)
        assert "left to load_finish" not in caplog.text
        assert _gin_builds(queries, table) == []
        for sobject in ("Account", "Contact"):
            _assert_local_copy_equals(sync_connection, fake_org, sobject)
    finally:
        partitions.partition_drop(connection_id=sync_connection.pk)


def test_a_duplicated_id_is_removed_only_once_the_gin_builder_has_stopped(
    transactional_db, connection_factory, caplog, monkeypatch
):
    """Removing the older copy writes to the table, which would lock out the builder's next
    CREATE INDEX until the finishing transaction ends, while that transaction waits for it."""
    _hold_the_gin_builder_until(monkeypatch, lambda sql: sql.startswith("DELETE"))
    connection = connection_factory()
    _first_load_with_a_duplicate(connection)
    try:
        with transaction.atomic():
            assert partitions.load_finish(connection_id=connection.pk)
        assert IngestedRecord.objects.get(connection=connection, sobject="Lead").data == {
            "v": "new"
        }
        _assert_attached(connection)
        assert "left to load_finish" not in caplog.text
    finally:
        partitions.partition_drop(connection_id=connection.pk)


def test_gin_indexes_built_before_a_failed_finish_are_kept_by_the_next(
    transactional_db, connection_factory, monkeypatch, caplog
):
    """The builder's indexes commit on their own: a finish that fails after them rolls back
    everything else, and the next one keeps them instead of failing on their names."""
    connection = connection_factory()
    table = _first_load_with_a_duplicate(connection)
    swap_turn = partitions._swap_turn

    def fail_once():
        monkeypatch.setattr(partitions, "_swap_turn", swap_turn)
        raise RuntimeError("the worker stopped here")

    monkeypatch.setattr(partitions, "_swap_turn", fail_once)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            partitions.load_finish(connection_id=connection.pk)
        kept = {i for leaf in _leaves(table) for i in _indexes(leaf) if partitions._is_gin(i)}
        assert kept
        assert RecordLoad.objects.filter(connection=connection).exists()
        with transaction.atomic():
            assert partitions.load_finish(connection_id=connection.pk)
        assert _assert_attached(connection) == table
        assert kept <= {i for leaf in _leaves(table) for i in _indexes(leaf)}
        assert "left to load_finish" not in caplog.text
    finally:
        partitions.partition_drop(connection_id=connection.pk)


def _move_into_default(connection):
    """The connection's copy as it was stored before partitioning: rows in DEFAULT."""
    table = partitions.partition_of(connection.pk)
    with db.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {table}")
        columns = partitions._COLUMNS  # not the generated column
        cursor.execute(f"INSERT INTO {PARENT} ({columns}) SELECT {columns} FROM {table}")
        cursor.execute(f"DROP TABLE {table}")
    return _fetch(
        f"SELECT count(*) FROM {PARENT}_default WHERE connection_id = %s", [connection.pk]
    )


def test_a_full_resync_replaces_a_copy_stored_before_partitioning(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    assert _move_into_default(sync_connection) == [(12,)]
    contact = IngestedRecord.objects.get(sobject="Contact", data__Name="Ada 1")
    assert partitions.load_begin(connection=sync_connection) is None  # loaded before

    run = connection_resync(connection=sync_connection, trigger=SyncRun.Trigger.ADMIN, full=True)
    assert RecordLoad.objects.get(connection=sync_connection).from_default
    sync_run_execute(run_id=run.pk, inline=True, config=engine_config)

    _assert_attached(sync_connection)
    default_rows = f"SELECT count(*) FROM {PARENT}_default WHERE connection_id = %s"
    assert _fetch(default_rows, [sync_connection.pk]) == [(0,)]
    kept = IngestedRecord.objects.get(sf_id=contact.sf_id)
    assert (kept.pk, kept.first_seen_at) == (contact.pk, contact.first_seen_at)
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_the_upgrade_marks_a_load_under_way_over_a_copy_in_default(
    sync_connection, fake_org, engine_config
):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("ingestion.migrations.0012_record_load_from_default")
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    _move_into_default(sync_connection)
    load = partitions.load_begin(connection=sync_connection, fresh=True)
    RecordLoad.objects.update(from_default=False)  # as 0012's new column starts
    with db.schema_editor() as editor:
        migration.mark_loads_under_way(apps, editor)
    assert RecordLoad.objects.get(table=load).from_default


def _plans_of_record_queries(captured):
    plans = []
    for query in captured:
        if PARENT in query["sql"] and query["sql"].startswith("SELECT"):
            plans.append("\n".join(r[0] for r in _fetch(f"EXPLAIN {query['sql']}")))
    return plans


def test_an_audiences_reads_of_records_by_id_plan_only_its_connections_partition(
    connection_factory, user
):
    """Members and CSV matches name records by id; read by id alone, every connection's
    partition, each with seven leaves and their indexes, is planned and locked (hundreds of
    connections would fill PostgreSQL's lock table). By connection too, only its own."""
    ours, other = connection_factory(), connection_factory()
    with transaction.atomic():
        partitions.load_begin(connection=other)
        partitions.load_finish(connection_id=other.pk)
    theirs = partitions.partition_of(other.pk)
    account = _store(ours, "Account", "001A", Name="Acme")
    contact = _store(ours, "Contact", "003A", LastName="Lovelace", AccountId="001A")
    audience = Audience.objects.create(workspace=ours.workspace, connection=ours, name="A")
    AudienceMember.objects.create(audience=audience, record=contact, sobject="Contact")
    with CaptureQueriesContext(db) as queries:
        assert [row["sf_id"] for row in audience_preview(audience=audience)] == ["003A"]
    captured = queries.captured_queries
    for holds, kind, record, target, expected in [
        ("companies", "people", contact, "Account", account),  # a people list: their accounts
        ("contacts", "companies", account, "Contact", contact),  # a companies list: their people
    ]:
        csv_list = CsvList.objects.create(
            workspace=ours.workspace, name=kind, kind=kind, created_by=user
        )
        row = CsvRow.objects.create(csv_list=csv_list, row_number=1, is_valid=True)
        CsvRowMatch.objects.create(row=row, connection=ours, record=record)
        spec = AudienceSpec(connection=ours, holds=holds, tree=Group(), include=(csv_list,))
        with CaptureQueriesContext(db) as listed:
            assert list(audience_records(spec=spec, target=target)) == [expected]
        captured += listed.captured_queries
    plans = _plans_of_record_queries(captured)
    assert len(plans) >= 3
    assert all(theirs not in plan for plan in plans)
    partitions.partition_drop(connection_id=other.pk)


# -- each object's leaf indexed once it is read (partitions.LeafIndexer) ---------------------
def _join_leaf_indexers():
    for thread in threading.enumerate():
        if thread.name.startswith("leaf-indexes-"):
            thread.join(timeout=30)


@pytest.fixture
def slow_org(fake_org, small_pages):
    """Every load tried, and every first job still running at its first poll: each object
    is read after a probe, as against a slow Salesforce (engine/bulk_steps.py)."""
    fake_org.polls_to_complete = 2
    return replace(small_pages, probe_min_records=1)


@pytest.fixture
def slices_by_hand(monkeypatch):
    """Commits are real here (transactional_db): a slice's end would hand the run's next
    slice to the (synchronous) task queue at once; the test runs each slice instead."""
    monkeypatch.setattr(sync, "hand_to_workers", lambda run: None)


def _loaded(connection):
    return set(
        ObjectCursor.objects.filter(connection=connection, initial_load_complete=True).values_list(
            "sobject", flat=True
        )
    )


def _load_one_object_of_two(connection, config):
    """Slices of a first load until one of its two objects is read in full (and its leaf's
    indexers are done): the run and its load table."""
    run, table = _begin_load(connection, config)
    while not _loaded(connection):
        assert _slice(run.pk, config)["status"] == "continue"
    _join_leaf_indexers()
    return run, table


def test_an_objects_leaf_is_indexed_once_it_is_read_while_the_others_still_load(
    transactional_db, sync_connection, fake_org, slow_org, slices_by_hand
):
    _seed(fake_org, accounts=4, contacts=12)
    run, table = _load_one_object_of_two(sync_connection, slow_org)
    try:
        (done,) = _loaded(sync_connection)
        (reading,) = {"Account", "Contact"} - {done}
        done_leaf = f"{table}_{partitions.LEAVES[done]}"
        reading_leaf = f"{table}_{partitions.LEAVES[reading]}"
        # The object read: every index of the parent, key included, named as load_finish
        # would name them; the object still read: only those none of its rows can enter.
        assert _index_shapes(done_leaf) == _index_shapes(PARENT)
        assert all(" WHERE " in d for d in _indexes(reading_leaf))
        early = _index_oids(done_leaf)

        sync_run_execute(run_id=run.pk, inline=True, config=slow_org)
        run.refresh_from_db()
        assert run.status == SyncRun.Status.SUCCEEDED
        assert _assert_attached(sync_connection) == table
        assert early.items() <= _index_oids(done_leaf).items()  # kept, not built again
        for sobject in ("Account", "Contact"):
            _assert_local_copy_equals(sync_connection, fake_org, sobject)
    finally:
        partitions.partition_drop(connection_id=sync_connection.pk)


def test_load_finish_waits_for_a_leaf_indexer_under_way(transactional_db, connection_factory):
    connection = connection_factory()
    table = _first_load_with_a_duplicate(connection)
    leaf = f"{table}_{partitions.LEAVES['Lead']}"
    held, release, finished = threading.Event(), threading.Event(), threading.Event()

    def indexer_under_way():  # holds the lock a LeafIndexer holds while it builds
        try:
            key = partitions._leaf_lock_key(leaf, "gin")
            with db.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
                held.set()
                release.wait(30)
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
        finally:
            db.close()

    def finish():
        try:
            with transaction.atomic():
                partitions.load_finish(connection_id=connection.pk)
            finished.set()
        finally:
            db.close()

    holder, finisher = threading.Thread(target=indexer_under_way), threading.Thread(target=finish)
    try:
        holder.start()
        assert held.wait(30)
        finisher.start()
        assert not finished.wait(1.0)
        release.set()
        assert finished.wait(60)
        _assert_attached(connection)
    finally:
        release.set()
        holder.join(30)
        finisher.join(60)
        partitions.partition_drop(connection_id=connection.pk)


def test_a_leaf_indexer_finds_an_id_loaded_twice_and_leaves_the_key_to_load_finish(
    transactional_db, connection_factory
):
    connection = connection_factory()
    table = _first_load_with_a_duplicate(connection)
    leaf = f"{table}_{partitions.LEAVES['Lead']}"
    try:
        partitions.index_loaded_object(connection_id=connection.pk, sobject="Lead")
        _join_leaf_indexers()
        # Every index but the key's, which the two copies of L1 break.
        (missing,) = set(_index_shapes(PARENT)) - set(_index_shapes(leaf))
        assert "sf_id" in missing
        assert not [d for d in _indexes(leaf) if "UNIQUE" in d and "sf_id" in d]
        with transaction.atomic():
            assert partitions.load_finish(connection_id=connection.pk)
        assert IngestedRecord.objects.get(connection=connection, sobject="Lead").data == {
            "v": "new"
        }
        _assert_attached(connection)
    finally:
        partitions.partition_drop(connection_id=connection.pk)


def test_only_a_first_load_against_a_slow_salesforce_indexes_leaves_early(
    transactional_db,
    sync_connection,
    fake_org,
    small_pages,
    slow_org,
    slices_by_hand,
    monkeypatch,
):
    """Against a quick Salesforce the load is bound by our own CPU: builds started early
    would only compete with the writes, and load_finish builds them all as before."""
    started = []
    monkeypatch.setattr(partitions.LeafIndexer, "start", lambda self: started.append(self.leaf))
    _seed(fake_org)
    try:
        run, table = _begin_load(sync_connection, small_pages)
        sync_run_execute(run_id=run.pk, inline=True, config=small_pages)
        assert started == []  # a quick org
        partitions.partition_drop(connection_id=sync_connection.pk)
        ObjectCursor.objects.filter(connection=sync_connection).delete()

        run, table = _begin_load(sync_connection, slow_org)
        sync_run_execute(run_id=run.pk, inline=True, config=slow_org)
        assert sorted(started) == sorted(
            f"{table}_{partitions.LEAVES[sobject]}" for sobject in ("Account", "Contact") * 2
        )  # a B-tree session and a GIN session for each object
        started.clear()
        # An object too small for a trial of its own, done after another's probe found
        # Salesforce slow: indexed early too.
        partitions.partition_drop(connection_id=sync_connection.pk)
        ObjectCursor.objects.filter(connection=sync_connection).delete()
        fake_org.polls_to_complete = 2
        real_create = FakeClient.bulk_create_query_job

        def slow_accounts(self, soql, **kwargs):
            fake_org.polls_to_complete = 8 if " FROM Account" in soql else 2
            return real_create(self, soql, **kwargs)

        monkeypatch.setattr(FakeClient, "bulk_create_query_job", slow_accounts)
        contacts_only = replace(slow_org, probe_min_records=6)  # 5 accounts, 7 contacts
        run, table = _begin_load(sync_connection, contacts_only)
        sync_run_execute(run_id=run.pk, inline=True, config=contacts_only)
        assert f"{table}_{partitions.LEAVES['Account']}" in started
        monkeypatch.setattr(FakeClient, "bulk_create_query_job", real_create)
        started.clear()
        # A full resync's carry-over updates every row it keeps: through no index.
        fake_org.polls_to_complete = 2
        resync = connection_resync(
            connection=sync_connection, trigger=SyncRun.Trigger.COMMAND, full=True
        )
        sync_run_execute(run_id=resync.pk, inline=True, config=slow_org)
        resync.refresh_from_db()
        assert resync.status == SyncRun.Status.SUCCEEDED
        assert started == []
    finally:
        partitions.partition_drop(connection_id=sync_connection.pk)


def test_a_fresh_start_of_a_load_under_way_makes_a_new_table_without_its_indexes(
    transactional_db, sync_connection, fake_org, slow_org, slices_by_hand
):
    _seed(fake_org, accounts=4, contacts=12)
    _, table = _load_one_object_of_two(sync_connection, slow_org)
    try:
        with transaction.atomic():
            fresh = partitions.load_begin(connection=sync_connection, fresh=True)
        assert fresh != table
        assert not _fetch("SELECT to_regclass(%s)", [table])[0][0]
        for key in partitions.LEAVES.values():
            assert all(" WHERE " in d for d in _indexes(f"{fresh}_{key}"))
    finally:
        with transaction.atomic():
            partitions.load_discard(connection_id=sync_connection.pk)


# -- a load's pages over two COPY lanes (records._CopyLanes) ----------------------------------
@pytest.fixture
def two_lanes(transactional_db, small_pages, slices_by_hand, sync_connection):
    """Two COPY lanes, on a database whose load tables other sessions can see (its commits
    are real); the connection's tables are dropped after."""
    yield replace(small_pages, write_lanes=2)
    partitions.partition_drop(connection_id=sync_connection.pk)
    with transaction.atomic():
        partitions.load_discard(connection_id=sync_connection.pk)


def _lanes_opened(monkeypatch):
    """What each page's _CopyLanes.open returned (None: the page's own connection wrote)."""
    opened = []
    real_open = vars(records._CopyLanes)["open"].__func__

    def recorded(cls, table, count):
        opened.append(real_open(cls, table, count))
        return opened[-1]

    monkeypatch.setattr(records._CopyLanes, "open", classmethod(recorded))
    return opened


def _copies_on_the_pages_connection(monkeypatch):
    tables, real_copy = [], records._copy

    def recorded(cursor, table, text):
        tables.append(table)
        real_copy(cursor, table, text)

    monkeypatch.setattr(records, "_copy", recorded)
    return tables


def _fail_lane_write(monkeypatch, n):
    """The n-th batch a lane writes dies mid-COPY (as if its worker were killed)."""
    written, real_write = [], records._CopyLanes._write

    def write(self, connection, text):
        written.append(text)
        if len(written) == n:
            raise SystemExit("killed mid-page")
        real_write(self, connection, text)

    monkeypatch.setattr(records._CopyLanes, "_write", write)


def _load(connection, config):
    """A first load run in this process with ``config`` (an enqueued run would take the
    settings' config: commits are real here)."""
    run = _initial_run(connection)
    sync_run_execute(run_id=run.pk, inline=True, config=config)
    run.refresh_from_db()
    return run


def _load_rows(table):
    return _fetch(f"SELECT count(*), count(DISTINCT (sobject, sf_id)) FROM {table}")[0]


def _checkpointed(connection):
    """Records the committed checkpoints of a first load count as stored."""
    cursors = ObjectCursor.objects.filter(connection=connection)
    return sum(cursors.values_list("records_ingested", flat=True))


@pytest.mark.parametrize("lanes", [2, 1])
def test_a_loads_pages_are_written_over_lanes_of_their_own_or_the_pages_connection(
    sync_connection, fake_org, two_lanes, monkeypatch, lanes
):
    _seed(fake_org, accounts=8, contacts=9)
    opened = _lanes_opened(monkeypatch)
    on_the_pages_connection = _copies_on_the_pages_connection(monkeypatch)
    run = _load(sync_connection, replace(two_lanes, write_lanes=lanes))
    assert run.status == SyncRun.Status.SUCCEEDED
    if lanes == 1:
        assert set(opened) == {None}
        assert on_the_pages_connection
    else:
        assert {len(each._connections) for each in opened} == {2}  # None has none
        assert on_the_pages_connection == []
    assert _assert_attached(sync_connection)
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_a_database_refusing_the_lanes_connections_gets_the_page_over_its_own(
    sync_connection, fake_org, two_lanes, monkeypatch, caplog
):
    _seed(fake_org)
    opened = _lanes_opened(monkeypatch)
    on_the_pages_connection = _copies_on_the_pages_connection(monkeypatch)
    real_connect, made = records._CopyLanes._connect, []

    def one_then_refused():
        if made:
            raise psycopg.OperationalError("FATAL: sorry, too many clients already")
        made.append(real_connect())
        return made[-1]

    monkeypatch.setattr(records._CopyLanes, "_connect", staticmethod(one_then_refused))
    run = _load(sync_connection, two_lanes)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert set(opened) == {None}
    assert on_the_pages_connection
    assert made[0].closed  # the lane connection made before the refusal
    assert "too many clients" in caplog.text
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_lanes_stand_aside_for_a_load_table_other_sessions_cannot_see(
    sync_connection, fake_org, small_pages, monkeypatch
):
    # db, not transactional_db: the test's transaction made the table, which no other
    # session sees until it commits (and a lane's COPY would wait on its lock).
    _seed(fake_org)
    opened = _lanes_opened(monkeypatch)
    run = _run(sync_connection, config=replace(small_pages, write_lanes=2))
    assert run.status == SyncRun.Status.SUCCEEDED
    assert set(opened) == {None}
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


@pytest.mark.parametrize("helper", ["answers", "dies", "off"])
def test_a_loads_pages_are_parsed_partly_in_a_helper_process(
    sync_connection, fake_org, two_lanes, monkeypatch, helper
):
    """The helper makes some of each page's batches (helper_process.py); one killed mid-load
    leaves its chunks to the worker and the next page starts another; off, none is used."""
    _seed(fake_org, accounts=12, contacts=15)
    started, real_submit = [], HelperProcess.submit

    def submit(self, function, *args):
        started.append(self._process.pid)
        future = real_submit(self, function, *args)
        if helper == "dies" and len(started) == 3:
            os.kill(self._process.pid, signal.SIGKILL)
        return future

    monkeypatch.setattr(HelperProcess, "submit", submit)
    # Pages of three one-record batches: the third of each goes to the helper (OWN_FIRST).
    config = replace(two_lanes, parse_helper=helper != "off", write_batch=1)
    run = _load(sync_connection, config)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert _assert_attached(sync_connection)
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)
    if helper == "off":
        assert started == []
    else:
        assert len(started) >= 4
    assert len(set(started)) == (2 if helper == "dies" else int(helper == "answers"))


def test_a_lane_killed_mid_page_leaves_the_checkpoint_before_that_page(
    sync_connection, fake_org, two_lanes, monkeypatch
):
    _seed(fake_org, accounts=8, contacts=9)
    _fail_lane_write(monkeypatch, 5)
    run = _initial_run(sync_connection)
    with pytest.raises(SystemExit):
        sync_run_execute(run_id=run.pk, inline=True, config=two_lanes)
    table = RecordLoad.objects.get(connection=sync_connection).table
    # The pages before are stored and checkpointed; the page under way left nothing.
    stored, distinct = _load_rows(table)
    assert stored == distinct == _checkpointed(sync_connection) > 0

    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    sync_run_execute(run_id=run.pk, inline=True, config=two_lanes)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert _assert_attached(sync_connection) == table
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_a_page_stored_by_its_lanes_whose_checkpoint_failed_is_stored_once(
    sync_connection, fake_org, two_lanes, monkeypatch
):
    _seed(fake_org, accounts=8, contacts=9)
    real_commit, commits = records._CopyLanes.commit, []

    def commit_then_die(self):
        real_commit(self)
        commits.append(self)
        if len(commits) == 2:
            raise SystemExit("killed between the lanes' commit and the checkpoint's")

    monkeypatch.setattr(records._CopyLanes, "commit", commit_then_die)
    run = _initial_run(sync_connection)
    with pytest.raises(SystemExit):
        sync_run_execute(run_id=run.pk, inline=True, config=two_lanes)
    table = RecordLoad.objects.get(connection=sync_connection).table
    # The second page is stored, its checkpoint is not: it will be read again.
    stored, distinct = _load_rows(table)
    assert stored == distinct > _checkpointed(sync_connection) > 0

    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    sync_run_execute(run_id=run.pk, inline=True, config=two_lanes)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert _assert_attached(sync_connection) == table
    assert IngestedRecord.objects.filter(connection=sync_connection).count() == 8 + 9
    for sobject in ("Account", "Contact"):
        _assert_local_copy_equals(sync_connection, fake_org, sobject)


def test_a_lane_waiting_on_a_lock_fails_the_page_instead_of_hanging(
    sync_connection, fake_org, two_lanes, monkeypatch
):
    _seed(fake_org)
    run, table = _begin_load(sync_connection, two_lanes)
    before = _load_rows(table)
    monkeypatch.setattr(records._CopyLanes, "LOCK_TIMEOUT", "200ms")
    other = psycopg.connect(**db.get_connection_params())
    try:
        other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(psycopg.errors.LockNotAvailable), transaction.atomic():
            records.write_records(
                connection_id=sync_connection.pk,
                sobject="Account",
                run_id=run.pk,
                records=[
                    records.ParsedRecord("001A", {"Id": "001A"}, "2024-01-01T00:00:00.000Z", False)
                ],
                now=timezone.now(),
                lanes=2,
            )
    finally:
        other.close()
    assert _load_rows(table) == before


# -- a full resync's foreign key proven before the swap (partitions._ForeignKeyProver) -------
def _foreign_keys(table):
    """(name, validated, attached to the parent's) of each foreign key of ``table``."""
    return _fetch(
        "SELECT conname, convalidated, conparentid <> 0 FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY conname",
        [table],
    )


def _every_statement(monkeypatch, fail=lambda sql: False):
    """Each statement of every session, in order; those ``fail`` picks in a prover's
    session raise there as PostgreSQL would refuse them."""
    seen = []
    execute = CursorWrapper.execute

    def noting(self, sql, params=None):
        seen.append(sql)
        if threading.current_thread().name.startswith("foreign-keys-") and fail(sql):
            raise DatabaseError(f"refused: {sql}")
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", noting)
    return seen


def _full_resync(connection, config):
    resync = connection_resync(connection=connection, trigger=SyncRun.Trigger.COMMAND, full=True)
    sync_run_execute(run_id=resync.pk, inline=True, config=config)
    resync.refresh_from_db()
    assert resync.status == SyncRun.Status.SUCCEEDED


def test_a_full_resync_proves_its_foreign_key_leaf_by_leaf_before_the_swap(
    transactional_db, sync_connection, fake_org, small_pages, slices_by_hand, monkeypatch
):
    """The ATTACH adopts each leaf's proven constraint instead of scanning every row while
    the previous copy's DROP holds the connections table exclusively."""
    ((parent_key, _),) = partitions._constraints("f")
    _seed(fake_org)
    try:
        run, _ = _begin_load(sync_connection, small_pages)
        sync_run_execute(run_id=run.pk, inline=True, config=small_pages)
        first = _assert_attached(sync_connection)
        for leaf in _leaves(first):  # a first load: validated by the ATTACH, as before
            assert _foreign_keys(leaf) == [(parent_key, True, True)]
        statements = _every_statement(monkeypatch)
        fake_org.upsert("Contact", Name="Newcomer")
        gone = next(iter(fake_org.records["Contact"]))
        fake_org.purge("Contact", gone)  # the reload will not see it: carried over

        _full_resync(sync_connection, small_pages)
        table = _assert_attached(sync_connection)
        assert table != first
        for leaf in _leaves(table):
            own = partitions._own_name(parent_key, leaf)[: partitions.NAME_LENGTH]
            assert _foreign_keys(leaf) == [(own, True, True)]
        proven = [i for i, sql in enumerate(statements) if "VALIDATE CONSTRAINT" in sql]
        added = [sql for sql in statements if "ADD CONSTRAINT" in sql and "FOREIGN KEY" in sql]
        (detach,) = [i for i, sql in enumerate(statements) if "DETACH PARTITION" in sql]
        assert len(proven) == len(added) == len(_leaves(table))
        assert all(sql.endswith(" NOT VALID") for sql in added)  # no scan under its lock
        assert max(proven) < detach
        carried = IngestedRecord.objects.get(connection=sync_connection, sf_id=gone)
        assert not carried.is_deleted  # kept as it was, until a reconciliation
        _assert_local_copy_equals(sync_connection, fake_org, "Account")
    finally:
        partitions.partition_drop(connection_id=sync_connection.pk)


def test_a_constraint_the_prover_left_unvalidated_is_validated_before_the_swap(
    transactional_db, sync_connection, fake_org, small_pages, slices_by_hand, monkeypatch, caplog
):
    """A prover that added a leaf's constraint and failed to validate it (as if its worker
    died there): the finish validates it, so the ATTACH adds no second one."""
    ((parent_key, _),) = partitions._constraints("f")
    _seed(fake_org)
    try:
        run, _ = _begin_load(sync_connection, small_pages)
        sync_run_execute(run_id=run.pk, inline=True, config=small_pages)
        statements = _every_statement(monkeypatch, fail=lambda sql: "VALIDATE CONSTRAINT" in sql)

        _full_resync(sync_connection, small_pages)
        assert "left to the ATTACH" in caplog.text
        table = _assert_attached(sync_connection)
        # The prover's VALIDATE refused, then the finishing transaction's own.
        tried, validated = [i for i, sql in enumerate(statements) if "VALIDATE CONSTRAINT" in sql]
        (detach,) = [i for i, sql in enumerate(statements) if "DETACH PARTITION" in sql]
        assert tried < validated < detach  # before the swap's locks
        accounts = f"{table}_{partitions.LEAVES['Account']}"  # the prover's first leaf
        own = partitions._own_name(parent_key, accounts)[: partitions.NAME_LENGTH]
        assert _foreign_keys(accounts) == [(own, True, True)]
        for leaf in _leaves(table):
            assert len(_foreign_keys(leaf)) == 1
        _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    finally:
        partitions.partition_drop(connection_id=sync_connection.pk)
