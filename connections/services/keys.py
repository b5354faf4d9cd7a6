"""Re-encrypting stored secrets with the first ``FIELD_ENCRYPTION_KEY`` (key rotation).

Rows are read and written as ciphertext with plain SQL: the ORM would decrypt on read and
encrypt on write, and a compare-and-set on the old ciphertext keeps a token refreshed by a
worker meanwhile (already under the new key) from being overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.db import connection as db
from django.db import models, transaction

from connections.fields import EncryptedTextField, fernet


@dataclass
class RotationBatch:
    """What one batch of rows came to."""

    last_pk: object = None
    rows: int = 0
    reencrypted: int = 0
    current: int = 0
    unreadable: int = 0
    unreadable_pks: list = field(default_factory=list)


def encrypted_models() -> Iterator[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted columns, and those columns."""
    for model in apps.get_models():
        columns = [
            f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if columns:
            yield model, columns


def _first_key() -> Fernet:
    first = next(k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip())
    return Fernet(first.encode())


def encrypted_rows_rotate(
    *, model: type[models.Model], columns: list[str], after_pk=None, batch_size: int = 500
) -> RotationBatch:
    """Re-encrypt one batch of rows (primary key above ``after_pk``) in one transaction."""
    quote = db.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    names = ", ".join(quote(c) for c in columns)
    where = f"WHERE {pk} > %s " if after_pk is not None else ""
    params = [after_pk] if after_pk is not None else []
    batch = RotationBatch(last_pk=after_pk)
    first = _first_key()
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {names} FROM {table} {where}ORDER BY {pk} LIMIT %s",
            [*params, batch_size],
        )
        for row_pk, *values in cursor.fetchall():
            batch.rows += 1
            batch.last_pk = row_pk
            _rotate_row(cursor, table, pk, row_pk, columns, values, first, batch)
    return batch


def _rotate_row(cursor, table, pk, row_pk, columns, values, first, batch) -> None:
    quote = db.ops.quote_name
    changed = unreadable = False
    for column, value in zip(columns, values, strict=True):
        if not value:
            continue
        token = value.encode()
        try:
            first.decrypt(token)
            continue
        except InvalidToken:
            pass
        try:
            rotated = fernet().rotate(token).decode()
        except InvalidToken:
            unreadable = True
            continue
        cursor.execute(
            f"UPDATE {table} SET {quote(column)} = %s WHERE {pk} = %s AND {quote(column)} = %s",
            [rotated, row_pk, value],
        )
        changed = True
    if unreadable:
        batch.unreadable += 1
        batch.unreadable_pks.append(row_pk)
    elif changed:
        batch.reencrypted += 1
    else:
        batch.current += 1
