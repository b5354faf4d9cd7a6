"""Generators for Account, Contact, Lead and Opportunity."""

from __future__ import annotations

import random

from emulator.clock import FORMATS
from emulator.data import common, vocab
from emulator.data.base import DAY, ObjectGen, OrgData, RefColumn, user_ref_pool
from emulator.data.columns import Const, Func, Pool, TupleGroup, weighted, with_nulls
from emulator.schema.catalog_sales import (
    ACCOUNT_TYPES,
    INTERESTS,
    LANGUAGES,
    LEAD_STATUS,
    OWNERSHIP,
)
from emulator.schema.objects import CLEAN_STATUS, INDUSTRIES, LEAD_SOURCES, RATINGS

OWNER_WEIGHTS = {"reps": 8, "admin": 1}
CREATOR_WEIGHTS = {"integration": 6, "admin": 2, "reps": 2}
SIC = (
    ("7372", "Prepackaged Software", "511210", "Software Publishers"),
    ("5045", "Computers and Peripherals", "423430", "Computer Equipment Wholesalers"),
    ("8742", "Management Consulting", "541611", "Management Consulting Services"),
    ("6022", "State Commercial Banks", "522110", "Commercial Banking"),
    ("2834", "Pharmaceutical Preparations", "325412", "Pharmaceutical Manufacturing"),
    ("4813", "Telephone Communications", "517311", "Wired Telecommunications Carriers"),
    ("5812", "Eating Places", "722511", "Full-Service Restaurants"),
    ("3714", "Motor Vehicle Parts", "336390", "Other Motor Vehicle Parts Manufacturing"),
    ("8062", "General Hospitals", "622110", "General Medical and Surgical Hospitals"),
    ("4213", "Trucking", "484121", "General Freight Trucking"),
)
STAGE_FACTS = {
    # stage: (probability, forecast category, forecast category name, closed, won, weight)
    "Prospecting": (10.0, "Pipeline", "Pipeline", False, False, 14),
    "Qualification": (10.0, "Pipeline", "Pipeline", False, False, 12),
    "Needs Analysis": (20.0, "Pipeline", "Pipeline", False, False, 10),
    "Value Proposition": (50.0, "Pipeline", "Pipeline", False, False, 8),
    "Id. Decision Makers": (60.0, "Pipeline", "Pipeline", False, False, 6),
    "Perception Analysis": (70.0, "Pipeline", "Pipeline", False, False, 5),
    "Proposal/Price Quote": (75.0, "Pipeline", "Pipeline", False, False, 6),
    "Negotiation/Review": (90.0, "Forecast", "Commit", False, False, 5),
    "Closed Won": (100.0, "Closed", "Closed", True, True, 18),
    "Closed Lost": (0.0, "Omitted", "Omitted", True, False, 16),
}


def _system(gen: ObjectGen, data: OrgData) -> None:
    gen.add("IsDeleted", Const("boolean", False))
    gen.add("MasterRecordId", Const("reference", None))
    gen.add("OwnerId", user_ref_pool(data, "owner", OWNER_WEIGHTS))
    gen.add("CreatedById", user_ref_pool(data, "creator", CREATOR_WEIGHTS))
    gen.add("LastModifiedById", user_ref_pool(data, "modifier", CREATOR_WEIGHTS))
    gen.add("LastActivityDate", Func("date", common.last_activity))
    gen.add("LastViewedDate", Const("datetime", None))
    gen.add("LastReferencedDate", Const("datetime", None))


def _sic_group(seed: int) -> TupleGroup:
    rows = [*SIC, *[(None, None, None, None)] * 4]
    return TupleGroup("sic", rows)


def account(data: OrgData) -> ObjectGen:
    gen = ObjectGen(
        data, "Account", "001", data.counts["Account"], (data.data_start, data.data_end)
    )
    _system(gen, data)
    seed = data.seed

    def names(ch):
        return ch.shared("company", lambda c: [common.company(i) for i in c.idxs])

    gen.add("Name", Func("string", lambda ch: [n for n, _ in names(ch)]))
    gen.add(
        "Type",
        Pool(
            "picklist",
            "type",
            weighted(
                *[(t, w) for t, w in zip(ACCOUNT_TYPES, (30, 35, 12, 8, 4, 6, 5), strict=True)]
            ),
        ),
    )
    gen.add(
        "ParentId",
        RefColumn(
            gen.codec,
            lambda ch: [
                None if r >= 6 or i < 10 else i - 1 - (i * r) % min(i, 500)
                for i, r in zip(ch.idxs, ch.r("parent", 100), strict=True)
            ],
        ),
    )
    billing = common.address_group(seed, "billing", null_pct=3)
    common.add_address(gen, "Billing", billing)
    shipping = TupleGroup("billing", lambda: billing.rows)  # same draw: ships where it bills
    common.add_address(gen, "Shipping", shipping)
    gen.add("Phone", common.phone_pool(seed, "phone", 8))
    gen.add("Fax", common.phone_pool(seed, "fax", 70))
    gen.add(
        "AccountNumber",
        Func(
            "string",
            lambda ch: [
                None if r < 30 else f"CD{(i * 7919) % 1000000:06d}"
                for i, r in zip(ch.idxs, ch.r("accnum", 100), strict=True)
            ],
        ),
    )
    gen.add("Website", Func("url", lambda ch: ["https://www." + d for _, d in names(ch)]))
    gen.add("PhotoUrl", Func("url", common.photo_url))
    sic = _sic_group(seed)
    for k, (name, ftype) in enumerate(
        (("Sic", "string"), ("SicDesc", "string"), ("NaicsCode", "string"), ("NaicsDesc", "string"))
    ):
        gen.add(name, sic.column(ftype, k))
    gen.add("Industry", Pool("picklist", "industry", with_nulls(INDUSTRIES, 5)))
    gen.add("AnnualRevenue", common.money_pool("revenue", 250_000, 5_000_000_000, 50_000, 12))
    rng = random.Random(f"{seed}/employees")
    gen.add(
        "NumberOfEmployees",
        Pool(
            "int", "employees", with_nulls([int(5 * 2000 ** rng.random()) for _ in range(2003)], 10)
        ),
    )
    gen.add("Ownership", Pool("picklist", "ownership", with_nulls(OWNERSHIP, 40)))
    gen.add(
        "TickerSymbol",
        Func(
            "string",
            lambda ch: [
                None if r < 95 else "".join(w[0] for w in n.split()[:3]).upper()
                for (n, _), r in zip(names(ch), ch.r("ticker", 100), strict=True)
            ],
        ),
    )
    gen.add("Description", Pool("textarea", "description", vocab.DESCRIPTIONS))
    gen.add("Rating", Pool("picklist", "rating", with_nulls(RATINGS, 50)))
    gen.add(
        "Site", Pool("string", "site", with_nulls(("Headquarters", "Branch", "EMEA Office"), 80))
    )
    gen.add("Jigsaw", Const("string", None))
    gen.add("JigsawCompanyId", Const("string", None))
    gen.add(
        "CleanStatus",
        Pool("picklist", "clean", weighted(("Pending", 8), ("Matched", 1), ("NotFound", 1))),
    )
    gen.add("AccountSource", Pool("picklist", "source", with_nulls(LEAD_SOURCES, 25)))
    gen.add(
        "DunsNumber",
        Func(
            "string",
            lambda ch: [
                None if r < 70 else f"{(i * 48271) % 1000000000:09d}"
                for i, r in zip(ch.idxs, ch.r("duns", 100), strict=True)
            ],
        ),
    )
    gen.add("Tradestyle", Const("string", None))
    gen.add(
        "YearStarted",
        Pool("string", "year", with_nulls([str(y) for y in range(1950, 2022)], 50)),
    )
    gen.add(
        "Customer_Since__c",
        Func(
            "date",
            lambda ch: [
                FORMATS.day(c // DAY + r) if t and t.startswith("Customer") else None
                for c, r, t in zip(
                    ch.typed("CreatedDate"), ch.r("since", 120), ch.typed("Type"), strict=True
                )
            ],
        ),
    )
    gen.add(
        "Account_Tier__c", Func("string", lambda ch: [tier(v) for v in ch.typed("AnnualRevenue")])
    )
    gen.add("Location__Latitude__s", Func("double", lambda ch: ch.typed("BillingLatitude")))
    gen.add("Location__Longitude__s", Func("double", lambda ch: ch.typed("BillingLongitude")))
    return gen


def tier(revenue) -> str | None:
    """Account_Tier__c's formula."""
    if revenue is None:
        return "SMB"
    if revenue >= 100_000_000:
        return "Enterprise"
    if revenue >= 10_000_000:
        return "Mid-Market"
    return "SMB"


def email_domain(email) -> str | None:
    """Email_Domain__c's formula."""
    if not email or "@" not in email:
        return None
    return email.split("@", 1)[1]


def weighted_amount(amount, probability) -> float | None:
    """Weighted_Amount__c's formula (Probability is a percent)."""
    if amount is None or probability is None:
        return None
    return round(amount * probability / 100.0, 2)


def _person_common(gen: ObjectGen, data: OrgData) -> None:
    seed = data.seed
    common.name_columns(gen)
    gen.add("Phone", common.phone_pool(seed, "phone", 10))
    gen.add("Fax", common.phone_pool(seed, "fax", 85))
    gen.add("MobilePhone", common.phone_pool(seed, "mobile", 45))
    gen.add("Title", Pool("string", "title", with_nulls(vocab.TITLES, 8)))
    gen.add("LeadSource", Pool("picklist", "source", with_nulls(LEAD_SOURCES, 20)))
    gen.add("Description", Pool("textarea", "description", vocab.DESCRIPTIONS))
    gen.add("PhotoUrl", Func("url", common.photo_url))
    gen.add("Jigsaw", Const("string", None))
    gen.add("JigsawContactId", Const("string", None))
    gen.add(
        "CleanStatus",
        Pool("picklist", "clean", weighted(("Pending", 8), ("Matched", 1), (None, 1))),
    )
    gen.add("EmailBouncedReason", Const("string", None))
    gen.add("EmailBouncedDate", Const("datetime", None))
    gen.add("IndividualId", Const("reference", None))
    rng = random.Random(f"{seed}/{gen.name}/score")
    gen.add(
        "Lead_Score__c",
        Pool(
            "double", "score", with_nulls([float(rng.randrange(0, 101)) for _ in range(1009)], 30)
        ),
    )


def _base_emails(ch, domains, missing_pct: int) -> list:
    """first.last@domain per record; missing for some (no email, or no company domain)."""
    gaps = ch.r("email_gap", 100)
    return [
        None if g < missing_pct or dom is None else local + "@" + dom
        for local, dom, g in zip(common.email_locals(ch), domains(ch), gaps, strict=True)
    ]


def _emails(ch, domains, missing_pct: int) -> list:
    """Addresses, a few repeating the previous record's (the same person entered twice).

    A value must depend on its record's index alone, never on which other records share the
    page, so the repeat is of index - 1's own address, computed in its own chunk.
    """
    out = _base_emails(ch, domains, missing_pct)
    gaps = ch.r("email_gap", 100)
    repeats = [p for p, g in enumerate(gaps) if g == 99 and ch.idxs[p] > 0]
    if repeats:
        before = ch.gen.chunk([ch.idxs[p] - 1 for p in repeats])
        for p, email in zip(repeats, _base_emails(before, domains, missing_pct), strict=True):
            if email:
                out[p] = email
    return out


def contact(data: OrgData) -> ObjectGen:
    gen = ObjectGen(data, "Contact", "003", data.counts["Contact"], data.child_span())
    _system(gen, data)
    _person_common(gen, data)
    seed = data.seed
    acc = data.codec("001")

    def account_idx(ch):
        return ch.shared("account", lambda c: gen.parent_proportional(c, "Account", 8, null_pct=2))

    gen.add("AccountId", RefColumn(acc, account_idx))
    common.add_address(gen, "Other", common.address_group(seed, "other", size=500, null_pct=92))
    common.add_address(gen, "Mailing", common.address_group(seed, "mailing", null_pct=10))
    gen.add("HomePhone", common.phone_pool(seed, "home", 90))
    gen.add("OtherPhone", common.phone_pool(seed, "otherphone", 95))
    gen.add("AssistantPhone", common.phone_pool(seed, "asstphone", 97))
    gen.add(
        "ReportsToId",
        RefColumn(
            gen.codec,
            lambda ch: [
                i - 1 if r < 8 and i > 0 else None
                for i, r in zip(ch.idxs, ch.r("reports", 100), strict=True)
            ],
        ),
    )

    def domains(ch):
        return [
            None if a is None else row[1]
            for a, row in zip(account_idx(ch), common.companies(account_idx(ch)), strict=True)
        ]

    gen.add(
        "Email",
        Func("email", lambda ch: ch.shared("email", lambda c: _emails(c, domains, 5))),
    )
    gen.add("Department", Pool("string", "dept", with_nulls(vocab.DEPARTMENTS, 30)))
    gen.add(
        "AssistantName",
        Pool(
            "string",
            "asst",
            with_nulls(
                [f"{f} {vocab.LAST_NAMES[k % 60]}" for k, f in enumerate(vocab.FIRST_NAMES[:40])],
                95,
            ),
        ),
    )
    gen.add("Birthdate", common.date_pool(f"{seed}/birth", -12000, 16000, 85))
    gen.add("HasOptedOutOfEmail", common.bools("optout", 7))
    gen.add("HasOptedOutOfFax", common.bools("faxout", 3))
    gen.add("DoNotCall", common.bools("dnc", 4))
    gen.add("IsEmailBounced", Const("boolean", False))
    gen.add("LastCURequestDate", Const("datetime", None))
    gen.add("LastCUUpdateDate", Const("datetime", None))
    gen.add("Interests__c", common.multipicklist_pool(f"{seed}/interests", INTERESTS, 40))
    gen.add("Preferred_Language__c", Pool("picklist", "lang", with_nulls(LANGUAGES, 50)))
    gen.add("Newsletter_Opt_In__c", common.bools("newsletter", 35))
    gen.add(
        "Email_Domain__c",
        Func(
            "string",
            lambda ch: [e[e.index("@") + 1 :] if e else None for e in ch.typed("Email")],
        ),
    )
    return gen


def lead(data: OrgData) -> ObjectGen:
    gen = ObjectGen(data, "Lead", "00Q", data.counts["Lead"], (data.data_start, data.data_end))
    _system(gen, data)
    _person_common(gen, data)
    seed = data.seed
    n_acc = max(1, data.counts.get("Account", 1))
    n_own = max(1, gen.count // 3)

    def company_numbers(ch):
        def build(c):
            src = c.r("company_src", 100)
            pick = c.r("company_pick", 1 << 30)
            return [
                (p % n_acc) if s < 40 else n_acc + (p % n_own)
                for s, p in zip(src, pick, strict=True)
            ]

        return ch.shared("company_no", build)

    def company_rows(ch):
        return ch.shared("company_rows", lambda c: common.companies(company_numbers(c)))

    gen.add("Company", Func("string", lambda ch: [n for n, _ in company_rows(ch)]))
    common.add_address(gen, "", common.address_group(seed, "lead", null_pct=15))
    gen.add("Website", Func("url", lambda ch: ["https://www." + d for _, d in company_rows(ch)]))

    def emails(ch):
        out = _emails(ch, lambda c: [d for _, d in company_rows(c)], 7)
        dup = ch.r("dup_contact", 100)
        n_contacts = data.counts.get("Contact", 0)
        positions = [p for p, r in enumerate(dup) if r < 2] if n_contacts else []
        if positions:
            contact_gen = data.gens["Contact"]
            others = [(ch.idxs[p] * 7 + 3) % n_contacts for p in positions]
            theirs = contact_gen.chunk(others).typed("Email")
            for p, e in zip(positions, theirs, strict=True):
                if e is not None:
                    out[p] = e  # the same person is also a contact: a duplicate email
        return out

    gen.add("Email", Func("email", lambda ch: ch.shared("email", emails)))
    status_pool = weighted(*zip(LEAD_STATUS, (35, 30, 15, 20), strict=True))
    gen.add("Status", Pool("picklist", "status", status_pool))
    gen.add("Industry", Pool("picklist", "industry", with_nulls(INDUSTRIES, 15)))
    gen.add("Rating", Pool("picklist", "rating", with_nulls(RATINGS, 55)))
    gen.add("AnnualRevenue", common.money_pool("revenue", 100_000, 500_000_000, 10_000, 45))
    rng = random.Random(f"{seed}/lead-employees")
    gen.add(
        "NumberOfEmployees",
        Pool(
            "int", "employees", with_nulls([int(2 * 5000 ** rng.random()) for _ in range(2003)], 40)
        ),
    )

    def converted(ch):
        return ch.shared(
            "converted", lambda c: [s == "Closed - Converted" for s in c.typed("Status")]
        )

    gen.add("IsConverted", Func("boolean", converted))
    gen.add(
        "ConvertedDate",
        Func(
            "date",
            lambda ch: [
                FORMATS.day(m // DAY) if conv else None
                for m, conv in zip(ch.typed("SystemModstamp"), converted(ch), strict=True)
            ],
        ),
    )
    for field, target, count_key in (
        ("ConvertedAccountId", "001", "Account"),
        ("ConvertedContactId", "003", "Contact"),
        ("ConvertedOpportunityId", "006", "Opportunity"),
    ):
        gen.add(field, _converted_ref(data, target, count_key, converted))
    gen.add("IsUnreadByOwner", common.bools("unread", 20))
    gen.add("CompanyDunsNumber", Const("string", None))
    gen.add("Product_Interest__c", common.multipicklist_pool(f"{seed}/product", INTERESTS, 35))
    return gen


def _converted_ref(data: OrgData, prefix: str, count_key: str, converted):
    n = data.counts.get(count_key, 0)

    def parent(ch):
        return [
            (i * 31 + 7) % n if conv and n else None
            for i, conv in zip(ch.idxs, converted(ch), strict=True)
        ]

    return RefColumn(data.codec(prefix), parent)


__all__ = ["CLEAN_STATUS", "account", "contact", "lead"]
