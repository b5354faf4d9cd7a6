"""Reads of the audiences app, above all the filter compiler: criteria tree -> queryset.

How a tree compiles (one query per target object; see ``audience_records``):
- a condition on the target's own object tests ``IngestedRecord.data`` directly;
- Account conditions on people become ``account_sf_id IN (matching accounts)`` (the column
  holds a contact's AccountId, a lead's ConvertedAccountId), and sibling Account conditions
  of a group share one subquery;
- Contact conditions on companies become ``sf_id IN (accounts of matching contacts)``;
- ``related`` Opportunity / CampaignMember nodes become one subquery each, all their
  conditions holding on the same related record;
- deleted records never match, at any level.

On PostgreSQL equality on picklists, multi-select picklists and booleans compiles to JSONB
containment on the record's facets (``facets @> '{"Industry": "Technology"}'``), served by
their GIN ``jsonb_path_ops`` index (ingestion migration 0005); numbers compare as JSON values;
joins to accounts use ``account_sf_id`` and its index (ingestion migration 0013). SQLite gets
the same semantics through key transforms (it has neither containment nor GIN).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce

from django.db import connection as db
from django.db import transaction
from django.db.models import JSONField, Q, QuerySet, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Upper
from django.db.models.lookups import (
    Exact,
    GreaterThanOrEqual,
    IContains,
    IExact,
    In,
    IsNull,
    IStartsWith,
    LessThan,
)
from django.utils import timezone

from audiences.criteria import (
    FILTER_OBJECTS,
    RELATED_OBJECTS,
    Condition,
    CriteriaError,
    Group,
    Related,
    criteria_has_conditions,
    criteria_parse,
    date_range,
)
from connections.models import Connection
from ingestion.expressions import FieldText
from ingestion.models import IngestedRecord
from ingestion.selectors import FieldInfo, connection_progress, object_fields

# Person Accounts: a person account is a person, not a company. It is counted once, as its
# Contact row (IsPersonAccount = true, AccountId = the person account, so Account conditions
# still reach it), and never as a company.
# Reference: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_account.htm
PERSON_ACCOUNT_FLAG = "IsPersonAccount"
# A record's account, as IngestedRecord.account_sf_id stores it: AccountId of a Contact or an
# Opportunity; Lead has no AccountId, once converted ConvertedAccountId points at it. Joins go
# through the column's index, which counts read without touching the rows (ingestion
# migration 0013); an expression over data could not.
ACCOUNT = "account_sf_id"
CAMPAIGN_MEMBER_FIELD = {"Contact": "ContactId", "Lead": "LeadId"}


class _Never:
    """The constant-false filter (e.g. a Contact condition tested on a Lead)."""


ALL = Q()
NEVER = _Never()


def _postgres() -> bool:
    return db.vendor == "postgresql"


def records_of(*, connection: Connection, sobject: str) -> QuerySet[IngestedRecord]:
    """Live (not deleted) records of one object of one connection."""
    return IngestedRecord.objects.filter(connection=connection, sobject=sobject, is_deleted=False)


# --- the gate (invariant 9) ------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """Whether Salesforce criteria may be used on a connection yet, and why not."""

    locked: bool
    message: str
    progress: object = None


def connection_gate(*, connection: Connection) -> Gate:
    """Salesforce criteria stay locked until the connection's initial ingestion completes."""
    if connection.initial_sync_complete:
        return Gate(False, "Salesforce filters are available.")
    progress = connection_progress(connection=connection)
    return Gate(True, gate_message(connection, progress), progress)


def gate_message(connection: Connection, progress) -> str:
    """Why the filters are locked, with how far the ingestion has got."""
    done = f"{progress.ingested:,} records ingested"
    if progress.estimated_total:
        done += f" of about {progress.estimated_total:,}"
    if progress.percent is not None:
        done += f" ({progress.percent:.0f}%)"
    eta = ""
    if progress.eta_seconds:
        eta = f", about {max(round(progress.eta_seconds / 60), 1)} min to go"
    return (
        f"Salesforce filters unlock when the first full ingestion of {connection} completes, "
        f"so that an audience never counts a half-loaded org. So far: {done}{eta}. "
        "CSV lists work meanwhile."
    )


def connection_fields(*, connection: Connection) -> dict[str, dict[str, FieldInfo]]:
    """Described fields of every object criteria may use."""
    return {
        sobject: object_fields(connection=connection, sobject=sobject)
        for sobject in (*FILTER_OBJECTS, *RELATED_OBJECTS)
    }


def audience_criteria_check(*, connection: Connection, holds: str, criteria: object) -> Group:
    """Validate criteria for a connection, gate included; ``CriteriaError`` says why not."""
    if not criteria_has_conditions(criteria):
        # No condition, so no gate and no fields to check; the shape still must be right.
        return criteria_parse(criteria, fields={}, holds=holds)
    gate = connection_gate(connection=connection)
    if gate.locked:
        raise CriteriaError([gate.message])
    return criteria_parse(criteria, fields=connection_fields(connection=connection), holds=holds)


# --- compiling one condition on the record itself --------------------------------------------


def _text(name: str) -> FieldText:
    return FieldText(name, "data")


def _json(name: str):
    return KeyTransform(name, "data")


def _unknown(name: str) -> Q:
    return Q(IsNull(_text(name), True))


def _jsonb(value: object) -> Value:
    # A JSON-typed right-hand side: lookups built from expressions (not filter kwargs) would
    # otherwise skip the JSON adaptation of the value.
    return Value(value, output_field=JSONField())


def _contains(name: str, value: object, *, facet: bool = True) -> Q:
    """Equality: containment in the GIN-indexed facets on PostgreSQL for picklist and checkbox
    values, a key lookup otherwise (numbers are not facets: most are unique per record)."""
    if facet and _postgres():
        return Q(facets__contains={name: value})
    if isinstance(value, str):
        return Q(Exact(_text(name), value))
    lhs = _json(name)
    return Q(lhs.get_lookup("exact")(lhs, _jsonb(value)))


def _any(qs: list[Q]) -> Q:
    return reduce(lambda a, b: a | b, qs)


def _equals(cond: Condition, value: object) -> Q:
    if cond.kind == "text":
        return Q(IExact(_text(cond.field), value))
    return _contains(cond.field, value, facet=cond.kind != "number")


def _any_of(cond: Condition, values: tuple) -> Q:
    if cond.kind == "text":
        return Q(In(Upper(_text(cond.field)), [v.upper() for v in values]))
    return _any([_contains(cond.field, v, facet=cond.kind != "number") for v in values])


def _includes(cond: Condition) -> Q:
    if _postgres():
        return _any([Q(facets__contains={cond.field: [v]}) for v in cond.value])
    # SQLite: the stored list as JSON text holds each value JSON-quoted.
    return _any([Q(IContains(_text(cond.field), json.dumps(v))) for v in cond.value])


def _range(name: str, start: object, end: object, *, numeric: bool) -> Q:
    # The not-null guard matters on SQLite, where Django reads a JSON null as the text 'null',
    # which compares greater than any number.
    lhs = _json(name) if numeric else _text(name)
    q = ~_unknown(name)
    if start is not None:
        q &= Q(
            lhs.get_lookup("gte")(lhs, _jsonb(start)) if numeric else GreaterThanOrEqual(lhs, start)
        )
    if end is not None:
        q &= Q(lhs.get_lookup("lte")(lhs, _jsonb(end)) if numeric else LessThan(lhs, end))
    return q


def _numeric(cond: Condition) -> Q:
    lhs = _json(cond.field)
    if cond.operator == "between":
        return _range(cond.field, *cond.value, numeric=True)
    return ~_unknown(cond.field) & Q(lhs.get_lookup(cond.operator)(lhs, _jsonb(cond.value)))


def _dates(cond: Condition) -> Q:
    start, end = date_range(cond.operator, cond.value, timezone.now().date())
    return _range(cond.field, start, end, numeric=False)


def _negate(positive: Q, name: str) -> Q:
    # Like SOQL, "does not equal" / "is none of" keep records where the field is empty.
    return ~positive | _unknown(name)


def condition_q(cond: Condition) -> Q:
    """The filter for one condition tested on the record that holds the field."""
    op, name = cond.operator, cond.field
    if op in ("is_known", "is_unknown"):
        return _unknown(name) if op == "is_unknown" else ~_unknown(name)
    if op in ("is_true", "is_false"):
        return _contains(name, op == "is_true")
    if cond.kind == "date" and op != "not_equals":
        return _dates(cond)
    if op == "not_equals" and cond.kind == "date":
        return _negate(_dates(Condition(cond.sobject, name, "date", "equals", cond.value)), name)
    if op == "not_equals":
        return _negate(_equals(cond, cond.value), name)
    if op in ("gt", "lt", "between"):
        return _numeric(cond)
    return _other(cond)


def _other(cond: Condition) -> Q:
    op, name = cond.operator, cond.field
    if op == "equals":
        return _equals(cond, cond.value)
    if op == "any_of":
        return _any_of(cond, cond.value)
    if op == "none_of":
        return _negate(_any_of(cond, cond.value), name)
    if op == "includes":
        return _includes(cond)
    if op == "contains":
        return Q(IContains(_text(name), cond.value))
    if op == "starts_with":
        return Q(IStartsWith(_text(name), cond.value))
    raise CriteriaError([f"Unsupported operator {op!r}."])


# --- compiling the tree for one target object ------------------------------------------------


def _and(a, b):
    if a is NEVER or b is NEVER:
        return NEVER
    return a & b


def _or(a, b):
    if a is NEVER:
        return b
    if b is NEVER:
        return a
    if a == ALL or b == ALL:
        return ALL
    return a | b


def _combine(match: str, parts: list) -> Q | _Never:
    if not parts:
        return ALL
    op = _and if match == "all" else _or
    return reduce(op, parts)


class TreeCompiler:
    """Compiles a criteria tree into a filter on the records of one target object."""

    def __init__(self, *, connection: Connection, target: str) -> None:
        self.connection = connection
        self.target = target

    def records(self, sobject: str) -> QuerySet[IngestedRecord]:
        return records_of(connection=self.connection, sobject=sobject)

    def group(self, group: Group) -> Q | _Never:
        # Account conditions of one group share one subquery: a person has one account, so
        # "account is A and account is B" equals "account is (A and B)".
        via_account = self.target != "Account"
        merged = [c for c in group.children if via_account and _is_account(c)]
        parts = [self.node(c) for c in group.children if not (via_account and _is_account(c))]
        if merged:
            accounts = _combine(group.match, [condition_q(c) for c in merged])
            parts.append(self.person_at_accounts(accounts))
        return _combine(group.match, parts)

    def node(self, node) -> Q | _Never:
        if isinstance(node, Group):
            return self.group(node)
        if isinstance(node, Related):
            return self.related(node)
        return self.condition(node)

    def condition(self, cond: Condition) -> Q | _Never:
        if cond.sobject == self.target:
            return condition_q(cond)
        if cond.sobject == "Account":
            return self.person_at_accounts(condition_q(cond))
        if cond.sobject == "Contact" and self.target == "Account":
            contacts = self.records("Contact").filter(condition_q(cond))
            return Q(sf_id__in=contacts.values(ACCOUNT))
        return NEVER  # a Contact condition on a Lead, or the other way round

    def person_at_accounts(self, account_q: Q | _Never) -> Q | _Never:
        if account_q is NEVER:
            return NEVER
        accounts = self.records("Account").filter(account_q).values("sf_id")
        return Q(account_sf_id__in=accounts)

    def related(self, node: Related) -> Q | _Never:
        rows = self.records(node.sobject).filter(
            _combine("all", list(map(condition_q, node.conditions)))
        )
        if node.sobject == "Opportunity":
            account_ids = rows.values(ACCOUNT)
            if self.target == "Account":
                return Q(sf_id__in=account_ids)
            return Q(account_sf_id__in=account_ids)
        if self.target == "Account":
            contacts = self.records("Contact").filter(sf_id__in=rows.values(c=_text("ContactId")))
            return Q(sf_id__in=contacts.values(ACCOUNT))
        return Q(sf_id__in=rows.values(person=_text(CAMPAIGN_MEMBER_FIELD[self.target])))


def _is_account(node) -> bool:
    return isinstance(node, Condition) and node.sobject == "Account"


def not_person_accounts(qs: QuerySet[IngestedRecord], target: str) -> QuerySet[IngestedRecord]:
    """Companies are accounts that are not person accounts (orgs without Person Accounts
    have no IsPersonAccount at all)."""
    if target != "Account":
        return qs
    return qs.filter(
        _negate(_contains(PERSON_ACCOUNT_FLAG, True, facet=False), PERSON_ACCOUNT_FLAG)
    )


def criteria_records(
    *, connection: Connection, target: str, tree: Group
) -> QuerySet[IngestedRecord]:
    """Live records of ``target`` matching the tree (all of them for an empty tree)."""
    q = TreeCompiler(connection=connection, target=target).group(tree)
    qs = not_person_accounts(records_of(connection=connection, sobject=target), target)
    return qs.none() if q is NEVER else qs.filter(q)


# --- an audience's records: criteria and CSV lists -------------------------------------------


@dataclass(frozen=True)
class AudienceSpec:
    """What decides membership: saved on an Audience, or being edited in the builder."""

    connection: Connection
    holds: str
    tree: Group
    include: tuple = ()  # CsvList instances
    exclude: tuple = ()

    @property
    def targets(self) -> tuple[str, ...]:
        from audiences.models import HOLDS_OBJECTS

        return HOLDS_OBJECTS[self.holds]


def audience_spec(*, audience) -> AudienceSpec:
    """The spec of a saved audience (criteria checked, gate included)."""
    tree = audience_criteria_check(
        connection=audience.connection, holds=audience.holds, criteria=audience.criteria
    )
    uses = list(audience.list_uses.select_related("csv_list"))
    return AudienceSpec(
        connection=audience.connection,
        holds=audience.holds,
        tree=tree,
        include=tuple(u.csv_list for u in uses if u.mode == "include"),
        exclude=tuple(u.csv_list for u in uses if u.mode == "exclude"),
    )


def _list_q(spec: AudienceSpec, target: str, csv_list) -> Q:
    from audiences.models import CsvRowMatch

    matched = CsvRowMatch.objects.filter(connection=spec.connection, row__csv_list=csv_list).values(
        "record_id"
    )
    if (csv_list.kind == "companies") == (target == "Account"):
        return Q(pk__in=matched)
    # By connection too: one partition read (and locked), not every connection's.
    own = IngestedRecord.objects.filter(connection=spec.connection, pk__in=matched)
    if target == "Account":  # a people list in a companies audience: their accounts
        return Q(sf_id__in=own.filter(sobject="Contact").values(ACCOUNT))
    accounts = own.values("sf_id")
    return Q(account_sf_id__in=accounts)


def audience_records(*, spec: AudienceSpec, target: str) -> QuerySet[IngestedRecord]:
    """Live records of ``target`` in the audience: criteria, within included lists, not in
    excluded ones. Nothing at all until there is a condition or an included list."""
    qs = not_person_accounts(records_of(connection=spec.connection, sobject=target), target)
    if spec.tree.empty and not spec.include:
        return qs.none()
    if not spec.tree.empty:
        qs = criteria_records(connection=spec.connection, target=target, tree=spec.tree)
    if spec.include:
        qs = qs.filter(_any([_list_q(spec, target, lst) for lst in spec.include]))
    if spec.exclude:
        qs = qs.exclude(_any([_list_q(spec, target, lst) for lst in spec.exclude]))
    return qs


@dataclass(frozen=True)
class Estimate:
    """A size estimate: the total and per source object."""

    total: int
    by_object: dict[str, int]


def audience_size_estimate(*, spec: AudienceSpec) -> Estimate:
    """Count the audience without materialising it (one COUNT per source object)."""
    with _counting():
        by_object = {t: audience_records(spec=spec, target=t).count() for t in spec.targets}
    return Estimate(total=sum(by_object.values()), by_object=by_object)


# Planner costs for counting, against the server's defaults (bench/README.md, "Per-object
# partitions"). JIT: PostgreSQL compiles a query whose estimated cost passes jit_above_cost
# (100,000: most counts over a large org) to machine code first, which took 40-150 ms of each
# estimate at 10M records and made none faster (they wait on pages, not on expressions).
# random_page_cost: the default 4 prices a random read as a disk seek, so at 10M records the
# planner preferred reading all 3.75M contacts (5.0 s) to fetching those of 36,000 accounts
# one by one (0.9 s); 1.1 is PostgreSQL's own suggestion for storage like SSDs, and the copy
# is mostly in memory. A server set lower keeps its value.
# https://www.postgresql.org/docs/15/jit-decision.html
# https://www.postgresql.org/docs/15/runtime-config-query.html#GUC-RANDOM-PAGE-COST
COUNT_RANDOM_PAGE_COST = 1.1


@contextmanager
def _counting():
    """The costs above for the queries run inside, then the previous values back for the rest
    of a transaction this may run in (after an error, the savepoint's rollback sets them
    back)."""
    if db.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), db.cursor() as cursor:
        # One statement; the materialized CTE reads the settings before they are set.
        cursor.execute(
            "WITH now AS MATERIALIZED (SELECT current_setting('jit') AS jit, "
            "current_setting('random_page_cost') AS cost) "
            "SELECT jit, cost, set_config('jit', 'off', true), set_config('random_page_cost', "
            "least(cost::float8, %s)::text, true) FROM now",
            [COUNT_RANDOM_PAGE_COST],
        )
        jit, random_page_cost, _, _ = cursor.fetchone()
        yield
        cursor.execute(
            "SELECT set_config('jit', %s, true), set_config('random_page_cost', %s, true)",
            [jit, random_page_cost],
        )
