"""Checks a parsed query against what the user can see, and compiles it.

The result, `Plan`, says which columns to produce (with their relationship chains), how to test
a chunk of records (a column-at-a-time predicate), how to order them, and which cheap bounds
(SystemModstamp / CreatedDate windows, Id ranges) narrow the records worth looking at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from emulator.clock import FORMATS
from emulator.ids import to18
from emulator.schema.fields import FieldDef
from emulator.schema.objects import ObjectDef
from emulator.soql import ast
from emulator.soql import predicates as P
from emulator.soql.errors import NO_SUCH_COLUMN, NO_SUCH_RELATIONSHIP, NO_SUCH_TYPE, SoqlError, at

STRINGY = {"string", "picklist", "combobox", "textarea", "phone", "url", "email", "encryptedstring"}
IDISH = {"id", "reference"}
SOAP_NAMES = {
    "datetime": "dateTime",
    "date": "date",
    "boolean": "boolean",
    "int": "int",
    "double": "double",
    "currency": "double",
    "percent": "double",
}


@dataclass(frozen=True)
class Column:
    """A selected or filtered field, possibly reached through parent relationships."""

    key: tuple[str, ...]  # canonical path, e.g. ("Account", "Name")
    chain: tuple[FieldDef, ...]  # reference fields traversed
    objects: tuple[str, ...]  # object at each step, starting with the queried one
    field: FieldDef

    @property
    def header(self) -> str:
        return ".".join(self.key)


@dataclass
class Plan:
    sobject: ObjectDef
    columns: list[Column]
    count: ast.CountExpr | None
    predicate: object | None
    filter_columns: list[Column]
    order: list[tuple[Column, bool, bool]]
    limit: int | None
    offset: int | None
    modstamp: tuple[int | None, int | None] | None = None
    created: tuple[int | None, int | None] | None = None
    id_bounds: tuple[str, str | None, str | None] | None = None  # (op kind, lo id, hi id)
    id_list: list[str] | None = None
    # The WHERE clause is nothing but bounds on SystemModstamp or LastModifiedDate (``modstamp``)
    stamp_bounds_only: bool = False
    uses_base64: list[Column] = field(default_factory=list)


class SchemaView:
    """What one user can query: objects by name and their visible fields (override both)."""

    def object(self, name: str) -> ObjectDef | None:
        raise NotImplementedError

    def fields(self, obj: ObjectDef) -> dict[str, FieldDef]:
        raise NotImplementedError


def date_literal_range(name: str, n: int | None, now: datetime) -> tuple[int, int]:
    """[start, end) epoch seconds of a relative date literal, in UTC."""
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    day = timedelta(days=1)

    def month_start(y, m):
        y += (m - 1) // 12
        m = (m - 1) % 12 + 1
        return datetime(y, m, 1, tzinfo=UTC)

    week = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday
    quarter = month_start(today.year, (today.month - 1) // 3 * 3 + 1)
    table = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "THIS_WEEK": (week, week + 7 * day),
        "LAST_WEEK": (week - 7 * day, week),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "THIS_MONTH": (
            month_start(today.year, today.month),
            month_start(today.year, today.month + 1),
        ),
        "LAST_MONTH": (
            month_start(today.year, today.month - 1),
            month_start(today.year, today.month),
        ),
        "NEXT_MONTH": (
            month_start(today.year, today.month + 1),
            month_start(today.year, today.month + 2),
        ),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_QUARTER": (quarter, month_start(quarter.year, quarter.month + 3)),
        "LAST_QUARTER": (month_start(quarter.year, quarter.month - 3), quarter),
        "NEXT_QUARTER": (
            month_start(quarter.year, quarter.month + 3),
            month_start(quarter.year, quarter.month + 6),
        ),
        "THIS_YEAR": (month_start(today.year, 1), month_start(today.year + 1, 1)),
        "LAST_YEAR": (month_start(today.year - 1, 1), month_start(today.year, 1)),
        "NEXT_YEAR": (month_start(today.year + 1, 1), month_start(today.year + 2, 1)),
    }
    if n is not None:
        unit = {"DAYS": day, "WEEKS": 7 * day, "MONTHS": 30 * day, "YEARS": 365 * day}
        kind = name.split("_")[-1]
        step = unit[kind] * n
        if name.startswith("LAST_N"):
            start, end = today - step, today + day
        elif name.startswith("NEXT_N"):
            start, end = today + day, today + day + step
        else:  # N_DAYS_AGO:n etc. — that one day/period
            start = today - step
            end = start + unit[kind]
        return int(start.timestamp()), int(end.timestamp())
    start, end = table[name]
    return int(start.timestamp()), int(end.timestamp())


class Compiler:
    """Turns a Query into a Plan for one user's view of the schema."""

    def __init__(self, view: SchemaView, now: datetime):
        self.view = view
        self.now = now

    def compile(self, q: ast.Query) -> Plan:
        self.q = q
        obj = self.view.object(q.sobject)
        if obj is None:
            raise at(q.text, q.sobject_pos, "INVALID_TYPE", NO_SUCH_TYPE.format(entity=q.sobject))
        if not obj.queryable:
            raise SoqlError(
                "INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support query"
            )
        self.obj = obj
        count, columns = self._select(q)
        filter_columns: dict[tuple, Column] = {}
        predicate = None
        if q.where is not None:
            predicate = self._condition(q.where, filter_columns)
        order = []
        for item in q.order:
            col = self.resolve(item.field)
            if not col.field.overrides.get("sortable", _sortable(col.field)):
                raise at(
                    q.text,
                    item.field.pos,
                    "INVALID_FIELD",
                    f"field '{col.field.name}' can not be sorted in a query call",
                )
            nulls_last = item.desc if item.nulls_last is None else item.nulls_last
            order.append((col, item.desc, nulls_last))
        if q.offset is not None and q.offset > 2000:
            raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        plan = Plan(
            obj,
            columns,
            count,
            predicate,
            list(filter_columns.values()),
            order,
            q.limit,
            q.offset,
        )
        plan.uses_base64 = [c for c in columns if c.field.type == "base64"]
        self._hints(q.where, plan)
        return plan

    # ------------------------------------------------------------------ select
    def _select(self, q: ast.Query):
        count = None
        columns: list[Column] = []
        seen: set[tuple] = set()
        for item in q.select:
            if isinstance(item, ast.CountExpr):
                if count is not None or columns:
                    raise at(q.text, item.pos, "MALFORMED_QUERY", "unexpected token: 'COUNT'")
                if item.field is not None:
                    self.resolve(item.field)
                count = item
                continue
            if count is not None:
                raise at(
                    q.text,
                    item.pos,
                    "MALFORMED_QUERY",
                    f"Field must be grouped or aggregated: {item.text}",
                )
            col = self.resolve(item)
            if col.key in seen:
                raise at(
                    q.text, item.pos, "INVALID_FIELD", f"duplicate field selected: {col.header}"
                )
            seen.add(col.key)
            columns.append(col)
        return count, columns

    def resolve(self, ref: ast.FieldRef) -> Column:
        """The Column a dotted field path names (INVALID_FIELD when it names nothing)."""
        q = self.q
        obj = self.obj
        chain: list[FieldDef] = []
        objects = [obj.name]
        key: list[str] = []
        for k, part in enumerate(ref.path):
            fields = self.view.fields(obj)
            last = k == len(ref.path) - 1
            if last:
                f = fields.get(part.lower())
                if f is None:
                    if len(ref.path) == 1:
                        text = NO_SUCH_COLUMN.format(field=part, entity=obj.name)
                    else:
                        text = NO_SUCH_COLUMN.format(field=part, entity=obj.name)
                    raise at(q.text, ref.pos, "INVALID_FIELD", text)
                key.append(f.name)
                return Column(tuple(key), tuple(chain), tuple(objects), f)
            if k == 0 and part.lower() == obj.name.lower() and len(ref.path) > 1:
                continue  # "Contact.Email" on Contact: the object name as a prefix
            rel = next(
                (
                    f
                    for f in fields.values()
                    if f.type == "reference" and f.rel and f.rel.lower() == part.lower()
                ),
                None,
            )
            target = self.view.object(rel.ref) if rel is not None and rel.ref else None
            if rel is None or target is None:
                raise at(q.text, ref.pos, "INVALID_FIELD", NO_SUCH_RELATIONSHIP.format(rel=part))
            chain.append(rel)
            key.append(rel.rel)
            obj = target
            objects.append(obj.name)
        raise at(q.text, ref.pos, "INVALID_FIELD", NO_SUCH_COLUMN.format(field="", entity=obj.name))

    # --------------------------------------------------------------- condition
    def _condition(self, node, cols: dict):
        if isinstance(node, ast.And):
            return P.And([self._condition(n, cols) for n in node.items])
        if isinstance(node, ast.Or):
            return P.Or([self._condition(n, cols) for n in node.items])
        if isinstance(node, ast.Not):
            return P.Not(self._condition(node.item, cols))
        col = self._filter_column(node.field)
        cols[col.key] = col
        ftype = col.field.type
        if isinstance(node, ast.Compare):
            return P.Compare(col.key, node.op, self._value(col, node.value, node.op), ftype)
        if isinstance(node, ast.InList):
            values = [self._value(col, v, "=") for v in node.values]
            return P.InList(col.key, values, node.negate, ftype)
        if isinstance(node, ast.Like):
            if ftype not in STRINGY and ftype not in IDISH and ftype != "multipicklist":
                raise at(
                    self.q.text,
                    node.field.pos,
                    "INVALID_FIELD",
                    f"invalid operator on field '{col.field.name}': LIKE",
                )
            if node.pattern.kind != "string":
                self._type_error(col, node.pattern)
            return P.Like(col.key, node.pattern.value)
        if isinstance(node, ast.Includes):
            if ftype != "multipicklist":
                raise at(
                    self.q.text,
                    node.field.pos,
                    "INVALID_FIELD",
                    "includes or excludes operator only valid on multipicklist field",
                )
            values = [self._value(col, v, "=") for v in node.values]
            return P.Includes(col.key, values, node.exclude)
        raise TypeError(node)

    def _filter_column(self, ref: ast.FieldRef) -> Column:
        col = self.resolve(ref)
        f = col.field
        if f.is_compound or not f.overrides.get("filterable", _filterable(f)):
            raise at(
                self.q.text,
                ref.pos,
                "INVALID_FIELD",
                f"field '{f.name}' can not be filtered in a query call",
            )
        return col

    def _type_error(self, col: Column, lit: ast.Literal):
        f = col.field
        if f.type in STRINGY or f.type in IDISH or f.type == "multipicklist":
            text = (
                f"value of filter criterion for field '{f.name}' must be of type string and"
                " should be enclosed in quotes"
            )
        else:
            soap = SOAP_NAMES.get(f.type, f.type)
            text = (
                f"value of filter criterion for field '{f.name}' must be of type {soap} and"
                " should not be enclosed in quotes"
            )
        raise at(self.q.text, lit.pos, "INVALID_FIELD", text)

    def _value(self, col: Column, lit: ast.Literal, op: str):
        """The comparable value of a literal for a field (ranges for date literals)."""
        f = col.field
        t = f.type
        if lit.kind == "null":
            return None
        if t in IDISH:
            if lit.kind != "string":
                self._type_error(col, lit)
            value = lit.value
            if len(value) not in (15, 18) or not value.isalnum():
                raise at(self.q.text, lit.pos, "MALFORMED_QUERY", f"invalid ID field: {value}")
            return to18(value)
        if t in STRINGY or t == "multipicklist":
            if lit.kind != "string":
                self._type_error(col, lit)
            return lit.value
        if t == "boolean":
            if lit.kind != "boolean":
                self._type_error(col, lit)
            return lit.value
        if t in ("int", "double", "currency", "percent"):
            if lit.kind != "number":
                self._type_error(col, lit)
            return lit.value
        if t == "datetime":
            if lit.kind == "datetime":
                return lit.value
            if lit.kind == "date_literal":
                return P.Range(*date_literal_range(*lit.value, self.now))
            self._type_error(col, lit)
        if t == "date":
            if lit.kind == "date":
                return lit.value
            if lit.kind == "date_literal":
                lo, hi = date_literal_range(*lit.value, self.now)
                return P.Range(FORMATS.day(lo // 86400), FORMATS.day(hi // 86400))
            self._type_error(col, lit)
        self._type_error(col, lit)
        return None

    # ------------------------------------------------------------------- hints
    def _hints(self, where, plan: Plan) -> None:
        if where is None:
            return
        items = where.items if isinstance(where, ast.And) else [where]
        mod_lo = mod_hi = cre_lo = cre_hi = None
        id_lo = id_hi = None
        stamps = 0  # conjuncts that are SystemModstamp or LastModifiedDate bounds
        for node in items:
            if isinstance(node, ast.InList) and not node.negate and len(node.field.path) == 1:
                if node.field.path[0].lower() == "id":
                    plan.id_list = [to18(v.value) for v in node.values if v.kind == "string"]
                continue
            if not isinstance(node, ast.Compare) or len(node.field.path) != 1:
                continue
            name = node.field.path[0].lower()
            if name == "id" and node.value.kind == "string":
                value = to18(node.value.value)
                if node.op == "=":
                    plan.id_list = [value]
                elif node.op in (">", ">="):
                    id_lo = (value, node.op == ">")
                elif node.op in ("<", "<="):
                    id_hi = (value, node.op == "<=")
                continue
            if name not in ("systemmodstamp", "lastmodifieddate", "createddate"):
                continue
            bounds = _bounds(node, self.now)
            if bounds is None:
                continue
            lo, hi = bounds
            if name == "createddate":
                cre_lo, cre_hi = _tighten(cre_lo, cre_hi, lo, hi)
            else:
                mod_lo, mod_hi = _tighten(mod_lo, mod_hi, lo, hi)
                stamps += 1
        if mod_lo is not None or mod_hi is not None:
            plan.modstamp = (mod_lo, mod_hi)
            plan.stamp_bounds_only = stamps == len(items)
        if cre_lo is not None or cre_hi is not None:
            plan.created = (cre_lo, cre_hi)
        if id_lo or id_hi:
            plan.id_bounds = (id_lo, id_hi)


def _tighten(lo, hi, new_lo, new_hi):
    if new_lo is not None:
        lo = new_lo if lo is None else max(lo, new_lo)
    if new_hi is not None:
        hi = new_hi if hi is None else min(hi, new_hi)
    return lo, hi


def _bounds(node: ast.Compare, now: datetime):
    lit = node.value
    if lit.kind == "datetime":
        start, end = lit.value, lit.value + 1
    elif lit.kind == "date_literal":
        start, end = date_literal_range(*lit.value, now)
    else:
        return None
    op = node.op
    if op == "=":
        return start, end
    if op == ">=":
        return start, None
    if op == ">":
        return end, None
    if op == "<":
        return None, start
    if op == "<=":
        return None, end
    return None


def _filterable(f: FieldDef) -> bool:
    return not (f.is_long_text or f.type == "base64")


def _sortable(f: FieldDef) -> bool:
    return not (f.is_long_text or f.is_compound or f.type in ("multipicklist", "base64"))
