"""Audience size estimates on an 800,000-record org in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/primer_sf_aud \
        .venv/bin/python bench/audience_size.py [--reload] [--runs 7] [--explain]

Loads a synthetic org shaped like Primer's worked example (100K accounts, 300K contacts, 300K
leads, 50K opportunities, 10K campaigns, 40K campaign members) into IngestedRecord with COPY,
from a seeded RNG, once (``--reload`` to redo it), and VACUUMs it as a sync does after a load;
then times four realistic estimates through the real selector (``audience_size_estimate``) and
prints the median of several runs. ``--explain`` prints the plans of the estimates' own COUNT
queries (index-only scans show as such).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "primer_sf.settings")

import django
from django.apps import apps

if not apps.ready:  # run as a script; the benchmark (python -m bench) imports it set up
    django.setup()

from django.core.management import call_command
from django.db import connection as db
from django.utils import timezone

from audiences.criteria import criteria_parse
from audiences.selectors import (
    AudienceSpec,
    audience_size_estimate,
    connection_fields,
)
from connections.models import Connection, Workspace
from ingestion.engine.state import FieldPlan
from ingestion.engine.values import facet_fields, facets_of
from ingestion.models import IngestedRecord, ObjectCursor

COUNTS = {
    "Account": 100_000,
    "Contact": 300_000,
    "Lead": 300_000,
    "Opportunity": 50_000,
    "Campaign": 10_000,
    "CampaignMember": 40_000,
}
PREFIX = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "Campaign": "701",
    "CampaignMember": "00v",
}
INDUSTRIES = [
    ("Technology", 18),
    ("Finance", 12),
    ("Healthcare", 10),
    ("Manufacturing", 10),
    ("Retail", 8),
    ("Education", 6),
    ("Energy", 5),
    ("Media", 5),
    ("Telecommunications", 5),
    ("Consulting", 5),
    ("Insurance", 4),
    ("Transportation", 4),
    ("Construction", 4),
    ("Hospitality", 2),
    ("Government", 2),
]
COUNTRIES = [
    ("United States", 45),
    ("United Kingdom", 12),
    ("Germany", 9),
    ("Canada", 7),
    ("France", 6),
    ("Australia", 5),
    ("Netherlands", 4),
    ("India", 4),
    ("Spain", 3),
    ("Brazil", 3),
    ("Japan", 2),
]
LEAD_STATUS = [
    ("Open - Not Contacted", 30),
    ("Working - Contacted", 25),
    ("Closed - Converted", 15),
    ("Closed - Not Converted", 30),
]
STAGES = [
    ("Prospecting", 12),
    ("Qualification", 10),
    ("Needs Analysis", 8),
    ("Proposal", 8),
    ("Negotiation", 7),
    ("Closed Won", 30),
    ("Closed Lost", 25),
]
TITLES = [
    "CEO",
    "CTO",
    "CFO",
    "VP Sales",
    "VP Marketing",
    "Head of Growth",
    "Engineer",
    "Senior Engineer",
    "Product Manager",
    "Marketing Manager",
    "Sales Director",
    "Account Executive",
    "Data Analyst",
    "Operations Manager",
    "Founder",
]
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "John",
    "Mary",
    "James",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Susan",
    "Richard",
    "Jessica",
    "Joseph",
    "Sarah",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
]
WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Cyberdyne",
    "Soylent",
    "Tyrell",
    "Massive",
    "Dynamic",
    "Blue",
    "North",
    "Quantum",
    "Apex",
    "Summit",
    "Pioneer",
    "Vertex",
    "Nimbus",
    "Orbit",
    "Zenith",
]
SUFFIX = ["Inc", "LLC", "Ltd", "GmbH", "Group", "Labs", "Systems", "Partners"]
NOW = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def _weighted(rng: random.Random, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _id(sobject: str, n: int) -> str:
    return f"{PREFIX[sobject]}{n:012d}AAA"[:18]


def _when(rng: random.Random, days: int) -> str:
    moment = NOW - dt.timedelta(seconds=rng.randrange(days * 86400))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _nulls(*names):
    return dict.fromkeys(names)


def account(rng, n):
    name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIX)} {n}"
    country = _weighted(rng, COUNTRIES)
    slug = name.lower().replace(" ", "")
    return {
        "Name": name,
        "Industry": _weighted(rng, INDUSTRIES),
        "Type": rng.choice(["Customer", "Prospect", "Partner"]),
        "BillingCountry": country,
        "BillingCity": rng.choice(["Springfield", "Riverside", "Franklin", "Greenville"]),
        "BillingStreet": f"{rng.randint(1, 999)} Main St",
        "BillingPostalCode": f"{rng.randint(10000, 99999)}",
        "BillingState": None,
        "Website": f"https://www.{slug}.com",
        "AnnualRevenue": rng.randint(1, 5000) * 100_000,
        "NumberOfEmployees": rng.randint(1, 20000),
        "Phone": f"+1 415 555 {rng.randint(1000, 9999)}",
        "CreatedDate": _when(rng, 1500),
        "OwnerId": _id("Account", 0),
        **_nulls("Description", "Fax", "Sic", "TickerSymbol", "Site"),
    }


def contact(rng, n, accounts):
    acc_n = rng.randrange(accounts)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Email": f"{first}.{last}{n}@company{acc_n}.com".lower(),
        "Title": rng.choice(TITLES),
        "AccountId": _id("Account", acc_n),
        "MailingCountry": _weighted(rng, COUNTRIES),
        "Phone": f"(415) 555-{rng.randint(1000, 9999)}",
        "LeadSource": rng.choice(["Web", "Event", "Partner"]),
        "HasOptedOutOfEmail": rng.random() < 0.05,
        "CreatedDate": _when(rng, 1500),
        **_nulls(
            "MobilePhone", "Department", "Birthdate", "Description", "MailingCity", "ReportsToId"
        ),
    }


def lead(rng, n, accounts):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    status = _weighted(rng, LEAD_STATUS)
    converted = status == "Closed - Converted"
    return {
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Email": f"{first}.{last}.{n}@lead{n % 50000}.com".lower(),
        "Company": f"{rng.choice(WORDS)} {n}",
        "Title": rng.choice(TITLES),
        "Status": status,
        "Industry": _weighted(rng, INDUSTRIES),
        "Country": _weighted(rng, COUNTRIES),
        "CreatedDate": _when(rng, 1100),
        "IsConverted": converted,
        "ConvertedAccountId": _id("Account", rng.randrange(accounts)) if converted else None,
        "LeadSource": rng.choice(["Web", "Event", "Partner"]),
        "Phone": f"+44 20 7946 {rng.randint(1000, 9999)}",
        **_nulls("MobilePhone", "Website", "Description", "City", "Rating"),
    }


def opportunity(rng, n, accounts):
    stage = _weighted(rng, STAGES)
    closed = stage.startswith("Closed")
    return {
        "Name": f"Deal {n}",
        "AccountId": _id("Account", rng.randrange(accounts)),
        "StageName": stage,
        "IsClosed": closed,
        "IsWon": stage == "Closed Won",
        "Amount": round(rng.lognormvariate(10, 1.2), 2),
        "CloseDate": _when(rng, 700)[:10],
        "Type": rng.choice(["New Business", "Renewal"]),
        **_nulls("Description", "NextStep"),
    }


def campaign(rng, n):
    return {
        "Name": f"Campaign {n}",
        "Type": rng.choice(["Webinar", "Event", "Email"]),
        "Status": "Completed",
        "StartDate": _when(rng, 700)[:10],
    }


def campaign_member(rng, n):
    person = rng.random() < 0.5
    return {
        "CampaignId": _id("Campaign", rng.randrange(COUNTS["Campaign"])),
        "ContactId": _id("Contact", rng.randrange(COUNTS["Contact"])) if person else None,
        "LeadId": None if person else _id("Lead", rng.randrange(COUNTS["Lead"])),
        "Status": rng.choice(["Sent", "Responded"]),
    }


def _data(rng, sobject, n):
    accounts = COUNTS["Account"]
    maker = {
        "Account": lambda: account(rng, n),
        "Contact": lambda: contact(rng, n, accounts),
        "Lead": lambda: lead(rng, n, accounts),
        "Opportunity": lambda: opportunity(rng, n, accounts),
        "Campaign": lambda: campaign(rng, n),
        "CampaignMember": lambda: campaign_member(rng, n),
    }[sobject]
    return {"Id": _id(sobject, n), **maker(), "SystemModstamp": NOW.isoformat()}


def load(connection: Connection) -> None:
    """COPY the synthetic org into IngestedRecord (about a minute)."""
    rng = random.Random(20261120)
    IngestedRecord.objects.filter(connection=connection).delete()
    table = IngestedRecord._meta.db_table
    columns = (
        "connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, "
        "first_seen_at, last_seen_at"
    )
    with db.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for sobject, count in COUNTS.items():
            started = time.monotonic()
            types = FIELD_TYPES.get(sobject, {})
            facets = facet_fields(
                FieldPlan.from_json({"fields": {name: {"type": t} for name, t in types.items()}})
            )
            for n in range(count):
                data = _data(rng, sobject, n)
                row = (connection.pk, sobject, data["Id"], json.dumps(data))
                row += (json.dumps(facets_of(data, facets)), NOW, False, NOW, NOW)
                copy.write_row(row)
            print(
                f"  {sobject:<15} {count:>8,} rows in {time.monotonic() - started:5.1f} s",
                flush=True,
            )
    with db.cursor() as cursor:
        # As a sync does after a load (ingestion.services.sync): VACUUM sets the visibility
        # map that lets counts read the account index alone.
        cursor.execute(f"VACUUM (ANALYZE) {table}")


FIELD_TYPES = {
    "Account": {
        "Name": "string",
        "Industry": "picklist",
        "BillingCountry": "string",
        "Website": "url",
        "AnnualRevenue": "currency",
        "NumberOfEmployees": "int",
        "Type": "picklist",
        "CreatedDate": "datetime",
    },
    "Contact": {
        "FirstName": "string",
        "LastName": "string",
        "Email": "email",
        "Title": "string",
        "AccountId": "reference",
        "MailingCountry": "string",
        "LeadSource": "picklist",
        "HasOptedOutOfEmail": "boolean",
        "CreatedDate": "datetime",
    },
    "Lead": {
        "FirstName": "string",
        "LastName": "string",
        "Email": "email",
        "Company": "string",
        "Title": "string",
        "Status": "picklist",
        "Industry": "picklist",
        "Country": "string",
        "CreatedDate": "datetime",
        "IsConverted": "boolean",
    },
    "Opportunity": {
        "AccountId": "reference",
        "StageName": "picklist",
        "Amount": "currency",
        "CloseDate": "date",
        "IsClosed": "boolean",
        "IsWon": "boolean",
    },
    "CampaignMember": {
        "CampaignId": "reference",
        "ContactId": "reference",
        "LeadId": "reference",
        "Status": "picklist",
    },
}


def describe(connection: Connection) -> None:
    for sobject, fields in FIELD_TYPES.items():
        plan = {"fields": {name: {"type": t, "label": name} for name, t in fields.items()}}
        ObjectCursor.objects.update_or_create(
            connection=connection,
            sobject=sobject,
            defaults={
                "field_plan": plan,
                "initial_load_complete": True,
                "records_ingested": COUNTS[sobject],
                "estimated_total": COUNTS[sobject],
            },
        )


def _cond(obj, field, operator, value=None):
    return {
        "type": "condition",
        "object": obj,
        "field": field,
        "operator": operator,
        "value": value,
    }


CASES = [
    (
        "Contacts in Technology accounts in the United States",
        "contacts",
        [
            _cond("Account", "Industry", "equals", "Technology"),
            _cond("Account", "BillingCountry", "equals", "United States"),
        ],
    ),
    (
        "Leads with status Open created in the last 90 days",
        "leads",
        [
            _cond("Lead", "Status", "equals", "Open - Not Contacted"),
            _cond("Lead", "CreatedDate", "in_last_n_days", 90),
        ],
    ),
    (
        "Contacts at accounts with an open opportunity over 50,000",
        "contacts",
        [
            {
                "type": "related",
                "object": "Opportunity",
                "conditions": [
                    {"field": "IsClosed", "operator": "is_false"},
                    {"field": "Amount", "operator": "gt", "value": 50000},
                ],
            }
        ],
    ),
    (
        "People (contacts + leads) titled VP* in Technology",
        "people",
        [
            _cond("Account", "Industry", "equals", "Technology"),
            _cond("Contact", "Title", "starts_with", "VP"),
        ],
    ),
]


def _spec(connection, holds, children):
    raw = {"type": "group", "match": "all", "children": children}
    tree = criteria_parse(raw, fields=connection_fields(connection=connection), holds=holds)
    return AudienceSpec(connection=connection, holds=holds, tree=tree)


def _explain(spec) -> None:
    """The plans of the estimate's own COUNT queries (a SELECT of the rows could not be
    index-only: it reads their ids)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(db) as queries:
        audience_size_estimate(spec=spec)
    with db.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            print("\n".join(row[0] for row in cursor.fetchall()))


def time_estimate(connection: Connection, holds: str, children: list, runs: int) -> dict:
    """Size and timings (ms) of one estimate: median, min and max of ``runs`` after a warm-up."""
    spec = _spec(connection, holds, children)
    audience_size_estimate(spec=spec)  # warm the cache, as a live builder would be
    times, size = [], None
    for _ in range(runs):
        started = time.perf_counter()
        size = audience_size_estimate(spec=spec).total
        times.append((time.perf_counter() - started) * 1000)
    return {
        "size": size,
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
    }


def measure(connection: Connection, runs: int, explain: bool) -> None:
    print(f"\n{'criteria':<62} {'size':>8} {'median':>9} {'min':>8} {'max':>8}")
    for label, holds, children in CASES:
        timed = time_estimate(connection, holds, children, runs)
        print(
            f"{label:<62} {timed['size']:>8,} {timed['median_ms']:>7.0f}ms "
            f"{timed['min_ms']:>6.0f}ms {timed['max_ms']:>6.0f}ms"
        )
        if explain:
            _explain(_spec(connection, holds, children))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reload", action="store_true", help="regenerate the org")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE")
    args = parser.parse_args()
    if db.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: this measures the production path.")
    call_command("migrate", verbosity=0)
    workspace, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    connection, _ = Connection.objects.get_or_create(
        workspace=workspace,
        label="seed-example (synthetic)",
        defaults={
            "login_host": "https://login.salesforce.com",
            "org_id": "00DBENCH000000AAA",
            "status": Connection.Status.ACTIVE,
            "initial_sync_completed_at": timezone.now(),
        },
    )
    if args.reload or connection.records.count() != sum(COUNTS.values()):
        print(f"Loading {sum(COUNTS.values()):,} records ...")
        load(connection)
    describe(connection)
    measure(connection, args.runs, args.explain)


if __name__ == "__main__":
    main()
