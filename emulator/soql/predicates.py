"""WHERE conditions evaluated a column at a time: each node maps columns to a list of bools.

SOQL semantics kept here: text comparisons are case-insensitive; `!=` and NOT IN also match
null values; ordering comparisons never match null; relative date literals (LAST_N_DAYS:n, …)
are ranges whose meaning depends on the operator (`=` inside, `>` after, `<` before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TEXT = {
    "string",
    "picklist",
    "combobox",
    "textarea",
    "phone",
    "url",
    "email",
    "encryptedstring",
}


@dataclass(frozen=True)
class Range:
    lo: object
    hi: object


def _lower(values):
    return [None if v is None else v.lower() for v in values]


class Compare:
    def __init__(self, key, op: str, value, ftype: str):
        self.key = key
        self.op = op
        self.value = value
        self.ftype = ftype

    def eval(self, get) -> list[bool]:
        col = get(self.key)
        op = self.op
        value = self.value
        if value is None:
            if op == "=":
                return [x is None for x in col]
            if op == "!=":
                return [x is not None for x in col]
            return [False] * len(col)
        if isinstance(value, Range):
            return _range(col, op, value)
        if self.ftype in TEXT:
            col = _lower(col)
            value = value.lower()
        elif self.ftype == "multipicklist":
            target = _parts(value)
            eq = [x is not None and _parts(x) == target for x in col]
            return eq if op == "=" else [not e for e in eq] if op == "!=" else [False] * len(col)
        if op == "=":
            return [x == value for x in col]
        if op == "!=":
            return [x != value for x in col]
        if op == "<":
            return [x is not None and x < value for x in col]
        if op == "<=":
            return [x is not None and x <= value for x in col]
        if op == ">":
            return [x is not None and x > value for x in col]
        return [x is not None and x >= value for x in col]


def _range(col, op: str, r: Range) -> list[bool]:
    lo, hi = r.lo, r.hi
    if op == "=":
        return [x is not None and lo <= x < hi for x in col]
    if op == "!=":
        return [x is None or not (lo <= x < hi) for x in col]
    if op == "<":
        return [x is not None and x < lo for x in col]
    if op == "<=":
        return [x is not None and x < hi for x in col]
    if op == ">":
        return [x is not None and x >= hi for x in col]
    return [x is not None and x >= lo for x in col]


def _parts(value: str) -> frozenset[str]:
    return frozenset(p.strip().lower() for p in value.split(";") if p.strip())


class InList:
    def __init__(self, key, values: list, negate: bool, ftype: str):
        self.key = key
        self.negate = negate
        self.ftype = ftype
        self.has_null = any(v is None for v in values)
        plain = [v for v in values if v is not None]
        if ftype in TEXT:
            plain = [v.lower() for v in plain]
        self.values = frozenset(plain)

    def eval(self, get) -> list[bool]:
        col = get(self.key)
        if self.ftype in TEXT:
            col = _lower(col)
        values, has_null = self.values, self.has_null
        hit = [(x is None and has_null) or (x is not None and x in values) for x in col]
        if self.negate:
            return [not h for h in hit]
        return hit


class Like:
    def __init__(self, key, pattern: str):
        self.key = key
        self.regex = like_regex(pattern)

    def eval(self, get) -> list[bool]:
        match = self.regex.fullmatch
        return [x is not None and match(x) is not None for x in get(self.key)]


def like_regex(pattern: str) -> re.Pattern:
    """A SOQL LIKE pattern (% any run, _ one character, \\% and \\_ literal) as a regex."""
    out = []
    k = 0
    while k < len(pattern):
        c = pattern[k]
        if c == "\\" and k + 1 < len(pattern):
            out.append(re.escape(pattern[k + 1]))
            k += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        k += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


class Includes:
    def __init__(self, key, values: list, exclude: bool):
        self.key = key
        self.sets = [_parts(v) for v in values if v is not None]
        self.exclude = exclude

    def eval(self, get) -> list[bool]:
        sets = self.sets
        out = []
        for x in get(self.key):
            have = _parts(x) if x else frozenset()
            hit = any(s <= have for s in sets)
            out.append(not hit if self.exclude else hit)
        return out


class And:
    def __init__(self, items):
        self.items = items

    def eval(self, get) -> list[bool]:
        result = self.items[0].eval(get)
        for item in self.items[1:]:
            result = [a and b for a, b in zip(result, item.eval(get), strict=True)]
        return result


class Or:
    def __init__(self, items):
        self.items = items

    def eval(self, get) -> list[bool]:
        result = self.items[0].eval(get)
        for item in self.items[1:]:
            result = [a or b for a, b in zip(result, item.eval(get), strict=True)]
        return result


class Not:
    def __init__(self, item):
        self.item = item

    def eval(self, get) -> list[bool]:
        return [not v for v in self.item.eval(get)]
