"""Expressions over a record's ``data`` shared by the model (its generated column) and the
audience filter compiler."""

from __future__ import annotations

from django.db.models.fields.json import KeyTextTransform, compile_json_path


class FieldText(KeyTextTransform):
    """``data->>'Name'``: SQL NULL for a missing key and for a JSON null, on both databases.

    Django's own SQLite form returns the text 'null' for a JSON null (to tell it from a
    missing key), which would make "is unknown" miss empty fields. The path is written into
    the SQL as a literal (quotes doubled), not bound: SQLite uses an index on an expression
    only when the query spells the same expression, constants included (audiences migration
    0004). Reference: https://www.sqlite.org/expridx.html
    """

    def as_sqlite(self, compiler, connection):
        lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
        path = compile_json_path(key_transforms).replace("'", "''")
        return f"JSON_EXTRACT({lhs}, '{path}')", tuple(params)
