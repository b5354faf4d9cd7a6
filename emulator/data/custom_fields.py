"""`--custom-fields OBJECT=N`: N extra custom fields on an object, as a real org accumulates them.

Real orgs carry hundreds of custom fields per object (Enterprise Edition allows 500 on an object,
Unlimited 800), with API names of 20-40 characters; that is what pushes a REST query with every
field past Salesforce's 16,384-byte request line. Names here are `{Area}_{Topic}_{Kind}__c`
(e.g. `Regional_Renewal_Forecast_Amount__c`), drawn without repeats in an order fixed by the
seed and the object; the kind gives the type, length and precision a real admin would choose.
About one field in ten is a formula over fields that never change (Id, CreatedDate), so its
value is always what the platform would compute.

Values stay lazy and cheap in memory whatever N is: every field draws from a small pool of its
own, built on first use, at positions from a handful of random tables shared by all custom
fields (offset by a per-field salt), rather than one random table per field.
Reference: https://help.salesforce.com/s/articleView?id=sf.custom_field_allocations.htm
"""

from __future__ import annotations

import random
import zlib

from emulator.clock import FORMATS
from emulator.data.base import DAY, OrgData
from emulator.data.chunk import pick
from emulator.data.columns import Column, Func, with_nulls
from emulator.data.common import multipicklist_pool
from emulator.schema.fields import FieldDef

MAX_CUSTOM_FIELDS = 800  # Unlimited Edition's per-object allocation
MAX_NAME = 40  # custom field API names, without the __c suffix
SHARED_TABLES = 8
TABLE_MODULUS = 65521

AREAS = (
    "Regional",
    "Global",
    "Primary",
    "Secondary",
    "Partner",
    "Channel",
    "Billing",
    "Shipping",
    "Support",
    "Marketing",
    "Sales",
    "Renewal",
    "Legacy",
    "External",
    "Internal",
    "Finance",
    "Compliance",
    "Customer",
    "Contract",
    "Territory",
    "Portfolio",
    "Strategic",
    "Onboarding",
    "Success",
    "Service",
    "Product",
    "Pricing",
    "Quarterly",
    "Annual",
    "Executive",
)
TOPICS = (
    "Account",
    "Renewal",
    "Forecast",
    "Health",
    "Engagement",
    "Risk",
    "Pipeline",
    "Usage",
    "Adoption",
    "Escalation",
    "Discount",
    "Credit",
    "Invoice",
    "Campaign",
    "Loyalty",
    "Program",
    "Review",
    "Audit",
    "Survey",
    "Referral",
    "Expansion",
    "Churn",
    "Quota",
    "Subscription",
    "License",
    "Integration",
    "Migration",
    "Training",
    "Warranty",
    "Benchmark",
)
PICKLISTS = {
    "Status": ("Active", "Inactive", "Pending", "On Hold", "Closed"),
    "Tier": ("Platinum", "Gold", "Silver", "Bronze"),
    "Region": ("AMER", "EMEA", "APAC", "LATAM"),
    "Stage": ("Planned", "In Progress", "Completed", "Cancelled"),
    "Priority": ("High", "Medium", "Low"),
}
# kind: (describe type, FieldDef options)
KINDS = {
    "Status": ("picklist", {"length": 255}),
    "Tier": ("picklist", {"length": 255}),
    "Region": ("picklist", {"length": 255}),
    "Stage": ("picklist", {"length": 255}),
    "Priority": ("picklist", {"length": 255}),
    "Categories": ("multipicklist", {"length": 4099}),
    "Date": ("date", {}),
    "Time": ("datetime", {}),
    "Amount": ("currency", {"precision": 18, "scale": 2}),
    "Count": ("double", {"precision": 18, "scale": 0}),
    "Score": ("double", {"precision": 5, "scale": 2}),
    "Rate": ("percent", {"precision": 5, "scale": 2}),
    "Code": ("string", {"length": 20}),
    "Reference": ("string", {"length": 80}),
    "Owner_Name": ("string", {"length": 120}),
    "Comments": ("textarea", {"length": 255}),
    "Notes": ("textarea", {"length": 32768}),
    "Flag": ("boolean", {}),
    "Email": ("email", {"length": 80}),
    "Phone": ("phone", {"length": 40}),
    "Website": ("url", {"length": 255}),
}
CATEGORIES = ("Hardware", "Software", "Services", "Training", "Support", "Consulting")
# name suffix: (type, options, formula, value from the record's Id and CreatedDate)
FORMULAS = {
    "Created_Year": (
        "double",
        {"precision": 18, "scale": 0},
        "YEAR(DATEVALUE(CreatedDate))",
        lambda rid, created: float(FORMATS.day(created // DAY)[:4]),
    ),
    "Created_Quarter": (
        "string",
        {"length": 1300},
        "TEXT(CEILING(MONTH(DATEVALUE(CreatedDate)) / 3))",
        lambda rid, created: str((int(FORMATS.day(created // DAY)[5:7]) + 2) // 3),
    ),
    "Record_Key": ("string", {"length": 1300}, "CASESAFEID(Id)", lambda rid, created: rid),
}


def definitions(sobject: str, n: int, seed: int, taken: set[str]) -> list[FieldDef]:
    """N custom field definitions for sobject, deterministic from (seed, sobject)."""
    if n < 0 or n > MAX_CUSTOM_FIELDS:
        raise ValueError(f"{sobject}: 0 to {MAX_CUSTOM_FIELDS} custom fields, not {n}")
    rng = random.Random(f"{seed}/{sobject}/custom-fields")
    kinds = list(KINDS)
    names = [(a, t) for a in AREAS for t in TOPICS]
    rng.shuffle(names)
    out: list[FieldDef] = []
    used = {name.lower() for name in taken}
    for k, (area, topic) in enumerate(names * 3):
        if len(out) == n:
            break
        formula = k % 10 == 9
        kind = list(FORMULAS)[k % len(FORMULAS)] if formula else kinds[rng.randrange(len(kinds))]
        name = f"{area}_{topic}_{kind}"
        if len(name) > MAX_NAME or f"{name}__c".lower() in used:
            continue
        used.add(f"{name}__c".lower())
        out.append(_field(f"{name}__c", kind, formula))
    return out


def _field(name: str, kind: str, formula: bool) -> FieldDef:
    if formula:
        ftype, options, text, _ = FORMULAS[kind]
        return FieldDef(name, ftype, formula=text, **options)
    ftype, options = KINDS[kind]
    values = PICKLISTS.get(kind, CATEGORIES if ftype == "multipicklist" else ())
    return FieldDef(name, ftype, values=values, **options)


def add_columns(data: OrgData, gen, fields: list[FieldDef]) -> None:
    """A lazy value column on gen for each custom field."""
    for k, f in enumerate(fields):
        gen.add(f.name, column(data, gen.name, f, k))


def column(data: OrgData, sobject: str, f: FieldDef, k: int) -> Column:
    kind = f.name[: -len("__c")].split("_", 2)[-1]
    if f.formula is not None:
        compute = FORMULAS[kind][3]
        return FormulaColumn(f.type, f.formula, compute)
    key = f"{data.seed}/{sobject}/{f.name}"
    return SaltedPool(
        f.type, f"custom{k % SHARED_TABLES}", zlib.crc32(key.encode()), _pool(f, kind, key, data)
    )


class FormulaColumn(Func):
    """A formula over Id and CreatedDate: evaluated on read, and on create (see store.create)."""

    def __init__(self, ftype: str, formula: str, compute):
        self.formula_fn = lambda rec: compute(rec.get("Id"), rec.get("CreatedDate"))
        super().__init__(
            ftype,
            lambda ch: [
                compute(i, c) for i, c in zip(ch.typed("Id"), ch.typed("CreatedDate"), strict=True)
            ],
        )


class SaltedPool(Column):
    """Picks from a lazily built pool at positions drawn from a table shared with other
    custom fields, shifted by this field's salt."""

    direct_csv = True

    def __init__(self, ftype: str, table: str, salt: int, build):
        self.ftype = ftype
        self.table = table
        self.salt = salt % TABLE_MODULUS
        self._build = build
        self._pool: list | None = None
        self._cells: list | None = None

    @property
    def pool(self) -> list:
        if self._pool is None:
            self._pool = list(self._build())
        return self._pool

    def _positions(self, ch) -> list[int]:
        size, salt = len(self.pool), self.salt
        return [(r + salt) % TABLE_MODULUS % size for r in ch.r(self.table, TABLE_MODULUS)]

    def typed(self, ch) -> list:
        return pick(self.pool, self._positions(ch))

    def csv(self, ch) -> list:
        if self._cells is None:
            self._cells = self.cells(self.pool)
        return pick(self._cells, self._positions(ch))


def _pool(f: FieldDef, kind: str, key: str, data: OrgData):
    """A zero-argument builder of the field's value pool (nulls included)."""

    def build() -> list:
        rng = random.Random(key)
        t = f.type
        size = 211
        if t == "picklist":
            return with_nulls(f.values, 20)
        if t == "multipicklist":
            return multipicklist_pool(key, list(f.values), 30, size).pool
        if t == "boolean":
            return [rng.random() < 0.3 for _ in range(size)]
        if t == "date":
            first = data.data_start // DAY
            days = (data.data_end - data.data_start) // DAY
            return with_nulls([FORMATS.day(first + rng.randrange(days)) for _ in range(size)], 25)
        if t == "datetime":
            span = data.data_end - data.data_start
            return with_nulls([data.data_start + rng.randrange(span) for _ in range(size)], 25)
        if t in ("currency", "double", "percent"):
            return with_nulls([_number(rng, f, kind) for _ in range(size)], 25)
        return with_nulls([_text(rng, f, kind, n) for n in range(size)], 30)

    return build


def _number(rng: random.Random, f: FieldDef, kind: str) -> float:
    if kind == "Amount":
        return float(round(1000 * 10 ** (rng.random() * 4), -2))
    if kind == "Count":
        return float(rng.randrange(0, 5000))
    if kind == "Rate":
        return round(rng.uniform(0, 100), 2)
    return round(rng.uniform(0, 100), 2)


def _text(rng: random.Random, f: FieldDef, kind: str, n: int) -> str:
    word = rng.choice(TOPICS)
    if kind == "Code":
        return f"{word[:3].upper()}-{rng.randrange(10000, 99999)}"
    if kind == "Reference":
        return f"{word}-{rng.randrange(100000, 999999)}"
    if kind == "Email":
        return f"{word.lower()}.{n}@example.com"
    if kind == "Phone":
        return f"({rng.randrange(200, 999)}) 555-{rng.randrange(1000, 9999)}"
    if kind == "Website":
        return f"https://www.{word.lower()}{n}.example.com"
    if kind == "Owner_Name":
        return f"{rng.choice(AREAS)} {word} Team"
    if kind == "Notes":
        return f"{word} review notes: " + " ".join(rng.choices(TOPICS, k=12)).lower()
    return f"{rng.choice(AREAS)} {word.lower()} follow-up"
