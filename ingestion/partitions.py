"""Where a connection's records are stored on PostgreSQL: a partition of their own, loaded
first and indexed after.

``ingestion_ingestedrecord`` is LIST-partitioned by connection (migration 0010). Writing a row
through the table's indexes (the unique key, the facets GIN, the audience expression indexes)
costs about half the time of a load; building them once over a full table costs a few seconds.
So a connection's first full load, and a full resync, write into a table with no index that
a row of it can enter (a *load table*, named by a ``RecordLoad`` row so a resumed run finds
it; ``_index_what_stays_empty``). When every object has loaded, ``load_finish`` in one
transaction:

1. on a full resync, proves each leaf's rows against the connection foreign key in a session
   of its own, so the ATTACH below scans nothing (``_ForeignKeyProver``);
2. carries over from the previous copy (the attached partition, or the connection's rows in
   the DEFAULT partition) each record's id and first sighting, and the records the reload did
   not see, as they were (what upserting over the old copy kept before);
3. builds the unique key's index; should the load hold an Id twice (a record that changed
   between two windows' reads), keeps the newest SystemModstamp (invariant 4) and builds it
   again;
4. builds the parent's other indexes, then its keys on their indexes, and its statistics
   (the table was created with ``CHECK (connection_id = X)``, so the ATTACH needs no scan of
   its own). On a first load, with nothing carried over, a second session builds the GIN
   indexes meanwhile (``_GinBuilder``);
5. swaps: detaches and drops the previous partition (or deletes the DEFAULT rows) and
   attaches the new table as the connection's partition.

On a first load that found Salesforce slow (engine: ``ObjectReader._load_is_paced``), each
object's leaf is indexed as soon as the object is read in full, in sessions of their own,
while the others are still read (``LeafIndexer``); ``load_finish`` waits for any such build
under way and finds its indexes there.

Swaps take turns (``_swap_turn``). ATTACH holds the DEFAULT partition exclusively, so two
finishers that had each touched it earlier in their transactions would wait for each other
until PostgreSQL killed one. A load therefore knows from its start whether its previous copy
is in the DEFAULT partition (``RecordLoad.from_default``), and only such a load reads it, after
taking its turn; every other load does all but the swap without waiting for anyone.
https://www.postgresql.org/docs/15/sql-altertable.html#SQL-ALTERTABLE-DESC-ATTACH-PARTITION

Until then every read goes to the previous copy: a full resync serves it until the new one is
complete. Incremental syncs write through the attached partition's indexes.

Swapped per connection: audiences join objects (contacts to their accounts), and the gate that
enables Salesforce filters opens once the whole connection has loaded; one partition per
connection keeps one table per load and a single swap. Within it, each object has a partition
of its own (the load table is ``PARTITION BY LIST (sobject)``, one *leaf* per object, and a
DEFAULT leaf for any other), for the planner's sake: an audience query is pruned to one
object's leaf and planned on that object's statistics. On one table for all objects,
``facets @> '{"IsClosed": false}'`` was estimated over every record and then multiplied by
``sobject = 'Opportunity'`` as if unrelated: 679 open opportunities expected against 212,011
at 10M records, and a nested loop chosen that took 1.7 s (bench/README.md, "The opportunity
estimate"). Indexes are built on each leaf (those of other objects while it is empty), then
on the load table, which adopts them (no second build), and ATTACH adopts the load table's in
turn. Partitions loaded before this (one table for all objects) keep working as they are
until their next full resync.

SQLite (tests, the demo) has one plain table: these functions do nothing there, and a full
resync upserts over the rows it serves, as before.
https://www.postgresql.org/docs/15/ddl-partitioning.html
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid

from django.db import DatabaseError, IntegrityError, transaction
from django.db import connection as db

from connections.models import Connection
from ingestion.models import IngestedRecord, RecordLoad

logger = logging.getLogger(__name__)

PARENT = IngestedRecord._meta.db_table
DEFAULT = f"{PARENT}_default"
# Every column but the generated account_sf_id, which PostgreSQL computes and refuses to be
# given (IngestedRecord).
_COLUMNS = (
    "id, connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, deleted_at, "
    "first_seen_at, last_seen_at, last_sync_run_id"
)
# The objects a load table has a leaf for, and the leaf's suffix: short, as PostgreSQL cuts
# names at 63 characters and a leaf's index is named after the parent's, the connection and
# the object (``ingested_record_campaign_member_facets_gin_c7_1a2b3c4d_cmem``: 63 with a
# 5-digit connection id; longer ids are cut, which IF NOT EXISTS and plans survive).
LEAVES = {
    "Account": "acct",
    "Contact": "cont",
    "Lead": "lead",
    "Opportunity": "opp",
    "Campaign": "camp",
    "CampaignMember": "cmem",
}
OTHER_LEAF = "misc"  # the DEFAULT leaf: any object not above
NAME_LENGTH = 63  # PostgreSQL cuts longer names of tables, indexes and constraints
# How long a session building or proving beside load_finish waits for a lock before it gives
# up and leaves the work to load_finish (_GinBuilder, _ForeignKeyProver).
SIDE_SESSION_LOCK_TIMEOUT = "10s"


def partitioned() -> bool:
    return db.vendor == "postgresql"


def load_table(connection_id: int) -> str | None:
    """The table a connection's records are written to while a load is under way, or None
    (they go through the partitioned table and its indexes)."""
    if not partitioned():
        return None
    loads = RecordLoad.objects.filter(connection_id=connection_id)
    return loads.values_list("table", flat=True).first()


def load_begin(*, connection: Connection, fresh: bool = False) -> str | None:
    """Write the connection's next records into a load table when it has no partition yet
    (its first load), or always when ``fresh`` (a full resync). A load already under way is
    kept (a resumed run continues into it); ``fresh`` empties it, as the resync rereads all."""
    if not partitioned():
        return None
    with transaction.atomic():
        load = RecordLoad.objects.select_for_update().filter(connection=connection).first()
        if load is not None and not fresh:
            return load.table
        if load is not None:
            # Made anew, not emptied: a leaf loaded already may have its indexes (LeafIndexer),
            # through which a reload would write, and whose unique key an Id read twice breaks.
            _drop(load.table)
            load.delete()
        previous = partition_of(connection.pk)
        from_default = previous is None and _has_rows(DEFAULT, connection.pk)
        if not fresh and (previous or from_default):
            return None  # loaded before: incremental writes go through the indexes
        table = f"{PARENT}_c{connection.pk}_{uuid.uuid4().hex[:8]}"
        # GENERATED: the table computes account_sf_id as the parent does (and ATTACH
        # requires a generated column of the parent to be generated in the partition).
        # The CHECK, tested per row as COPY writes (nothing measurable), spares ATTACH its scan
        # of the whole table, which adding it at the end cost instead (4.8 s at 10M records).
        _execute(
            f"CREATE TABLE {table} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING GENERATED "
            f"INCLUDING COMPRESSION INCLUDING STORAGE, {_belongs(connection.pk)}) "
            "PARTITION BY LIST (sobject)"
        )
        for sobject, key in LEAVES.items():
            leaf = f"{table}_{key}"
            _execute(f"CREATE TABLE {leaf} PARTITION OF {table} FOR VALUES IN (%s)", [sobject])
        _execute(f"CREATE TABLE {table}_{OTHER_LEAF} PARTITION OF {table} DEFAULT")
        _index_what_stays_empty(table)
        RecordLoad.objects.create(connection=connection, table=table, from_default=from_default)
        return table


def _index_what_stays_empty(table: str) -> None:
    """Build now, on the empty leaves, the parent's partial indexes that no row of the leaf
    can enter (the contacts' facets index on the Lead leaf). Empty they stay, so the load pays
    only their predicate per row, where built at its end each would read the whole leaf to
    find nothing: each of the five facets indexes read every leaf, 18 GB at 10M records. The
    end's builds find them there and skip them (IF NOT EXISTS)."""
    definitions = _index_definitions()
    for leaf in _leaves(table):
        for name, definition in definitions:
            if _stays_empty(leaf, definition):
                _execute(_retarget_index(definition, _own_name(name, leaf), leaf))


def _stays_empty(leaf: str, definition: str) -> bool:
    """Whether the leaf's partition bound contradicts the index's predicate, as PostgreSQL's
    own constraint exclusion proves it (a plan that scans nothing); no proof, no index.
    https://www.postgresql.org/docs/15/ddl-partitioning.html#DDL-PARTITIONING-CONSTRAINT-EXCLUSION"""
    _, where, predicate = definition.partition(" WHERE ")
    if not where:
        return False
    with transaction.atomic():  # the setting is undone with the savepoint
        _execute("SET LOCAL constraint_exclusion = on")  # a partition queried directly
        plan = _fetch(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {leaf} WHERE {predicate}")
        transaction.set_rollback(True)
    return "Relation Name" not in str(plan)


def load_discard(*, connection_id: int) -> None:
    """Forget a load under way and drop its table (a disconnect deleting the data)."""
    if not partitioned():
        return
    for load in RecordLoad.objects.select_for_update().filter(connection_id=connection_id):
        _drop(load.table)
        load.delete()


def load_finish(*, connection_id: int) -> bool:
    """Index the connection's load table and swap it in (see the module's docstring). Call
    inside the transaction that ends the run; True if a load was finished."""
    load = RecordLoad.objects.select_for_update().filter(connection_id=connection_id).first()
    if load is None:
        return False
    table, previous = load.table, partition_of(connection_id)
    waiting, leaves = time.monotonic(), _leaves(table)
    for leaf in leaves:
        _wait_for_leaf_indexer(leaf)
    started = time.monotonic()
    if previous:
        _ForeignKeyProver(leaves).prove()
    proved = time.monotonic()
    if load.from_default:
        _swap_turn()  # before reading the DEFAULT partition (see the module's docstring)
        _carry_over(table, DEFAULT, connection_id)
    elif previous:
        _carry_over(table, previous, connection_id)
        # The proven leaves checked each row carried over, deferred to the commit; PostgreSQL
        # refuses to index a table with such checks pending.
        _settle_deferred_checks()
    carried = time.monotonic()
    # Nothing carried over (a first load): this transaction has not written to the table, so
    # a session of its own can build the GIN indexes meanwhile (_GinBuilder).
    gin = None if (load.from_default or previous) else _GinBuilder(table, leaves)
    if gin is not None:
        gin.start()
    try:
        _add_unique_key(leaves, gin)
        _build_indexes(table, leaves, connection_id, gin)
    finally:
        if gin is not None:
            gin.join()
    indexed = time.monotonic()
    _validate_left_unproven(leaves)
    _swap_turn()
    if previous:
        _detach_and_drop(previous)
    if load.from_default:
        _execute(f"DELETE FROM {DEFAULT} WHERE connection_id = %s", [connection_id])
    _execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {table} FOR VALUES IN ({int(connection_id)})")
    load.delete()
    logger.info(
        "connection %s: load %s attached (leaves' indexes waited for %.1f s, foreign keys "
        "%.1f s, carry-over %.1f s, indexes %.1f s, swap %.1f s)",
        connection_id,
        table,
        started - waiting,
        proved - started,
        carried - proved,
        indexed - carried,
        time.monotonic() - indexed,
    )
    return True


def partition_drop(*, connection_id: int) -> bool:
    """Detach and drop the connection's partition, if it has one; True if dropped."""
    table = partition_of(connection_id) if partitioned() else None
    if table is None:
        return False
    _detach_and_drop(table)
    return True


def partition_of(connection_id: int) -> str | None:
    """The name of the connection's attached partition, or None."""
    rows = _fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass AND pg_get_expr(c.relpartbound, c.oid) = %s",
        [PARENT, f"FOR VALUES IN ('{int(connection_id)}')"],
    )
    return rows[0][0] if rows else None


# -- the steps of load_finish -----------------------------------------------------------------
def _carry_over(table: str, source: str, connection_id: int) -> None:
    # Keeping the previous ids keeps audience members and CSV matches pointing at the records.
    _execute(
        f"""UPDATE {table} n SET id = o.id, first_seen_at = o.first_seen_at,
            deleted_at = CASE WHEN n.is_deleted THEN COALESCE(o.deleted_at, n.deleted_at) END
        FROM {source} o
        WHERE o.connection_id = %s AND o.sobject = n.sobject AND o.sf_id = n.sf_id""",
        [connection_id],
    )
    _execute(
        f"""INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM {source} o
        WHERE o.connection_id = %s AND NOT EXISTS (
            SELECT 1 FROM {table} n WHERE n.sobject = o.sobject AND n.sf_id = o.sf_id)""",
        [connection_id],
    )


def _leaves(table: str) -> list[str]:
    """The tables that hold a load table's rows: its leaves, or itself when it has none (a
    load begun before objects had partitions of their own)."""
    rows = _fetch(
        "SELECT relid::regclass::text FROM pg_partition_tree(%s) WHERE isleaf ORDER BY 1",
        [table],
    )
    return [name for (name,) in rows]


def _add_unique_key(leaves: list[str], gin: _GinBuilder | None) -> None:
    """The index of the parent's unique key on each leaf, found from it (the constraint is
    added on it at the end of _build_indexes); Ids loaded twice are removed only if building
    it fails, so a load without any (the usual case) pays for nothing but the index."""
    key = _constraints("u")[0]
    try:
        with transaction.atomic():
            for leaf in leaves:
                _key_index(leaf, *key)
    except IntegrityError:  # a duplicated key
        if gin is not None:
            # The DELETE's lock would make the GIN builder's next CREATE INDEX wait for this
            # transaction to end, while this transaction waits for the builder.
            gin.join()
        for leaf in leaves:  # an Id is always stored in its object's leaf, twice or not
            _execute(
                f"""DELETE FROM {leaf} WHERE ctid IN (SELECT ctid FROM (
                    SELECT ctid, row_number() OVER (PARTITION BY sobject, sf_id
                        ORDER BY system_modstamp DESC, id DESC) AS newest
                    FROM {leaf}) ranked WHERE newest > 1)"""
            )
            _key_index(leaf, *key)


def _build_indexes(
    table: str, leaves: list[str], connection_id: int, gin: _GinBuilder | None = None
) -> None:
    """The parent's primary key, indexes and statistics, on each leaf and then on the load
    table (which adopts the leaves' instead of building its own), so ATTACH adopts them in
    turn. The keys' indexes are built first and made constraints last: ALTER TABLE would lock
    out the GIN builder's CREATE INDEX until this transaction ends. Whatever the builder did
    not build (it failed, or could not see the table) is built here once it has stopped."""
    # The parent's definitions, read once for every leaf.
    keys = {kind: _constraints(kind) for kind in ("u", "p")}
    definitions, statistics = _index_definitions(), _statistics()
    for leaf in leaves:
        for key in keys["p"]:
            _key_index(leaf, *key)
        for name, definition in definitions:
            if gin is None or not _is_gin(definition):
                _execute(_retarget_index(definition, _own_name(name, leaf), leaf))
    if gin is not None:
        gin.join()
        built = {name for leaf in leaves for name in _index_names(leaf)}
        for name, statement in gin.indexes:
            if name not in built:
                _execute(statement)
    for leaf in leaves:
        for kind in ("u", "p"):
            for name, definition in keys[kind]:
                _key_constraint(leaf, name, definition)
    if leaves != [table]:
        _adopt_leaves_indexes(table)
    for target in {table, *leaves}:
        for name, definition in statistics:
            _execute(_retarget_statistics(definition, _own_name(name, target), target))
    if not _constraints("c", table):
        # A load begun before its table was created with the CHECK (it scans the table).
        _execute(f"ALTER TABLE {table} ADD {_belongs(connection_id)}")


def _adopt_leaves_indexes(table: str) -> None:
    """The parent's indexes and keys on a partitioned load table. PostgreSQL finds each on
    every leaf (the same definition; for a key, a constraint on it) and attaches it there:
    nothing is built. https://www.postgresql.org/docs/15/sql-createindex.html"""
    for name, definition in _index_definitions():
        _execute(_retarget_index(definition, _own_name(name, table), table))
    for kind in ("u", "p"):
        for name, definition in _constraints(kind):
            _execute(f"ALTER TABLE {table} ADD CONSTRAINT {_own_name(name, table)} {definition}")


def _belongs(connection_id: int) -> str:
    """The CHECK that spares ATTACH a scan of the table to prove the partition's bound."""
    return f"CHECK (connection_id = {int(connection_id)})"


def _own_name(name: str, table: str) -> str:
    """The parent's name for an index, constraint or statistics, with the table's suffix
    (``ingested_record_facets_gin_c7_1a2b3c4d``): plans name the index they use."""
    return f"{name}_{table.removeprefix(PARENT + '_')}"


def _constraints(kind: str, table: str = PARENT) -> list[tuple[str, str]]:
    return _fetch(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = %s ORDER BY conname",
        [table, kind],
    )


_KEY = re.compile(r"^(UNIQUE|PRIMARY KEY) (\(.*\))$")


def _key_index(table: str, name: str, definition: str) -> None:
    """The unique index a unique key or primary key ``definition`` of the parent stands on."""
    _execute(_key_index_statement(table, name, definition))


def _key_index_statement(table: str, name: str, definition: str) -> str:
    columns = _KEY.match(definition).group(2)
    return f"CREATE UNIQUE INDEX IF NOT EXISTS {_own_name(name, table)} ON {table} {columns}"


def _key_constraint(table: str, name: str, definition: str) -> None:
    """The key itself, on the index _key_index built (no scan: the index proves it)."""
    kind, own = _KEY.match(definition).group(1), _own_name(name, table)
    _execute(f"ALTER TABLE {table} ADD CONSTRAINT {own} {kind} USING INDEX {own}")


def _index_definitions() -> list[tuple[str, str]]:
    """The parent's indexes that back no constraint."""
    return _fetch(
        "SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) "
        "ORDER BY c.relname",
        [PARENT],
    )


def _index_names(table: str) -> set[str]:
    return {
        name for (name,) in _fetch("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
    }


def _statistics() -> list[tuple[str, str]]:
    return _fetch(
        "SELECT stxname, pg_get_statisticsobjdef(oid) FROM pg_statistic_ext "
        "WHERE stxrelid = %s::regclass ORDER BY stxname",
        [PARENT],
    )


_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (.*)$", re.S)
_STATISTICS = re.compile(r"^CREATE STATISTICS \S+ (.*) FROM \S+$", re.S)


def _retarget_index(definition: str, name: str, table: str) -> str:
    # IF NOT EXISTS: the GIN builder's indexes are committed on their own, and outlive a
    # finish that failed after them; the next finish keeps them.
    unique, rest = _INDEX.match(definition).groups()
    return f"CREATE {unique or ''}INDEX IF NOT EXISTS {name} ON {table} {rest}"


def _is_gin(definition: str) -> bool:
    return " USING gin " in definition


class _GinBuilder(threading.Thread):
    """Builds a first load's GIN indexes in a database session of its own while load_finish
    builds the rest. PostgreSQL 15 builds a GIN index in one process, a B-tree with parallel
    workers; beside one another they share the machine better than one after another (at
    10M records the five GIN indexes took 39 of 157 s of index builds, each a scan of the
    whole table; bench/README.md, "The load's end").

    Only CREATE INDEX runs here, whose SHARE lock the finishing transaction's own CREATE
    INDEX shares; that transaction takes nothing stronger on the table until it has joined
    this thread (_add_unique_key, _build_indexes). Each index commits on its own, so one
    built survives a finish that fails later, and is kept (IF NOT EXISTS). A table this
    session cannot see (created in a transaction not yet committed: tests), a lock it would
    wait for, or any failure leaves the rest to load_finish."""

    LOCK_TIMEOUT = SIDE_SESSION_LOCK_TIMEOUT

    def __init__(self, table: str, leaves: list[str]) -> None:
        super().__init__(name=f"gin-indexes-{table}", daemon=True)
        self.table = table
        self.indexes = [  # (its name on the leaf, the statement building it)
            (_own_name(name, leaf), _retarget_index(definition, _own_name(name, leaf), leaf))
            for leaf in leaves
            for name, definition in _index_definitions()
            if _is_gin(definition)
        ]

    def run(self) -> None:
        try:
            with db.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{self.LOCK_TIMEOUT}'")
                cursor.execute("SELECT to_regclass(%s)", [self.table])
                if cursor.fetchone()[0] is None:
                    return
                for _, statement in self.indexes:
                    cursor.execute(statement)
        except DatabaseError as error:
            logger.warning("%s: left to load_finish after %s", self.name, error)
        finally:
            db.close()  # this thread's own connection


class _ForeignKeyProver(threading.Thread):
    """Proves a full resync's rows against the parent's foreign keys (their connection), leaf
    by leaf, in a database session of its own, before the swap; the ATTACH then adopts each
    leaf's proven constraint and scans nothing.

    Otherwise the ATTACH validates the foreign key itself, a scan of every row (5-13 s at 10M
    records), and on a full resync it does so after dropping the previous partition, whose
    constraint's triggers on the connections table take it exclusively until the commit: every
    page reading a connection waited for the scan (bench/README.md, "The swap's foreign key").
    Here each leaf's constraint is added NOT VALID (no scan; the connections table is held
    against writes for that moment, or up to the lock timeout while the ADD waits its turn) and
    then validated, which holds up nobody; each commits on its own, so they outlive a finish
    that fails, and the next finds them. Only on a full resync: on a first load the ATTACH would
    take the connections table exclusively to drop the leaves' own triggers, where its own
    validation holds off writes only. Run before the finishing transaction touches the leaves:
    its index builds' locks would make this session wait. Any failure leaves the validation to
    the ATTACH.

    The rows the carry-over then inserts (records the reload did not see) are each checked
    as they go in: about 9 us a row against 1 us, which matters only for a resync carrying
    over an object it failed to read."""

    LOCK_TIMEOUT = SIDE_SESSION_LOCK_TIMEOUT

    def __init__(self, leaves: list[str]) -> None:
        super().__init__(name=f"foreign-keys-{leaves[0]}", daemon=True)
        self.leaves = leaves

    def prove(self) -> None:
        self.start()
        self.join()

    def run(self) -> None:
        try:
            with db.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{self.LOCK_TIMEOUT}'")
                keys = _constraints("f")
                for leaf in self.leaves:
                    if _fetch("SELECT to_regclass(%s)", [leaf])[0][0] is None:
                        return  # not visible to other sessions (a test's transaction)
                    made = {name for name, _ in _constraints("f", leaf)}
                    for name, definition in keys:
                        own = _own_name(name, leaf)
                        if own[:NAME_LENGTH] not in made:
                            cursor.execute(
                                f"ALTER TABLE {leaf} ADD CONSTRAINT {own} {definition} NOT VALID"
                            )
                        cursor.execute(f"ALTER TABLE {leaf} VALIDATE CONSTRAINT {own}")
        except DatabaseError as error:
            logger.warning("%s: left to the ATTACH after %s", self.name, error)
        finally:
            db.close()  # this thread's own connection


def _validate_left_unproven(leaves: list[str]) -> None:
    """Validate here a leaf constraint the prover added but did not validate (it failed, or
    its worker died), before the swap's locks: the ATTACH would add a second one beside it,
    and every later write to the leaf would be checked twice."""
    unproven = _fetch(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
        "AND NOT convalidated AND conrelid = ANY(%s::regclass[])",
        [leaves],
    )
    for leaf, name in unproven:
        _execute(f'ALTER TABLE {leaf} VALIDATE CONSTRAINT "{name}"')


def index_loaded_object(*, connection_id: int, sobject: str) -> None:
    """An object of a connection's first load is read in full: build its leaf's indexes now,
    in sessions of their own, while the other objects are still read (LeafIndexer). Called
    once the commit that completed the object has been made (the sessions must see it)."""
    if not partitioned() or sobject not in LEAVES:
        return
    load = RecordLoad.objects.filter(connection_id=connection_id).first()
    if load is None or load.from_default or partition_of(connection_id):
        return  # no load under way, or a reload: its carry-over must not update indexes
    leaf = f"{load.table}_{LEAVES[sobject]}"
    keys = [_key_index_statement(leaf, *key) for kind in ("u", "p") for key in _constraints(kind)]
    statements = {False: keys, True: []}  # by whether the index is a GIN one
    for name, definition in _index_definitions():
        statement = _retarget_index(definition, _own_name(name, leaf), leaf)
        statements[_is_gin(definition)].append(statement)
    # PostgreSQL builds a B-tree with parallel workers and a GIN index in one process: two
    # sessions, as load_finish does (_GinBuilder).
    LeafIndexer(leaf, "btree", statements[False]).start()
    LeafIndexer(leaf, "gin", statements[True]).start()


class LeafIndexer(threading.Thread):
    """Builds indexes of one leaf of a load table in a database session of its own, holding
    an advisory lock of the leaf's (session-level) while it does: load_finish takes each
    leaf's locks before it builds anything (_wait_for_leaf_indexer), so it waits for the
    builds under way and then finds them done (IF NOT EXISTS) rather than racing them; an
    indexer that finds the lock taken has nothing to do. A unique key that fails (an Id
    loaded twice) is left to load_finish, which removes the older copy first; any other
    failure, or the worker's death (its session ends, and the lock with it), leaves the rest
    to load_finish as well.

    At the end of a load that read several objects, the last object's leaf is all that is
    left to index: the others were indexed while it was read (bench/README.md, "Paced
    windows"). Only on a first load: a reload's carry-over updates every row it keeps, which
    would then pay for every index per row. And only when Salesforce was found slow (the
    engine decides): otherwise the builds would compete with the writes for the CPU."""

    def __init__(self, leaf: str, kind: str, statements: list[str]) -> None:
        super().__init__(name=f"leaf-indexes-{leaf}-{kind}", daemon=True)
        self.leaf, self.kind, self.statements = leaf, kind, statements

    def run(self) -> None:
        key = _leaf_lock_key(self.leaf, self.kind)
        try:
            with db.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
                if not cursor.fetchone()[0]:
                    return
                try:
                    cursor.execute("SELECT to_regclass(%s)", [self.leaf])
                    if cursor.fetchone()[0] is not None:
                        self._build(cursor)
                finally:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
        except DatabaseError as error:
            logger.warning("%s: left to load_finish after %s", self.name, error)
        finally:
            db.close()  # this thread's own connection

    def _build(self, cursor) -> None:
        for statement in self.statements:
            try:
                cursor.execute(statement)
            except IntegrityError:
                logger.info("%s: an Id loaded twice; its key is left to load_finish", self.leaf)


def _leaf_lock_key(leaf: str, kind: str) -> str:
    return f"primer_sf:leaf-indexes:{leaf}:{kind}"


def _wait_for_leaf_indexer(leaf: str) -> None:
    """Until this transaction ends, no LeafIndexer starts on the leaf; wait for one under way."""
    for kind in ("btree", "gin"):
        _execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_leaf_lock_key(leaf, kind)])


def _retarget_statistics(definition: str, name: str, table: str) -> str:
    (rest,) = _STATISTICS.match(definition).groups()
    return f"CREATE STATISTICS {name} {rest} FROM {table}"


# pg_advisory_xact_lock's key for the turn to swap partitions: any number of our own.
_SWAP_LOCK_KEY = 0x5F5F_0010


def _swap_turn() -> None:
    """Wait until no other transaction is swapping; the turn is held until this one ends.
    Taken before a swap's first lock on the DEFAULT partition, so no swap waits for a lock
    held by another that waits for it."""
    _execute("SELECT pg_advisory_xact_lock(%s)", [_SWAP_LOCK_KEY])


def _detach_and_drop(table: str) -> None:
    _swap_turn()
    _settle_deferred_checks()
    _execute(f"ALTER TABLE {PARENT} DETACH PARTITION {table}")
    _execute(f"DROP TABLE {table}")


def _drop(table: str) -> None:
    _settle_deferred_checks()
    _execute(f"DROP TABLE IF EXISTS {table}")


def _settle_deferred_checks() -> None:
    """Run now the foreign-key checks Django defers to commit: PostgreSQL refuses to drop a
    table with checks still pending on its rows ("pending trigger events"), which happens
    when its rows were written earlier in the same transaction."""
    _execute("SET CONSTRAINTS ALL IMMEDIATE")


def _has_rows(table: str, connection_id: int) -> bool:
    return bool(_fetch(f"SELECT 1 FROM {table} WHERE connection_id = %s LIMIT 1", [connection_id]))


def _execute(sql: str, params: list | None = None) -> None:
    with db.cursor() as cursor:
        cursor.execute(sql, params)


def _fetch(sql: str, params: list | None = None) -> list[tuple]:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
