"""Column-at-a-time record generation.

A record's values are a pure function of (seed, object, index). Rendering pages of 50,000 rows a
second in Python needs work done per *column* in C-level loops, not per cell: each random choice
comes from a table of pseudo-random ints with a prime period (one table per purpose), so the
values for a contiguous run of indexes are one array slice, and picking from a pool of
pre-formatted strings is one `itemgetter` call. Different purposes use different prime periods,
so combinations of values do not repeat in practice even though each table is small.
"""

from __future__ import annotations

import operator
import random
import zlib
from array import array
from functools import partial
from operator import itemgetter


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    f = 2
    while f * f <= n:
        if n % f == 0:
            return False
        f += 1
    return True


def prime_period(key: str) -> int:
    """A prime period in [20000, 45000) chosen by key (stable across runs)."""
    n = 20000 + zlib.crc32(key.encode()) % 25000
    while not _is_prime(n):
        n -= 1
    return n


class RandomTables:
    """Per-seed tables of pseudo-random ints, built on first use."""

    def __init__(self, seed: int):
        self.seed = seed
        self._tables: dict[tuple[str, int], array] = {}

    def table(self, key: str, modulus: int) -> array:
        """Values uniform in [0, modulus), prime length, deterministic from (seed, key)."""
        t = self._tables.get((key, modulus))
        if t is None:
            period = prime_period(key)
            rng = random.Random(f"{self.seed}/{key}")
            raw = array("I", rng.randbytes(4 * period))
            t = array("I", [v % modulus for v in raw])
            self._tables[(key, modulus)] = t
        return t


def pick(pool, positions) -> list:
    """[pool[p] for p in positions], at C speed."""
    n = len(positions)
    if n > 1:
        return list(itemgetter(*positions)(pool))
    if n == 1:
        return [pool[positions[0]]]
    return []


def _is_run(idxs, start: int) -> bool:
    """Whether ``idxs`` are ``start, start + 1, ...`` in that order. Its two ends alone do
    not say so: a query's ORDER BY (``ORDER BY SystemModstamp LIMIT 7`` gave indexes 1, 0, 2,
    3, 5, 6, 7) or a page of children's parents can have a run's ends and not be one, and
    their records were then given the values of the run's indexes in order (another record's
    SystemModstamp)."""
    if isinstance(idxs, range):
        return idxs.step == 1
    return all(map(operator.eq, idxs, range(start, start + len(idxs))))


def _periodic_run(table, first: int, count: int):
    """``table[i % len(table)]`` for ``i`` in ``range(first, first + count)``, by slices."""
    period = len(table)
    start = first % period
    if start + count <= period:
        return table[start : start + count]
    out = table[:0]  # an empty list or array of the table's kind
    while count > 0:
        take = min(count, period - start)
        out.extend(table[start : start + take])
        count -= take
        start = 0
    return out


# A chunk whose indexes span at most this many times their number is drawn as the whole
# span, by slices, and its own picked out (_dense_hull).
DENSE_SPAN = 2


def _dense_hull(idxs):
    """(first index, span, a picker of the chunk's positions in the span) when ``idxs`` lie
    dense in their span, else None. A Bulk job cut by SystemModstamp matches most records of
    its stretch of indexes, not all (a fifth of them were touched later, and are another
    window's): drawing per index took 9.9 us a row of contacts against 5.6 us for a run
    (bench/README.md, "Windowed pages drawn by slices")."""
    n = len(idxs)
    if n < 2:
        return None
    first, last = min(idxs), max(idxs)
    span = last - first + 1
    if span > DENSE_SPAN * n:
        return None
    return first, span, itemgetter(*[i - first for i in idxs])


class Chunk:
    """A set of record indexes of one object, with memoised columns and random draws."""

    __slots__ = ("contig", "gen", "hull", "i0", "idxs", "memo", "n")

    def __init__(self, gen, idxs):
        self.gen = gen
        self.idxs = idxs
        self.n = len(idxs)
        self.i0 = idxs[0] if self.n else 0
        self.contig = self.n > 0 and idxs[-1] - self.i0 == self.n - 1 and _is_run(idxs, self.i0)
        self.hull = None if self.contig else _dense_hull(idxs)
        self.memo: dict = {}

    def r(self, key: str, modulus: int):
        """A random int in [0, modulus) per record, for the purpose named key."""
        mkey = ("r", key, modulus)
        hit = self.memo.get(mkey)
        if hit is not None:
            return hit
        out = self._periodic(self.gen.tables.table(self.gen.name + ":" + key, modulus))
        self.memo[mkey] = out
        return out

    def slots(self, slots: list) -> list:
        """Values of a table-ordered list (see ObjectStore._slots) for the chunk's records."""
        return self._periodic(slots)

    def by_runs(self, draw):
        """``draw(first, count)`` gives the values of the records of a run of indexes: the
        chunk's own values from it when the chunk is a run, or lies dense in one (drawn over
        its span, its own picked out: _dense_hull); None when it is sparse."""
        if self.contig:
            return draw(self.i0, self.n)
        if self.hull is not None:
            first, span, positions = self.hull
            return list(positions(draw(first, span)))
        return None

    def _periodic(self, table):
        """``table[i % len(table)]`` for each of the chunk's indexes ``i``, by slices where it
        can (by_runs)."""
        out = self.by_runs(partial(_periodic_run, table))
        if out is not None:
            return out
        period = len(table)
        return [table[i % period] for i in self.idxs]

    def typed(self, name: str) -> list:
        """Typed values of a field for every record of the chunk."""
        mkey = ("t", name)
        hit = self.memo.get(mkey)
        if hit is None:
            hit = self.gen.column(name).typed(self)
            self.memo[mkey] = hit
        return hit

    def csv(self, name: str) -> list:
        """Quoted Bulk CSV cells of a field for every record of the chunk."""
        mkey = ("c", name)
        hit = self.memo.get(mkey)
        if hit is None:
            col = self.gen.column(name)
            hit = col.csv(self) if col.direct_csv else col.cells(self.typed(name))
            self.memo[mkey] = hit
        return hit

    def shared(self, key: str, build):
        """An intermediate result shared by several columns (e.g. a chosen city)."""
        hit = self.memo.get(("s", key))
        if hit is None:
            hit = build(self)
            self.memo[("s", key)] = hit
        return hit
