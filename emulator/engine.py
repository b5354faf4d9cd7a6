"""Runs compiled queries over the object stores: candidates, filtering, ordering, rendering.

Rows are always produced "as of" a sequence number, so a result computed once (a Bulk job's
matching indexes, a REST query cursor) can be rendered page by page later and still show the
data as it was.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left

from emulator.clock import FORMATS
from emulator.data.columns import csv_cells
from emulator.data.store import ObjectStore
from emulator.soql.plan import Column, Plan

CHUNK = 4096
# sorted as they are; other types sort case-insensitively, as SOQL text does
UNFOLDED = {"int", "double", "currency", "percent", "boolean", "datetime", "id", "reference"}
ADDRESS_KEYS = (
    ("City", "city"),
    ("Country", "country"),
    ("GeocodeAccuracy", "geocodeAccuracy"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
    ("PostalCode", "postalCode"),
    ("State", "state"),
    ("Street", "street"),
)


class Engine:
    """Query execution over a set of object stores."""

    def __init__(self, stores: dict[str, ObjectStore]):
        self.stores = stores

    # ----------------------------------------------------------------- columns
    def fetch(self, sobject: str, idxs, columns: list[Column], seq: int, csv: bool = False):
        """Columns (aligned with `columns`) for the records idxs; follows parent references."""
        store = self.stores[sobject]
        n = len(idxs)
        result: list = [None] * len(columns)
        direct = [(k, c) for k, c in enumerate(columns) if not c.chain]
        if direct:
            cols = store.columns(idxs, [c.field.name for _, c in direct], seq, csv)
            for (k, _), col in zip(direct, cols, strict=True):
                result[k] = col
        groups: dict[str, list] = {}
        for k, c in enumerate(columns):
            if c.chain:
                groups.setdefault(c.chain[0].name, []).append((k, c))
        for ref_name, members in groups.items():
            parent = members[0][1].objects[1]
            pstore = self.stores[parent]
            ref_ids = store.columns(idxs, [ref_name], seq)[0]
            decode = pstore.gen.codec.decode
            pidx = [None if r is None else decode(r) for r in ref_ids]
            positions = [p for p, x in enumerate(pidx) if x is not None and pstore.exists(x, True)]
            subs = [Column(c.key[1:], c.chain[1:], c.objects[1:], c.field) for _, c in members]
            sub = (
                self.fetch(parent, [pidx[p] for p in positions], subs, seq, csv)
                if positions
                else [[] for _ in subs]
            )
            for (k, c), scol in zip(members, sub, strict=True):
                null = csv_cells(c.field.type, [None])[0] if csv else None
                full = [null] * n
                for p, v in zip(positions, scol, strict=True):
                    full[p] = v
                result[k] = full
        return result

    # -------------------------------------------------------------- candidates
    def candidates(self, plan: Plan, store: ObjectStore):
        """The cheapest superset of the records that can match (ascending indexes)."""
        options = []
        codec = store.gen.codec
        if plan.id_list is not None:
            found = {codec.decode(v) for v in plan.id_list}
            options.append(sorted(i for i in found if i is not None))
        if plan.id_bounds is not None:
            options.append(self._id_range(plan.id_bounds, store))
        if plan.modstamp is not None:
            options.append(store.modstamp_candidates(*plan.modstamp))
        if plan.created is not None:
            options.append(store.created_candidates(*plan.created))
        if not options:
            return range(store.next_index)
        return min(options, key=len)

    @staticmethod
    def _id_range(bounds, store: ObjectStore) -> range:
        head = store.gen.codec.head()
        lo_b, hi_b = bounds
        lo, hi = 0, store.next_index
        if lo_b is not None:
            value, strict = lo_b
            if value[:6] > head:
                return range(0)
            if value[:6] == head:
                i = store.gen.codec.decode(value)
                if i is not None:
                    lo = i + 1 if strict else i
        if hi_b is not None:
            value, inclusive = hi_b
            if value[:6] < head:
                return range(0)
            if value[:6] == head:
                i = store.gen.codec.decode(value)
                if i is not None:
                    hi = min(hi, i + 1 if inclusive else i)
        return range(lo, max(lo, hi))

    # ----------------------------------------------------------------- matches
    def matching(self, plan: Plan, *, include_deleted: bool, seq: int) -> array:
        """Indexes of the matching records, in result order, after OFFSET and LIMIT."""
        store = self.stores[plan.sobject.name]
        cands = self.candidates(plan, store)
        excluded = _excluded(store, include_deleted)
        lo = plan.offset or 0
        hi = None if plan.limit is None else lo + plan.limit  # rows up to the LIMIT's last
        stop = None if plan.order else hi  # unordered, matching can stop there
        if plan.order and hi is not None:
            cands = self._stamp_order_head(plan, store, cands, excluded, hi, seq)
        out = array("I")
        if plan.predicate is None:
            if excluded:
                cands = [i for i in cands if i not in excluded and i < store.next_index]
            out = array("I", cands[:stop] if stop is not None else cands)
        else:
            for start in range(0, len(cands), CHUNK):
                out.extend(self._kept(plan, cands[start : start + CHUNK], excluded, seq))
                if stop is not None and len(out) >= stop:
                    break
        if plan.order:
            out = self._sorted(plan, out, seq, hi)
        if lo or hi is not None:
            out = out[lo:hi]
        return out

    def _kept(self, plan: Plan, part, excluded, seq: int) -> list[int]:
        """The records of ``part`` the WHERE clause keeps (deleted or purged ones left out)."""
        if excluded:
            part = [i for i in part if i not in excluded]
        if not part:
            return []
        if plan.predicate is None:
            return list(part)
        cols = self.fetch(plan.sobject.name, part, plan.filter_columns, seq)
        by_key = dict(zip((c.key for c in plan.filter_columns), cols, strict=True))
        mask = plan.predicate.eval(by_key.__getitem__)
        return [i for i, keep in zip(part, mask, strict=True) if keep]

    def _stamp_order_head(self, plan: Plan, store: ObjectStore, cands, excluded, first, seq):
        """The candidates that can be among the ``first`` rows of ``ORDER BY <stamp> ASC``.

        Salesforce answers ``ORDER BY SystemModstamp ASC LIMIT 1`` from the field's index, and
        the engine asks it of every object it cuts into windows (``ObjectReader._lowest_stamp``).
        Generated records are created in index order, and none has a stamp before its creation
        (``ObjectStore.stamp_floor``): once the ``first`` lowest stamps matched so far are all
        below the floor of the next candidate, no later generated record can displace them,
        nor tie with them. Irregular records (changed, created, fixed) are kept to be checked.
        Sorting every stamp of the ``enterprise`` profile's 3.75M contacts for the one row
        took 6 s, during which the sync waited."""
        column, desc, _ = plan.order[0]
        name = column.field.name
        if (
            len(plan.order) > 1
            or desc
            or column.chain
            or not store.time_modelled(name)
            or first < 1
        ):
            return cands
        lowest: list[int] = []  # the ``first`` lowest stamps so far, negated (a max-heap)
        for start in range(0, len(cands), CHUNK):
            if len(lowest) >= first and store.stamp_floor(cands[start]) > -lowest[0]:
                return _with_irregular(cands, start, store)
            kept = self._kept(plan, cands[start : start + CHUNK], excluded, seq)
            for stamp in self.fetch(plan.sobject.name, kept, [column], seq)[0] if kept else ():
                if stamp is None:
                    continue  # only an irregular record's stamp can be null: it is kept
                if len(lowest) < first:
                    heapq.heappush(lowest, -stamp)
                elif stamp < -lowest[0]:
                    heapq.heapreplace(lowest, -stamp)
        return cands

    def count(self, plan: Plan, *, include_deleted: bool, seq: int) -> int:
        store = self.stores[plan.sobject.name]
        unfiltered = plan.predicate is None and plan.id_list is None and plan.id_bounds is None
        if unfiltered and plan.modstamp is None and plan.created is None:
            total = store.count(include_deleted)
            if plan.limit is not None:
                total = min(total, plan.limit)
            return total
        if (
            plan.limit is None
            and plan.offset is None
            and _every_generated_stamp_within(plan, store)
        ):
            return self._count_past_every_stamp(plan, store, include_deleted, seq)
        return len(self.matching(plan, include_deleted=include_deleted, seq=seq))

    def _count_past_every_stamp(self, plan: Plan, store, include_deleted: bool, seq: int) -> int:
        """COUNT() of a window that holds every generated record (a load's first count, ``WHERE
        SystemModstamp < now``): the regular records all match, the irregular ones are checked.
        Checking each of the ``enterprise`` profile's 3.75M contacts took 2.4 s."""
        excluded = _excluded(store, include_deleted)
        irregular = store.irregular()
        regular = store.generated - bisect_left(irregular, store.generated)
        return regular + len(self._kept(plan, irregular, excluded, seq))

    def _sorted(self, plan: Plan, idxs: array, seq: int, first: int | None = None) -> array:
        """``idxs`` in the ORDER BY's order; only the ``first`` of them when the query has a
        LIMIT (OFFSET + LIMIT) and one ORDER BY field, picked in O(n log first) rather than
        sorted (bench/README.md, "The scale part on a quicker day")."""
        keys: list[list] = [[] for _ in plan.order]
        cols = [c for c, _, _ in plan.order]
        for start in range(0, len(idxs), CHUNK):
            part = idxs[start : start + CHUNK]
            fetched = self.fetch(plan.sobject.name, part, cols, seq)
            for k, col in enumerate(fetched):
                keys[k].extend(col)
        order = list(range(len(idxs)))
        for k in reversed(range(len(plan.order))):
            col, desc, nulls_last = plan.order[k]
            values = keys[k]
            text = col.field.type not in UNFOLDED

            def key(p, values=values, text=text, desc=desc, nulls_last=nulls_last):
                v = values[p]
                if v is None:
                    # nulls sort as a group at one end, whatever the direction
                    return (1 if nulls_last != desc else 0, 0)
                return (0 if nulls_last != desc else 1, v.lower() if text else v)

            if first is not None and len(plan.order) == 1 and first < len(order):
                # The same rows in the same order as sorting all and slicing (heapq's
                # nsmallest and nlargest are documented as exactly that), in O(n log first).
                pick = heapq.nlargest if desc else heapq.nsmallest
                order = pick(first, order, key=key)
            else:
                order.sort(key=key, reverse=desc)
        return array("I", [idxs[p] for p in order])

    # --------------------------------------------------------------- rendering
    def rest_records(self, plan: Plan, idxs, seq: int, version: str) -> list[dict]:
        """Records as the REST query resource returns them (parents nested, null when unset)."""
        sobject = plan.sobject.name
        cols = self.fetch(sobject, idxs, plan.columns, seq)
        extra = [Column(("Id",), (), (sobject,), plan.sobject.field("Id"))]
        prefixes: list[tuple] = []
        for c in plan.columns:
            for depth in range(1, len(c.chain) + 1):
                prefix = tuple(f.rel for f in c.chain[:depth])
                if prefix not in prefixes:
                    prefixes.append(prefix)
                    parent = self.stores[c.objects[depth]].obj
                    extra.append(
                        Column(
                            (*prefix, "Id"),
                            c.chain[:depth],
                            c.objects[: depth + 1],
                            parent.field("Id"),
                        )
                    )
        compounds = self._compound_columns(plan)
        fetched = self.fetch(sobject, idxs, extra + [c for _, c in compounds], seq)
        ids = fetched[0]
        parent_ids = dict(zip(prefixes, fetched[1 : len(extra)], strict=True))
        compound_values = {
            spec: col for (spec, _), col in zip(compounds, fetched[len(extra) :], strict=True)
        }
        root = f"/services/data/v{version}/sobjects/"
        values = [
            _json_column(col, raw, version, compound_values, ids, parent_ids)
            for col, raw in zip(plan.columns, cols, strict=True)
        ]
        direct = [col.key[-1] for col in plan.columns if not col.chain]
        direct_values = [v for col, v in zip(plan.columns, values, strict=True) if not col.chain]
        chained = [(col, v) for col, v in zip(plan.columns, values, strict=True) if col.chain]
        records = []
        for row, sf_id in enumerate(ids):
            rec = {"attributes": {"type": sobject, "url": root + sobject + "/" + sf_id}}
            for name, column in zip(direct, direct_values, strict=True):
                rec[name] = column[row]
            for col, column in chained:
                target = rec
                rels = tuple(f.rel for f in col.chain)
                for depth in range(len(rels)):
                    pid = parent_ids[rels[: depth + 1]][row]
                    name = rels[depth]
                    if pid is None:
                        target[name] = None
                        target = None
                        break
                    nested = target.get(name)
                    if nested is None:
                        obj = col.objects[depth + 1]
                        nested = target[name] = {
                            "attributes": {"type": obj, "url": root + obj + "/" + pid}
                        }
                    target = nested
                if target is not None:
                    target[col.key[-1]] = column[row]
            records.append(rec)
        return records

    def _compound_columns(self, plan: Plan):
        """(spec, Column) pairs for the components of selected compound fields."""
        out = []
        for col in plan.columns:
            f = col.field
            if not f.is_compound:
                continue
            obj = self.stores[col.objects[-1]].obj
            for comp in obj.fields:
                if comp.compound == f.name:
                    spec = (col.key, comp.name)
                    out.append(
                        (spec, Column((*col.key[:-1], comp.name), col.chain, col.objects, comp))
                    )
        return out

    def csv_lines(self, plan: Plan, idxs, seq: int, delim: str) -> list[str]:
        """CSV rows (without line endings) of the selected columns, as of seq."""
        store = self.stores[plan.sobject.name]
        parts: list[list[str]] = []
        run: list[str] = []
        for col in plan.columns:
            if not col.chain:
                run.append(col.field.name)
                continue
            if run:
                parts.append(store.csv_rows(idxs, run, seq, delim))
                run = []
            parts.append(self.fetch(plan.sobject.name, idxs, [col], seq, csv=True)[0])
        if run:
            parts.append(store.csv_rows(idxs, run, seq, delim))
        if len(parts) == 1:
            return parts[0]
        return list(map(delim.join, zip(*parts, strict=True)))


def _excluded(store: ObjectStore, include_deleted: bool) -> set[int]:
    """The records a query does not see: purged ones, and deleted ones unless queryAll."""
    return store.purged if include_deleted else (store.purged | store.deleted)


def _with_irregular(cands, start: int, store: ObjectStore) -> list[int]:
    """``cands`` up to ``start``, then the irregular records among the rest (ascending)."""
    rest = cands[start:]  # ascending: a range or a sorted list
    return [*cands[:start], *(i for i in store.irregular() if _holds(rest, i))]


def _holds(ascending, value: int) -> bool:
    at = bisect_left(ascending, value)
    return at < len(ascending) and ascending[at] == value


def _every_generated_stamp_within(plan: Plan, store: ObjectStore) -> bool:
    """Whether the WHERE clause is bounds on SystemModstamp that every generated stamp meets."""
    stamps = ("SystemModstamp", "LastModifiedDate")
    if not plan.stamp_bounds_only or not all(map(store.time_modelled, stamps)):
        return False
    lo, hi = plan.modstamp
    return (lo is None or lo <= store.stamp_floor(0)) and (hi is None or hi > store.stamps_end())


def _json_column(col: Column, values: list, version: str, compound_values: dict, ids, parent_ids):
    """A column's values as REST JSON shows them."""
    t = col.field.type
    if t == "datetime":
        rest = FORMATS.rest
        return [rest(v) for v in values]
    if t == "base64":
        owners = ids if not col.chain else parent_ids[tuple(f.rel for f in col.chain)]
        url = f"/services/data/v{version}/sobjects/{col.objects[-1]}/"
        return [
            None if v is None or o is None else f"{url}{o}/{col.field.name}"
            for v, o in zip(values, owners, strict=True)
        ]
    if t == "address":
        stem = col.field.name.removesuffix("Address")
        parts = [
            (key, compound_values.get((col.key, stem + suffix))) for suffix, key in ADDRESS_KEYS
        ]
        out = []
        for row in range(len(values)):
            value = {key: (None if part is None else part[row]) for key, part in parts}
            out.append(None if all(v is None for v in value.values()) else value)
        return out
    if t == "location":
        stem = col.field.name.removesuffix("__c")
        lat = compound_values.get((col.key, f"{stem}__Latitude__s")) or [None] * len(values)
        lon = compound_values.get((col.key, f"{stem}__Longitude__s")) or [None] * len(values)
        return [
            None if a is None and b is None else {"latitude": a, "longitude": b}
            for a, b in zip(lat, lon, strict=True)
        ]
    return values
