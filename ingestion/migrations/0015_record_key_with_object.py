"""The records' primary key becomes (id, connection_id, sobject) on PostgreSQL, so that a
connection's partition can itself be partitioned by object (ingestion/partitions.py): every
unique key of a partitioned table holds its partition keys. Ids still come from one sequence,
so ``id`` stays unique and stays Django's primary key (the model's state does not change).

Cost on an existing table: the key's index is rebuilt on every partition (a B-tree on three
columns, built with parallel workers: about 10 s per 10M records here). Partitions loaded
before keep one table for all objects until their next full resync into a new load table (a
load already under way in one table carries on in it, resynced or not).

Undoing it turns every connection partition or load under way that is partitioned by object
back into one table (a copy of its rows), as the old key cannot hold over them.
SQLite keeps its plain table.
"""

from django.db import migrations

TABLE = "ingestion_ingestedrecord"
KEY = f"{TABLE}_pkey"
COLUMNS = (
    "id, connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, deleted_at, "
    "first_seen_at, last_seen_at, last_sync_run_id"
)


def _fetch(schema_editor, sql, params=None):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _set_key(schema_editor, columns: str) -> None:
    execute = schema_editor.execute
    execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {KEY}")
    execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {KEY} PRIMARY KEY ({columns})")
    # Named as ingestion.partitions names a load's (``…_pkey_c7_1a2b3c4d``): plans name them.
    # (Undoing it, the partitions flattened are attached after this, with PostgreSQL's names.)
    for own, partition in _fetch(
        schema_editor,
        "SELECT c.relname, t.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_index x ON x.indexrelid = c.oid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE i.inhparent = %s::regclass",
        [KEY],
    ):
        execute(f"ALTER INDEX {own} RENAME TO {KEY}_{partition.removeprefix(TABLE + '_')}")


def key_with_object(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _set_key(schema_editor, "id, connection_id, sobject")


def _partitioned_by_object(schema_editor) -> list[tuple[str, str | None]]:
    """(name, partition bound or None for a load under way) of each table of records that is
    partitioned by object."""
    return _fetch(
        schema_editor,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_class c "
        "WHERE c.relkind = 'p' AND c.relname LIKE %s",
        [f"{TABLE}\\_c%"],
    )


def _flatten(schema_editor, table: str) -> None:
    execute = schema_editor.execute
    execute(f"ALTER TABLE {table} RENAME TO {table}_by_object")
    execute(
        f"CREATE TABLE {table} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING GENERATED "
        "INCLUDING COMPRESSION INCLUDING STORAGE)"
    )
    execute(f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM {table}_by_object")
    execute(f"DROP TABLE {table}_by_object")


def key_without_object(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    tables = _partitioned_by_object(schema_editor)
    for table, bound in tables:
        if bound is not None:
            schema_editor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {table}")
        _flatten(schema_editor, table)
    _set_key(schema_editor, "id, connection_id")
    for table, bound in tables:
        if bound is not None:  # ATTACH builds its indexes
            schema_editor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {table} {bound}")


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0014_reconcile_seen_ids_without_constraint")]

    operations = [migrations.RunPython(key_with_object, key_without_object)]
