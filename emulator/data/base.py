"""Per-object generators and the time model that makes SystemModstamp windows cheap.

Time model: CreatedDate is monotonic in the record index (spread evenly over the object's span,
with jitter smaller than one step), and SystemModstamp is CreatedDate plus a bounded delta for
80% of records (45% never modified, 35% modified within 30 days) while 20% were "touched later",
anywhere up to the data end. A SystemModstamp window [lo, hi) therefore maps to an index range
(records created in [lo - 30 days, hi)) plus the touched-later records in the window, found in a
compact sorted array built once per object. Only those candidates are generated and checked.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from functools import partial
from itertools import compress

from emulator.data.chunk import Chunk, RandomTables
from emulator.data.columns import Column, Func, Pool
from emulator.ids import IdCodec

DAY = 86400
TIME_FIELDS = ("CreatedDate", "SystemModstamp", "LastModifiedDate")
MOD_DELTA = 30 * DAY
SAME_PCT = 45  # never modified after creation
LATE_PCT = 20  # modified any time up to the data end


class OrgData:
    """What generators share: seed, record counts, data time range, Ids, other generators."""

    def __init__(self, seed: int, counts: dict[str, int], data_end: int, sandbox: bool, users=None):
        from emulator.users import USERS

        self.seed = seed
        self.users = users or USERS
        self.counts = counts
        self.data_end = data_end
        self.data_start = data_end - 6 * 365 * DAY
        self.sandbox = sandbox
        self.tables = RandomTables(seed)
        self.codecs: dict[str, IdCodec] = {}
        self.gens: dict[str, ObjectGen] = {}

    def child_span(self) -> tuple[int, int]:
        """Children start a day after parents: with parent indexes chosen one step behind the
        proportional position, a parent is always created before its children."""
        return self.data_start + DAY, self.data_end

    def codec(self, prefix: str) -> IdCodec:
        codec = self.codecs.get(prefix)
        if codec is None:
            codec = self.codecs[prefix] = IdCodec(prefix)
        return codec


class LateRecords:
    """Indexes of records touched after their creation, bucketed by SystemModstamp over the
    data's time span: a window reads the buckets it overlaps. Sorting 765,000 (stamp, index)
    pairs for the 3.75M contacts took 0.9 s of 3.2 s, at the start of a windowed load, which
    waits for it; bucketing needs no sort. About 200 records per bucket, 4,096 at most."""

    def __init__(self, start: int, end: int, records: int):
        self.buckets = min(max(records // 200, 1), 4096)
        self.start = start
        self.width = max((end - start) // self.buckets, 1)
        self.stamps = [array("q") for _ in range(self.buckets)]
        self.indexes = [array("I") for _ in range(self.buckets)]

    def _bucket(self, stamp: int) -> int:
        return min(max((stamp - self.start) // self.width, 0), self.buckets - 1)

    def add(self, stamps: list[int], indexes: list[int]) -> None:
        bucket, by_stamp, by_index = self._bucket, self.stamps, self.indexes
        for stamp, index in zip(stamps, indexes, strict=True):
            b = bucket(stamp)
            by_stamp[b].append(stamp)
            by_index[b].append(index)

    def between(self, lo: int, hi: int | None) -> list[int]:
        """The indexes whose stamp lies in [lo, hi) (hi None: no upper end)."""
        last = self.buckets - 1 if hi is None else self._bucket(hi - 1)
        found = []
        for b in range(self._bucket(lo), last + 1):
            found.extend(
                index
                for stamp, index in zip(self.stamps[b], self.indexes[b], strict=True)
                if lo <= stamp and (hi is None or stamp < hi)
            )
        return found


class TimeModel:
    """CreatedDate and SystemModstamp of generated records, and index ranges for windows."""

    def __init__(self, gen: ObjectGen, start: int, end: int):
        self.gen = gen
        self.start = start
        self.end = end
        self.count = max(gen.count, 1)
        self.span = max(end - start, 1)
        self.step = max(self.span // self.count, 1)
        self._late: LateRecords | None = None

    def created(self, ch: Chunk) -> list[int]:
        start, span, count = self.start, self.span, self.count
        jitter = ch.r("created", self.step)
        return [start + (i * span) // count + j for i, j in zip(ch.idxs, jitter, strict=True)]

    def modstamp(self, ch: Chunk) -> list[int]:
        created = ch.typed("CreatedDate")
        kind = ch.r("mod_kind", 100)
        frac = ch.r("mod_frac", 65536)
        end = self.end
        same, late = SAME_PCT, 100 - LATE_PCT
        out = []
        append = out.append
        for c, k, f in zip(created, kind, frac, strict=True):
            if k < same or c >= end:
                append(c)
            elif k >= late:
                append(c + (((end - c) * f) >> 16))
            else:
                m = c + ((MOD_DELTA * f) >> 16)
                append(m if m < end else end)
        return out

    def created_floor(self, index: int) -> int:
        """No generated record from ``index`` on was created before this (the jitter only adds),
        nor has a SystemModstamp before it (a record's stamp is never before its creation)."""
        return self.start + (index * self.span) // self.count

    def created_at(self, index: int) -> int:
        return self.created(Chunk(self.gen, [index]))[0]

    def first_index_created_at_or_after(self, epoch: int) -> int:
        """Smallest generated index whose CreatedDate >= epoch (count when none)."""
        return bisect_left(range(self.gen.count), epoch, key=self.created_at)

    def late_records(self) -> LateRecords:
        """The touched-later records' SystemModstamps, for windows to find (built once)."""
        if self._late is None:
            late = LateRecords(self.start, self.end, self.gen.count)
            is_late = (100 - LATE_PCT).__le__
            for lo in range(0, self.gen.count, 50000):
                block = range(lo, min(lo + 50000, self.gen.count))
                kinds = Chunk(self.gen, block).r("mod_kind", 100)
                chosen = list(compress(block, map(is_late, kinds)))
                if chosen:
                    late.add(Chunk(self.gen, chosen).typed("SystemModstamp"), chosen)
            self._late = late
        return self._late

    def modstamp_candidates(self, lo: int | None, hi: int | None) -> list[int] | range:
        """Generated indexes that may have SystemModstamp in [lo, hi) (a superset)."""
        count = self.gen.count
        i_lo = 0 if lo is None else self.first_index_created_at_or_after(lo - MOD_DELTA)
        i_hi = count if hi is None else self.first_index_created_at_or_after(hi)
        if lo is None:
            return range(0, i_hi)
        extra = [i for i in self.late_records().between(lo, hi) if i < i_lo or i >= i_hi]
        if not extra:
            return range(i_lo, i_hi)
        return sorted([*range(i_lo, i_hi), *extra])

    def created_candidates(self, lo: int | None, hi: int | None) -> range:
        i_lo = 0 if lo is None else self.first_index_created_at_or_after(lo)
        i_hi = self.gen.count if hi is None else self.first_index_created_at_or_after(hi)
        return range(i_lo, max(i_lo, i_hi))


class Alias(Column):
    """Another column's values (and CSV cells, formatted once)."""

    direct_csv = True

    def __init__(self, ftype: str, source: str):
        self.ftype = ftype
        self.source = source

    def typed(self, ch: Chunk) -> list:
        return ch.typed(self.source)

    def csv(self, ch: Chunk) -> list:
        return ch.csv(self.source)


class IdColumn(Column):
    ftype = "id"
    direct_csv = True

    def __init__(self, codec: IdCodec):
        self.codec = codec

    def typed(self, ch: Chunk) -> list:
        ids = ch.by_runs(self.codec.encode_range)
        return ids if ids is not None else self.codec.encode_many(ch.idxs)

    def csv(self, ch: Chunk) -> list:
        cells = ch.by_runs(partial(self.codec.encode_range, quote=True))
        return cells if cells is not None else ['"' + s + '"' for s in ch.typed("Id")]


class RefColumn(Column):
    """A reference column from a function giving the parent index (or None) per record."""

    ftype = "reference"

    def __init__(self, codec: IdCodec, parent_index):
        self.codec = codec
        self.parent_index = parent_index

    def typed(self, ch: Chunk) -> list:
        return self.codec.encode_many(self.parent_index(ch))

    def cells(self, values) -> list:
        return ['""' if s is None else '"' + s + '"' for s in values]


class FixedRows(Column):
    """Overrides some records' values (the emulated users, the organization)."""

    direct_csv = True

    def __init__(self, inner: Column, name: str, rows: dict[int, dict]):
        self.inner = inner
        self.ftype = inner.ftype
        self.name = name
        self.rows = rows

    def _patch(self, ch: Chunk, values: list, fmt) -> list:
        values = list(values)
        rows = self.rows
        for pos, i in enumerate(ch.idxs):
            row = rows.get(i)
            if row is not None and self.name in row:
                values[pos] = fmt(row[self.name])
        return values

    def typed(self, ch: Chunk) -> list:
        return self._patch(ch, self.inner.typed(ch), lambda v: v)

    def csv(self, ch: Chunk) -> list:
        from emulator.data.columns import csv_cell

        return self._patch(ch, self.inner.csv(ch), lambda v: csv_cell(self.ftype, v))


class ObjectGen:
    """Generates the records of one sObject from their indexes."""

    def __init__(self, data: OrgData, name: str, prefix: str, count: int, span: tuple[int, int]):
        self.data = data
        self.name = name
        self.count = count
        self.tables = data.tables
        self.codec = data.codec(prefix)
        self.time = TimeModel(self, *span)
        self.columns: dict[str, Column] = {}
        self.fixed: dict[int, dict] = {}
        self.add("Id", IdColumn(self.codec))
        self.add("CreatedDate", Func("datetime", self.time.created))
        self.add("SystemModstamp", Func("datetime", self.time.modstamp))
        self.add("LastModifiedDate", Alias("datetime", "SystemModstamp"))
        # The columns whose values the time model bounds (ObjectStore.time_modelled)
        self.time_columns = {name: self.columns[name] for name in TIME_FIELDS}
        data.gens[name] = self

    def add(self, name: str, column: Column) -> None:
        self.columns[name] = column

    def column(self, name: str) -> Column:
        col = self.columns[name]
        if self.fixed:
            return FixedRows(col, name, self.fixed)
        return col

    def chunk(self, idxs) -> Chunk:
        return Chunk(self, idxs)

    def parent_proportional(self, ch: Chunk, parent: str, spread: int, null_pct: int = 0) -> list:
        """Parent index just behind the proportional position (minus up to spread - 1): the
        parent was created before the child, and neighbouring children share parents."""
        n_parent = self.data.counts.get(parent, 0)
        if n_parent == 0:
            return [None] * ch.n
        ratio_num, ratio_den = n_parent, max(self.count, 1)
        back = ch.r(f"parent:{parent}", spread)
        nulls = ch.r(f"parent-null:{parent}", 100)
        top = n_parent - 1
        out = []
        append = out.append
        for i, b, z in zip(ch.idxs, back, nulls, strict=True):
            if z < null_pct:
                append(None)
                continue
            p = (i * ratio_num) // ratio_den - 1
            p = (top if p > top else p) - b
            append(p if p > 0 else 0)
        return out


def user_ref_pool(data: OrgData, key: str, weights: dict[str, int]) -> Pool:
    """A reference column drawing from user Ids: 'integration', 'admin' and 'reps' weights."""
    from emulator.users import ADMIN_INDEX, FIRST_REP_INDEX, INTEGRATION_INDEX

    codec = data.codec("005")
    n_users = data.counts.get("User", FIRST_REP_INDEX + 1)
    reps = [codec.encode(i) for i in range(FIRST_REP_INDEX, max(n_users, FIRST_REP_INDEX + 1))]
    pool: list[str] = []
    pool += [codec.encode(INTEGRATION_INDEX)] * weights.get("integration", 0) * len(reps)
    pool += [codec.encode(ADMIN_INDEX)] * weights.get("admin", 0) * len(reps)
    pool += reps * weights.get("reps", 0)
    return Pool("reference", key, pool)
