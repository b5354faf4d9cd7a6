"""Column generators and the Bulk CSV cell format.

Bulk API 2.0 CSV cells are always quoted (`"Id","Name"` / `"005…","Jane Dunn"`); null is an empty
quoted cell `""` (unverified: the docs only say nulls come back empty — with every value quoted,
`""` is the consistent reading); booleans `true`/`false`; datetimes `2024-04-16T19:00:00.000Z`;
currency/percent/double like `100.0` (observed via Celigo). Integers (`int` fields) are written
without a decimal part (unverified: the observed `23.0` was a Number(18,0) field, i.e. a double).
Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-get-job-results.md
"""

from __future__ import annotations

from emulator.clock import FORMATS
from emulator.data.chunk import pick


def quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


TEXT_CELLS = {
    "string",
    "email",
    "url",
    "phone",
    "picklist",
    "multipicklist",
    "textarea",
    "reference",
    "id",
    "date",
}


def csv_cells(ftype: str, values) -> list[str]:
    """Quoted CSV cells for a column of typed values of a field type."""
    if ftype == "datetime":
        return FORMATS.bulk_column(values)
    if ftype == "boolean":
        return ['"true"' if v else '"false"' for v in values]
    if ftype == "int":
        return ['""' if v is None else f'"{v}"' for v in values]
    if ftype in ("double", "currency", "percent"):
        return ['""' if v is None else '"' + repr(float(v)) + '"' for v in values]
    return ['""' if v is None else '"' + v.replace('"', '""') + '"' for v in values]


def csv_cell(ftype: str, value) -> str:
    return csv_cells(ftype, [value])[0]


class Column:
    """Generates one field's values for a chunk of records.

    CSV cells come from `csv(ch)` when `direct_csv` (pools pick pre-formatted cells), else
    from `cells(typed values)`."""

    ftype = "string"
    direct_csv = False

    def typed(self, ch) -> list:
        raise NotImplementedError

    def csv(self, ch) -> list:
        return self.cells(self.typed(ch))

    def cells(self, values) -> list:
        return csv_cells(self.ftype, values)


class Func(Column):
    """Values computed by a function of the chunk. Generated text never contains a double
    quote (the word lists have none), so by default (`plain=True`) CSV cells skip escaping;
    pass plain=False for a function that may produce one."""

    def __init__(self, ftype: str, fn, plain: bool = True):
        self.ftype = ftype
        self.fn = fn
        self.plain = plain

    def typed(self, ch) -> list:
        return self.fn(ch)

    def cells(self, values) -> list:
        if self.plain and self.ftype in TEXT_CELLS:
            return ['""' if v is None else '"' + v + '"' for v in values]
        return csv_cells(self.ftype, values)


class Const(Column):
    """The same value for every record."""

    direct_csv = True

    def __init__(self, ftype: str, value):
        self.ftype = ftype
        self.value = value
        self.cell = csv_cell(ftype, value)

    def typed(self, ch) -> list:
        return [self.value] * ch.n

    def csv(self, ch) -> list:
        return [self.cell] * ch.n


class Pool(Column):
    """A value drawn from a pool (repeat entries to weight them; include None for nulls).

    `pool` may be a zero-argument callable: the pool is then built on first use, which keeps
    org start-up fast whatever the number of fields."""

    direct_csv = True

    def __init__(self, ftype: str, key: str, pool):
        self.ftype = ftype
        self.key = key
        self._source = pool
        self._pool: list | None = None
        self._cells: list | None = None

    @property
    def pool(self) -> list:
        if self._pool is None:
            src = self._source
            self._pool = list(src() if callable(src) else src)
        return self._pool

    @property
    def cells(self) -> list:
        if self._cells is None:
            self._cells = csv_cells(self.ftype, self.pool)
        return self._cells

    def typed(self, ch) -> list:
        pool = self.pool
        return pick(pool, ch.r(self.key, len(pool)))

    def csv(self, ch) -> list:
        cells = self.cells
        return pick(cells, ch.r(self.key, len(cells)))


class TupleGroup:
    """A pool of tuples whose elements feed several correlated columns (e.g. an address);
    `rows` may be a callable building them on first use."""

    def __init__(self, key: str, rows):
        self.key = key
        self._source = rows
        self._rows: list | None = None

    @property
    def rows(self) -> list:
        if self._rows is None:
            src = self._source
            self._rows = list(src() if callable(src) else src)
        return self._rows

    def column(self, ftype: str, k: int) -> Column:
        return Pool(ftype, self.key, lambda: [row[k] for row in self.rows])


def weighted(*pairs) -> list:
    """A pool from (value, weight) pairs."""
    out = []
    for value, weight in pairs:
        out.extend([value] * weight)
    return out


def with_nulls(values, null_percent: int) -> list:
    """values padded with None so that about null_percent of draws are null."""
    values = list(values)
    if null_percent <= 0:
        return values
    nulls = max(1, round(len(values) * null_percent / (100 - null_percent)))
    return values + [None] * nulls


__all__ = ["Column", "Const", "Func", "Pool", "TupleGroup", "csv_cells", "pick", "quote"]
