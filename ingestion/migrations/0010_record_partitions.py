"""IngestedRecord, on PostgreSQL, becomes a table LIST-partitioned by connection.

A connection's first load and a full resync then write into a table without indexes, which
is indexed once and attached as the connection's partition (ingestion/partitions.py): the
load no longer pays for the indexes row by row. A partition key must be part of every unique
key, so the primary key becomes (id, connection_id); ids still come from one sequence, so
``id`` stays unique and stays Django's primary key (the model's state does not change).
Foreign keys to the records (audiences 0005) have no database constraint any more.

The rows are copied: each connection that has records gets a partition of its own, the
DEFAULT partition catches rows of connections without one. Indexes, unique and foreign keys
and extended statistics are carried from the old table to the new, whatever earlier
migrations made. SQLite keeps its plain table.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "ingestion_ingestedrecord"
OLD = f"{TABLE}_old"
SEQUENCE = f"{TABLE}_id_seq"
COLUMNS = (
    "id, connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, deleted_at, "
    "first_seen_at, last_seen_at, last_sync_run_id"
)


def _fetch(schema_editor, sql, params=None):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _layout(schema_editor, table):
    """What to carry to the rebuilt table: index and statistics definitions (naming
    ``table``), and its constraints as (name, kind, definition)."""
    indexes = _fetch(
        schema_editor,
        "SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
        [table],
    )
    statistics = _fetch(
        schema_editor,
        "SELECT stxname, pg_get_statisticsobjdef(oid) FROM pg_statistic_ext "
        "WHERE stxrelid = %s::regclass",
        [table],
    )
    constraints = _fetch(
        schema_editor,
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f')",
        [table],
    )
    return indexes, statistics, constraints


def _set_aside(schema_editor, layout, name):
    """Rename the table and free every name the rebuilt one takes."""
    indexes, statistics, constraints = layout
    execute = schema_editor.execute
    execute(f"ALTER TABLE {TABLE} RENAME TO {name}")
    for index, _definition in indexes:
        execute(f"DROP INDEX {index}")
    for stat, _definition in statistics:
        execute(f"DROP STATISTICS {stat}")
    for constraint, _kind, _definition in constraints:
        execute(f"ALTER TABLE {name} DROP CONSTRAINT {constraint}")


def _dress(schema_editor, layout, primary_key):
    """Give the rebuilt table the old one's keys, indexes and statistics."""
    indexes, statistics, constraints = layout
    execute = schema_editor.execute
    for constraint, kind, definition in constraints:
        if kind == "p":
            definition = f"PRIMARY KEY ({primary_key})"
        execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {constraint} {definition}")
    for _index, definition in indexes:
        execute(definition.replace(" ON ONLY ", " ON "))
    for _stat, definition in statistics:
        execute(definition)


def _name_after_parent(schema_editor, partition, suffix):
    """Name a partition's indexes as the parent's, plus a suffix: query plans name them."""
    rows = _fetch(
        schema_editor,
        "SELECT c.relname, p.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
        "JOIN pg_inherits i ON i.inhrelid = x.indexrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE x.indrelid = %s::regclass",
        [partition],
    )
    for own, parent in rows:
        schema_editor.execute(f"ALTER INDEX {own} RENAME TO {parent}_{suffix}")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    layout = _layout(schema_editor, TABLE)
    _set_aside(schema_editor, layout, OLD)
    execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP IDENTITY IF EXISTS")
    execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP DEFAULT")
    execute(f"CREATE SEQUENCE {SEQUENCE}")
    execute(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING COMPRESSION INCLUDING STORAGE) "
        "PARTITION BY LIST (connection_id)"
    )
    execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')")
    execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
    _dress(schema_editor, layout, "id, connection_id")
    execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    _name_after_parent(schema_editor, f"{TABLE}_default", "default")
    statistics = layout[1]
    for (connection_id,) in _fetch(schema_editor, f"SELECT DISTINCT connection_id FROM {OLD}"):
        name = f"{TABLE}_c{int(connection_id)}_0"
        execute(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES IN ({int(connection_id)})")
        suffix = name.removeprefix(f"{TABLE}_")
        _name_after_parent(schema_editor, name, suffix)
        # Queries of one connection are planned on its partition's statistics alone.
        for stat, definition in statistics:
            expression = definition.partition(" ON ")[2].rsplit(" FROM ", 1)[0]
            execute(f"CREATE STATISTICS {stat}_{suffix} ON {expression} FROM {name}")
    execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {OLD}")
    execute(f"SELECT setval('{SEQUENCE}', COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)")
    execute(f"DROP TABLE {OLD}")


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    for (table,) in _fetch(schema_editor, 'SELECT "table" FROM ingestion_recordload'):
        execute(f"DROP TABLE IF EXISTS {table}")
    parted = f"{TABLE}_parted"
    layout = _layout(schema_editor, TABLE)
    _set_aside(schema_editor, layout, parted)
    execute(f"ALTER TABLE {parted} ALTER COLUMN id DROP DEFAULT")
    # CASCADE: a load table no RecordLoad names any more (its connection deleted mid-load)
    # loses its id default too.
    execute(f"DROP SEQUENCE {SEQUENCE} CASCADE")
    execute(f"CREATE TABLE {TABLE} (LIKE {parted} INCLUDING COMPRESSION INCLUDING STORAGE)")
    execute(f"ALTER TABLE {TABLE} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
    _dress(schema_editor, layout, "id")
    execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {parted}")
    execute(
        f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
        f"COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
    )
    execute(f"DROP TABLE {parted}")


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0006_org_usage"),
        ("ingestion", "0009_data_purge"),
        # The foreign keys to the records lose their constraint first.
        ("audiences", "0005_record_fk_without_constraint"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecordLoad",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("table", models.CharField(max_length=63)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "connection",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="connections.connection",
                    ),
                ),
            ],
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
