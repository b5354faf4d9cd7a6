"""The criteria tree: its JSON shape, the operators by field type, and validation.

No database here: the caller passes the described fields (``ingestion.selectors.object_fields``).
The JSON shape (what the builder page sends and ``Audience.criteria`` stores)::

    {"type": "group", "match": "all" | "any", "children": [NODE, ...]}
    NODE = a group, or
    {"type": "condition", "object": "Account" | "Contact" | "Lead",
     "field": "Industry", "operator": "equals", "value": "Technology"}
    {"type": "related", "object": "Opportunity" | "CampaignMember",
     "conditions": [{"field": ..., "operator": ..., "value": ...}, ...]}

A ``related`` node matches people or companies with at least one opportunity (at their account)
or campaign membership on which *all* its conditions hold, so "stage is Closed Won and amount over
50,000" means the same opportunity.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from ingestion.selectors import FieldInfo

FILTER_OBJECTS = ("Account", "Contact", "Lead")
RELATED_OBJECTS = ("Opportunity", "CampaignMember")
MAX_DEPTH = 4
MAX_CONDITIONS = 50

# Salesforce describe types, grouped by how they can be filtered.
KIND_BY_TYPE = {
    **dict.fromkeys(
        ["string", "textarea", "email", "phone", "url", "combobox", "id", "reference",
         "encryptedstring"],
        "text",
    ),
    "picklist": "picklist",
    "multipicklist": "multipicklist",
    **dict.fromkeys(["int", "long", "double", "currency", "percent"], "number"),
    "date": "date",
    "datetime": "date",
    "boolean": "boolean",
}  # fmt: skip

KNOWN = ("is_known", "is_unknown")
OPERATORS = {
    "text": (*KNOWN, "equals", "not_equals", "any_of", "none_of", "contains", "starts_with"),
    "picklist": (*KNOWN, "equals", "not_equals", "any_of", "none_of"),
    "multipicklist": (*KNOWN, "includes"),
    "number": (*KNOWN, "equals", "not_equals", "any_of", "none_of", "gt", "lt", "between"),
    "date": (
        *KNOWN, "equals", "not_equals", "gt", "lt", "between", "in_last_n_days",
        "this_quarter", "last_quarter", "this_year", "last_year",
    ),
    "boolean": (*KNOWN, "is_true", "is_false"),
}  # fmt: skip

OPERATOR_LABELS = {
    "is_known": "is known",
    "is_unknown": "is unknown",
    "equals": "equals",
    "not_equals": "does not equal",
    "any_of": "is any of",
    "none_of": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "includes": "includes any of",
    "gt": "is greater than / after",
    "lt": "is less than / before",
    "between": "is between",
    "in_last_n_days": "is in the last N days",
    "this_quarter": "is this quarter",
    "last_quarter": "is last quarter",
    "this_year": "is this year",
    "last_year": "is last year",
    "is_true": "is true",
    "is_false": "is false",
}

NO_VALUE = {*KNOWN, "is_true", "is_false", "this_quarter", "last_quarter", "this_year", "last_year"}
LIST_VALUE = {"any_of", "none_of", "includes"}


class CriteriaError(Exception):
    """The criteria are invalid (or not allowed yet); ``messages`` say why, for a person."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Condition:
    """One test of one field. ``value`` is normalised: a scalar, a tuple, or None."""

    sobject: str
    field: str
    kind: str
    operator: str
    value: object = None


@dataclass(frozen=True)
class Related:
    """Records with a related Opportunity / CampaignMember on which every condition holds."""

    sobject: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Group:
    """AND (``match == "all"``) or OR (``"any"``) of its children."""

    match: str = "all"
    children: tuple[Group | Condition | Related, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.children


EMPTY = Group()


def field_kind(info: FieldInfo) -> str | None:
    """How a described field can be filtered, or None (addresses, base64, ...)."""
    return KIND_BY_TYPE.get(info.type)


def allowed_objects(holds: str) -> tuple[str, ...]:
    """Objects whose fields may filter an audience holding ``holds``."""
    return {
        "people": ("Account", "Contact", "Lead"),
        "contacts": ("Account", "Contact"),
        "leads": ("Account", "Lead"),
        "companies": ("Account", "Contact"),
    }[holds]


class _Parser:
    def __init__(self, fields: dict[str, dict[str, FieldInfo]], holds: str) -> None:
        self.fields = fields
        self.holds = holds
        self.errors: list[str] = []
        self.count = 0

    def group(self, raw: object, path: str, depth: int) -> Group:
        if not isinstance(raw, dict) or raw.get("type", "group") != "group":
            self.errors.append(f"{path}: expected a group.")
            return EMPTY
        if depth > MAX_DEPTH:
            self.errors.append(f"{path}: groups nest at most {MAX_DEPTH} deep.")
            return EMPTY
        match = raw.get("match", "all")
        if match not in ("all", "any"):
            self.errors.append(f"{path}: match must be 'all' or 'any'.")
        children = raw.get("children") or []
        if not isinstance(children, list):
            self.errors.append(f"{path}: children must be a list.")
            children = []
        parsed = [self.node(c, f"{path}.{i + 1}", depth) for i, c in enumerate(children)]
        return Group(match=match, children=tuple(p for p in parsed if p is not None))

    def node(self, raw: object, path: str, depth: int) -> Group | Condition | Related | None:
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind == "group":
            group = self.group(raw, path, depth + 1)
            return group if not group.empty else None
        if kind == "condition":
            return self.condition(raw, raw.get("object"), path)
        if kind == "related":
            return self.related(raw, path)
        self.errors.append(f"{path}: unknown node {kind!r}.")
        return None

    def related(self, raw: dict, path: str) -> Related | None:
        sobject = raw.get("object")
        if sobject not in RELATED_OBJECTS:
            self.errors.append(
                f"{path}: related object must be one of {', '.join(RELATED_OBJECTS)}."
            )
            return None
        conditions = [
            self.condition(c, sobject, f"{path}.{i + 1}") if isinstance(c, dict) else None
            for i, c in enumerate(raw.get("conditions") or [])
        ]
        if not conditions:
            self.errors.append(f"{path}: say which {sobject} records (add a condition).")
        parsed = tuple(c for c in conditions if c is not None)
        return Related(sobject, parsed) if parsed else None

    def condition(self, raw: dict, sobject: object, path: str) -> Condition | None:
        self.count += 1
        if sobject in FILTER_OBJECTS and sobject not in allowed_objects(self.holds):
            self.errors.append(
                f"{path}: {sobject} fields don't apply to an audience of {self.holds}."
            )
            return None
        if sobject not in FILTER_OBJECTS and sobject not in RELATED_OBJECTS:
            self.errors.append(f"{path}: {sobject!r} is not a filterable object.")
            return None
        name = raw.get("field")
        info = self.fields.get(sobject, {}).get(name)
        if info is None:
            self.errors.append(f"{path}: {sobject} has no field {name!r} in this connection.")
            return None
        return self._typed(sobject, info, raw.get("operator"), raw.get("value"), path)

    def _typed(self, sobject: str, info: FieldInfo, operator, value, path: str):
        kind = field_kind(info)
        label = f"{OBJECT_WORDS.get(sobject, sobject)} “{info.label or info.name}”"
        if kind is None:
            self.errors.append(f"{path}: {label} ({info.type}) cannot be filtered.")
            return None
        if operator not in OPERATORS[kind]:
            self.errors.append(f"{path}: {label} is {kind}; {operator!r} does not apply to it.")
            return None
        try:
            clean = value_clean(kind, operator, value, info)
        except ValueError as error:
            self.errors.append(f"{path}: {label}: {error}")
            return None
        return Condition(sobject, info.name, kind, operator, clean)


def criteria_parse(raw: object, *, fields: dict[str, dict[str, FieldInfo]], holds: str) -> Group:
    """Validate ``raw`` against the described ``fields`` and return the typed tree.

    Raises ``CriteriaError`` listing every problem (path, field and why).
    """
    if raw in (None, {}, ""):
        return EMPTY
    parser = _Parser(fields, holds)
    tree = parser.group(raw, "Criteria", 1)
    if parser.count > MAX_CONDITIONS:
        parser.errors.append(f"Criteria: at most {MAX_CONDITIONS} conditions.")
    if parser.errors:
        raise CriteriaError([in_words(message) for message in parser.errors])
    return tree


# How a customer names the objects in messages (API names are for developers).
OBJECT_WORDS = {"CampaignMember": "Campaign member", "OpportunityContactRole": "Contact role"}
_PATH = re.compile(r"^Criteria((?:\.\d+)*): ")


def in_words(message: str) -> str:
    """ "Criteria.5.1: …" as "Rule 5, condition 1: …": where in the builder, not a path."""
    match = _PATH.match(message)
    if not match:
        return message
    steps = [int(n) for n in match.group(1).split(".")[1:]]
    where = f"Rule {steps[0]}" if steps else ""
    where += "".join(f", condition {n}" for n in steps[1:])
    rest = message[match.end() :]
    return f"{where}: {rest}" if where else rest[:1].upper() + rest[1:]


def criteria_has_conditions(raw: object) -> bool:
    """Whether the JSON tree holds any Salesforce condition (the gate applies to those)."""
    if not isinstance(raw, dict):
        return False
    if raw.get("type") in ("condition", "related"):
        return True
    return any(criteria_has_conditions(child) for child in raw.get("children") or [])


# --- values ----------------------------------------------------------------------------------


def value_clean(kind: str, operator: str, value: object, info: FieldInfo) -> object:
    """The value normalised for ``operator`` on a field of ``kind``; ValueError says why."""
    if operator in NO_VALUE:
        return None
    if operator in LIST_VALUE:
        items = value if isinstance(value, list | tuple) else [value]
        items = [v for v in items if v not in (None, "")]
        if not items:
            raise ValueError("choose at least one value.")
        return tuple(_scalar(kind, v, info) for v in items)
    if operator == "between":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError("'between' needs two values.")
        low, high = (_scalar(kind, v, info) for v in value)
        if low > high:
            raise ValueError("the first value must not be after the second.")
        return (low, high)
    if operator == "in_last_n_days":
        return _days(value)
    return _scalar(kind, value, info)


def _days(value: object) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValueError("the number of days must be a whole number.") from None
    if not 1 <= days <= 3650:
        raise ValueError("the number of days must be between 1 and 3650.")
    return days


def _scalar(kind: str, value: object, info: FieldInfo) -> object:
    if kind == "number":
        return _number(value)
    if kind == "date":
        return _date(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("enter a value.")
    value = value.strip()
    restricted = kind in ("picklist", "multipicklist") and info.picklist_values
    if restricted and value not in info.picklist_values:
        raise ValueError(f"{value!r} is not one of its picklist values.")
    return value


def _number(value: object) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number.")
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number.") from None
    return int(number) if number.is_integer() else number


def _date(value: object) -> str:
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD).") from None


def date_range(operator: str, value: object, today: dt.date) -> tuple[str | None, str | None]:
    """[start, end) as ISO date strings for a date operator; None means open.

    Comparing these with stored values works as text for dates and for the fixed-width UTC
    datetimes alike: "2024-04-16T19:00:00.000Z" sorts between "2024-04-16" and "2024-04-17".
    """
    day = dt.timedelta(days=1)
    if operator == "equals":
        start = dt.date.fromisoformat(value)
        return start.isoformat(), (start + day).isoformat()
    if operator == "gt":
        return (dt.date.fromisoformat(value) + day).isoformat(), None
    if operator == "lt":
        return None, value
    if operator == "between":
        low, high = value
        return low, (dt.date.fromisoformat(high) + day).isoformat()
    if operator == "in_last_n_days":
        # Salesforce's LAST_N_DAYS:n: the n days before today, and today.
        return (today - dt.timedelta(days=value)).isoformat(), (today + day).isoformat()
    return _period(operator, today)


def _period(operator: str, today: dt.date) -> tuple[str, str]:
    year = today.year
    if operator in ("this_year", "last_year"):
        year -= operator == "last_year"
        return f"{year}-01-01", f"{year + 1}-01-01"
    quarter = (today.month - 1) // 3
    if operator == "last_quarter":
        quarter -= 1
        if quarter < 0:
            quarter, year = 3, year - 1
    start = dt.date(year, quarter * 3 + 1, 1)
    end = dt.date(year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1)
    return start.isoformat(), end.isoformat()


# --- in words --------------------------------------------------------------------------------

WORDS = {
    "is_known": "is known", "is_unknown": "is unknown", "equals": "is", "not_equals": "is not",
    "any_of": "is", "none_of": "is none of", "contains": "contains", "starts_with": "starts with",
    "includes": "includes", "between": "is between", "in_last_n_days": "is in the last",
    "this_quarter": "is this quarter", "last_quarter": "is last quarter",
    "this_year": "is this year", "last_year": "is last year", "is_true": "is true",
    "is_false": "is false",
}  # fmt: skip
RELATED_WORDS = {
    "Opportunity": "has an opportunity where",
    "CampaignMember": "is a campaign member where",
}


def criteria_words(raw: object, *, labels: dict[str, dict[str, str]], names: dict) -> str:
    """The criteria as a sentence: "Contact Title contains VP and Account Industry is
    Technology or Banking". ``labels`` maps object -> field -> label; ``names`` maps ids
    (campaigns) to names. Tolerates any JSON: what it cannot read it quotes."""
    if not criteria_has_conditions(raw):
        return ""
    return _group_words(raw, labels, names, top=True)


def _group_words(raw: dict, labels, names, *, top: bool = False) -> str:
    joiner = " or " if raw.get("match") == "any" else " and "
    children = raw.get("children") if isinstance(raw.get("children"), list) else []
    parts = [_node_words(c, labels, names) for c in children if criteria_has_conditions(c)]
    text = joiner.join(p for p in parts if p)
    return text if top or len(parts) < 2 else f"({text})"


def _node_words(raw: object, labels, names) -> str:
    if not isinstance(raw, dict):
        return ""
    if raw.get("type") == "group":
        return _group_words(raw, labels, names)
    if raw.get("type") == "related":
        conditions = raw.get("conditions") if isinstance(raw.get("conditions"), list) else []
        inner = " and ".join(
            _condition_words({**c, "object": raw.get("object")}, labels, names, prefix=False)
            for c in conditions
            if isinstance(c, dict)
        )
        return f"{RELATED_WORDS.get(raw.get('object'), str(raw.get('object')))} {inner}"
    return _condition_words(raw, labels, names)


def _condition_words(raw: dict, labels, names, *, prefix: bool = True) -> str:
    sobject, name = str(raw.get("object")), str(raw.get("field"))
    label = labels.get(sobject, {}).get(name, name)
    subject = f"{sobject} {label}" if prefix else label
    operator = raw.get("operator")
    value = raw.get("value")
    words = WORDS.get(operator, str(operator))
    if operator in NO_VALUE:
        return f"{subject} {words}"
    if operator == "between" and isinstance(value, list) and len(value) == 2:
        return f"{subject} is between {_shown(value[0], names)} and {_shown(value[1], names)}"
    if operator == "in_last_n_days":
        return f"{subject} is in the last {_shown(value, names)} days"
    if operator in ("gt", "lt"):
        words = _comparison(operator, value)
    values = value if isinstance(value, list) else [value]
    joiner = ", " if operator == "none_of" else " or "
    return f"{subject} {words} {joiner.join(_shown(v, names) for v in values)}"


def _comparison(operator: str, value: object) -> str:
    value = str(value)
    dated = len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-"
    if dated:
        return "is after" if operator == "gt" else "is before"
    return "is more than" if operator == "gt" else "is less than"


def _shown(value: object, names: dict) -> str:
    if isinstance(value, str):
        return names.get(value, value)
    return json.dumps(value) if isinstance(value, dict | list) else str(value)
