"""Inserting many rows at once without building a model instance for each.

On a 120,000-row list ``bulk_create`` spent most of the import preparing values one by one
(bench/site_load.py, profiled); one ``executemany`` per batch does the same insert several
times faster on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model


def rows_insert(
    model: type[Model], fields: list[str], rows: list[tuple], *, ignore_conflicts: bool = False
) -> None:
    """INSERT ``rows`` (tuples of values in ``fields`` order) into ``model``'s table.

    Values go in as they are: callers adapt JSON with ``json_value``. ``ignore_conflicts``
    skips rows that break a unique constraint (``ON CONFLICT DO NOTHING``, which SQLite has
    since 3.24). The caller owns the transaction.
    """
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def json_value(model: type[Model], name: str, value: object) -> object:
    """``value`` adapted for the JSON field ``name`` of ``model``, as the ORM's
    ``JSONField.get_db_prep_value`` does, without its per-call overhead."""
    field = model._meta.get_field(name)
    return connection.ops.adapt_json_value(value, field.encoder)


def tables_analyze(*models: type[Model]) -> None:
    """Refresh PostgreSQL's statistics of these tables after a bulk load.

    Autovacuum analyzes a table some time after many rows change; an evaluation that runs
    right after a 120,000-row list was matched otherwise plans its list lookup for one row
    and took 85 s instead of 0.1 s (bench/site_load.py). ANALYZE samples, so it is quick.
    Reference: https://www.postgresql.org/docs/current/sql-analyze.html
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(m._meta.db_table) for m in models))
