"""Generators for Campaign, CampaignMember, User, Document, Organization and AccountFeed."""

from __future__ import annotations

import hashlib

from emulator.clock import FORMATS
from emulator.data import common, vocab
from emulator.data.base import DAY, ObjectGen, OrgData, RefColumn, user_ref_pool
from emulator.data.columns import Const, Func, Pool, weighted, with_nulls
from emulator.data.gen_sales import CREATOR_WEIGHTS, OWNER_WEIGHTS
from emulator.schema.catalog_more import CAMPAIGN_STATUS, CAMPAIGN_TYPES
from emulator.users import FIRST_REP_INDEX, USERS

MEMBER_PERSON_STRIDE = 4  # campaign members point only at every 4th lead/contact


def _system(gen: ObjectGen, data: OrgData, owner: bool = True) -> None:
    gen.add("IsDeleted", Const("boolean", False))
    if owner:
        gen.add("OwnerId", user_ref_pool(data, "owner", OWNER_WEIGHTS))
    gen.add("CreatedById", user_ref_pool(data, "creator", CREATOR_WEIGHTS))
    gen.add("LastModifiedById", user_ref_pool(data, "modifier", CREATOR_WEIGHTS))


def campaign(data: OrgData) -> ObjectGen:
    gen = ObjectGen(
        data, "Campaign", "701", data.counts["Campaign"], (data.data_start, data.data_end)
    )
    _system(gen, data)
    gen.add(
        "Name",
        Func(
            "string",
            lambda ch: [
                f"{FORMATS.day(c // DAY)[:4]} {vocab.CAMPAIGN_THEMES[t]} #{i % 97 + 1}"
                for i, c, t in zip(
                    ch.idxs,
                    ch.typed("CreatedDate"),
                    ch.r("theme", len(vocab.CAMPAIGN_THEMES)),
                    strict=True,
                )
            ],
        ),
    )
    gen.add(
        "ParentId",
        RefColumn(
            gen.codec,
            lambda ch: [
                i - 1 - r % min(i, 20) if r < 10 and i > 0 else None
                for i, r in zip(ch.idxs, ch.r("parent", 100), strict=True)
            ],
        ),
    )
    gen.add("Type", Pool("picklist", "type", CAMPAIGN_TYPES))
    gen.add(
        "Status",
        Pool("picklist", "status", weighted(*zip(CAMPAIGN_STATUS, (10, 20, 65, 5), strict=True))),
    )

    def start_days(ch):
        return ch.shared(
            "start",
            lambda c: [
                x // DAY + r for x, r in zip(c.typed("CreatedDate"), c.r("start", 30), strict=True)
            ],
        )

    gen.add("StartDate", Func("date", lambda ch: [FORMATS.day(d) for d in start_days(ch)]))
    gen.add(
        "EndDate",
        Func(
            "date",
            lambda ch: [
                FORMATS.day(d + 1 + r) for d, r in zip(start_days(ch), ch.r("len", 90), strict=True)
            ],
        ),
    )
    gen.add("ExpectedRevenue", common.money_pool("expected", 5_000, 5_000_000, 1_000, 30))
    gen.add("BudgetedCost", common.money_pool("budget", 500, 500_000, 100, 20))
    gen.add("ActualCost", common.money_pool("actual", 500, 500_000, 100, 40))
    gen.add(
        "ExpectedResponse", Pool("percent", "response", with_nulls([1.0, 2.5, 5.0, 10.0, 15.0], 40))
    )
    gen.add(
        "NumberSent",
        Pool("double", "sent", with_nulls([float(n) for n in range(100, 50000, 137)], 50)),
    )
    gen.add("IsActive", common.bools("active", 30))
    gen.add("Description", Pool("textarea", "description", vocab.DESCRIPTIONS))
    for name, hi in (
        ("NumberOfLeads", 400),
        ("NumberOfConvertedLeads", 40),
        ("NumberOfContacts", 300),
        ("NumberOfResponses", 120),
        ("NumberOfOpportunities", 20),
        ("NumberOfWonOpportunities", 8),
    ):
        gen.add(name, Func("int", lambda ch, k=name, h=hi: list(ch.r(k, h))))
    gen.add("AmountAllOpportunities", common.money_pool("amount_all", 1_000, 3_000_000, 500, 0))
    gen.add("AmountWonOpportunities", common.money_pool("amount_won", 1_000, 1_000_000, 500, 0))
    gen.add("LastActivityDate", Func("date", common.last_activity))
    gen.add("LastViewedDate", Const("datetime", None))
    gen.add("LastReferencedDate", Const("datetime", None))
    return gen


def campaign_member(data: OrgData) -> ObjectGen:
    """Members: consecutive indexes share a campaign; each (campaign, person) pair is unique,
    and members only point at every 4th lead/contact so those are never randomly deleted."""
    gen = ObjectGen(
        data,
        "CampaignMember",
        "00v",
        data.counts["CampaignMember"],
        data.child_span(),
    )
    _system(gen, data, owner=False)
    n_members = max(1, gen.count)
    n_campaigns = data.counts.get("Campaign", 0)
    n_leads = data.counts.get("Lead", 0) // MEMBER_PERSON_STRIDE
    n_contacts = data.counts.get("Contact", 0) // MEMBER_PERSON_STRIDE

    def people(ch):
        def build(c):
            out = []
            for i in c.idxs:
                is_lead = i % 2 == 0
                pool = n_leads if is_lead else n_contacts
                if pool == 0:
                    out.append((is_lead, None))
                    continue
                k = ((i // 2) * 7919 + 101) % pool
                out.append((is_lead, k * MEMBER_PERSON_STRIDE))
            return out

        return ch.shared("people", build)

    gen.add(
        "CampaignId",
        RefColumn(
            data.codec("701"),
            lambda ch: [
                max(0, (i * n_campaigns) // n_members - 1) if n_campaigns else None for i in ch.idxs
            ],
        ),
    )
    gen.add(
        "LeadId",
        RefColumn(data.codec("00Q"), lambda ch: [p if lead else None for lead, p in people(ch)]),
    )
    gen.add(
        "ContactId",
        RefColumn(data.codec("003"), lambda ch: [None if lead else p for lead, p in people(ch)]),
    )
    gen.add("Status", Pool("picklist", "status", weighted(("Sent", 70), ("Responded", 30))))
    gen.add(
        "HasResponded", Func("boolean", lambda ch: [s == "Responded" for s in ch.typed("Status")])
    )
    gen.add(
        "FirstRespondedDate",
        Func(
            "date",
            lambda ch: [
                FORMATS.day(m // DAY) if s == "Responded" else None
                for m, s in zip(ch.typed("SystemModstamp"), ch.typed("Status"), strict=True)
            ],
        ),
    )

    def person_values(ch, field):
        def build(c):
            ppl = people(c)
            out: list = [None] * c.n
            for obj, want_lead in (("Lead", True), ("Contact", False)):
                pos = [p for p, (lead, k) in enumerate(ppl) if lead == want_lead and k is not None]
                if not pos or obj not in data.gens:
                    continue
                pch = data.gens[obj].chunk([ppl[p][1] for p in pos])
                names = (
                    "FirstName",
                    "LastName",
                    "Salutation",
                    "Name",
                    "Title",
                    "Email",
                    "Id",
                    "OwnerId",
                )
                cols = {n: pch.typed(n) for n in names}
                cols["Company"] = (
                    pch.typed("Company") if obj == "Lead" else _account_names(data, pch)
                )
                cols["LeadSource"] = pch.typed("LeadSource")
                for j, p in enumerate(pos):
                    out[p] = {n: v[j] for n, v in cols.items()}
            return out

        rows = ch.shared("person_values", build)
        return [None if r is None else r[field] for r in rows]

    for name, source in (
        ("Salutation", "Salutation"),
        ("Name", "Name"),
        ("FirstName", "FirstName"),
        ("LastName", "LastName"),
        ("Title", "Title"),
        ("Email", "Email"),
        ("CompanyOrAccount", "Company"),
        ("LeadOrContactId", "Id"),
        ("LeadSource", "LeadSource"),
    ):
        ftype = (
            "reference" if name == "LeadOrContactId" else ("email" if name == "Email" else "string")
        )
        gen.add(name, Func(ftype, lambda ch, s=source: person_values(ch, s)))
    gen.add(
        "Type", Func("string", lambda ch: ["Lead" if lead else "Contact" for lead, _ in people(ch)])
    )
    return gen


def _account_names(data: OrgData, contact_chunk) -> list:
    acc = data.codec("001")
    return [
        None if a is None else common.company(acc.decode(a))[0]
        for a in contact_chunk.typed("AccountId")
    ]


def user(data: OrgData) -> ObjectGen:
    n = max(data.counts.get("User", 0), len(USERS) + 1)
    gen = ObjectGen(data, "User", "005", n, (data.data_start - 60 * DAY, data.data_start))
    seed = data.seed
    common.name_columns(gen)
    gen.add(
        "Username",
        Func(
            "string", lambda ch: [f"{e.split('@')[0]}@sales.example.com" for e in _rep_emails(ch)]
        ),
    )
    gen.add("Email", Func("email", _rep_emails))
    gen.add("CompanyName", Const("string", "Emulated Org Inc."))
    gen.add("Division", Const("string", None))
    gen.add(
        "Department", Pool("string", "dept", ("Sales", "Sales", "Marketing", "Customer Success"))
    )
    gen.add(
        "Title",
        Pool("string", "title", ("Account Executive", "Sales Manager", "SDR", "Account Manager")),
    )
    common.add_address(gen, "", common.address_group(seed, "user", size=50, null_pct=20))
    gen.add("Phone", common.phone_pool(seed, "phone", 10))
    gen.add("MobilePhone", common.phone_pool(seed, "mobile", 50))
    gen.add(
        "Alias",
        Func(
            "string",
            lambda ch: [
                (f[0] + ln)[:8].lower()
                for f, ln in zip(ch.typed("FirstName"), ch.typed("LastName"), strict=True)
            ],
        ),
    )
    gen.add(
        "CommunityNickname",
        Func(
            "string",
            lambda ch: [
                f"{u.split('@')[0]}{i}" for i, u in zip(ch.idxs, ch.typed("Username"), strict=True)
            ],
        ),
    )
    gen.add("IsActive", Pool("boolean", "active", weighted((True, 9), (False, 1))))
    gen.add(
        "TimeZoneSidKey",
        Pool("picklist", "tz", ("America/Los_Angeles", "America/New_York", "Europe/London")),
    )
    gen.add("LocaleSidKey", Const("picklist", "en_US"))
    gen.add("EmailEncodingKey", Const("picklist", "UTF-8"))
    gen.add("LanguageLocaleKey", Const("picklist", "en_US"))
    gen.add("UserType", Const("picklist", "Standard"))
    gen.add("EmployeeNumber", Func("string", lambda ch: [f"E{1000 + i}" for i in ch.idxs]))
    gen.add(
        "ManagerId",
        RefColumn(
            gen.codec,
            lambda ch: [None if i <= FIRST_REP_INDEX else FIRST_REP_INDEX for i in ch.idxs],
        ),
    )
    gen.add(
        "LastLoginDate",
        Func("datetime", lambda ch: [data.data_end - r * 3600 for r in ch.r("login", 24 * 30)]),
    )
    admin = data.codec("005").encode(len(USERS) - 1)
    gen.add("CreatedById", Const("reference", admin))
    gen.add("LastModifiedById", Const("reference", admin))
    gen.add("UserPermissionsMarketingUser", common.bools("marketing", 30))
    for index, u in enumerate(data.users):
        gen.fixed[index] = {
            "FirstName": u.first_name,
            "LastName": u.last_name,
            "Name": u.name,
            "Username": u.username,
            "Email": u.username,
            "Alias": (u.first_name[0] + u.last_name)[:8].lower(),
            "CommunityNickname": u.username.split("@")[0],
            "IsActive": u.active,
            "Title": "Integration User" if index == 0 else "Administrator",
            "Department": "IT",
            "ManagerId": None,
        }
    return gen


def _rep_emails(ch) -> list[str]:
    return [
        f"{common.FIRST_SLUGS[a]}.{common.LAST_SLUGS[b]}{i}@example.com"
        for i, a, b in zip(
            ch.idxs,
            ch.r("first", len(vocab.FIRST_NAMES)),
            ch.r("last", len(vocab.LAST_NAMES)),
            strict=True,
        )
    ]


def blob_bytes(seed: int, index: int, size: int, kind: str) -> bytes:
    """Deterministic content of a generated Document body."""
    header = {
        "pdf": b"%PDF-1.4\n",
        "png": b"\x89PNG\r\n\x1a\n",
        "csv": b"id,name,amount\n",
        "txt": b"Notes\n",
        "docx": b"PK\x03\x04",
    }.get(kind, b"")
    out = bytearray(header)
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}/{index}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def document(data: OrgData) -> ObjectGen:
    gen = ObjectGen(
        data, "Document", "015", data.counts.get("Document", 0), (data.data_start, data.data_end)
    )
    _system(gen, data, owner=False)
    kinds = vocab.DOC_KINDS
    folder = data.codec("00l").encode(3)
    gen.add("FolderId", Const("reference", folder))
    gen.add(
        "Name",
        Func(
            "string",
            lambda ch: [
                f"{kinds[k][2]} {i + 1}.{kinds[k][0]}"
                for i, k in zip(ch.idxs, ch.r("kind", len(kinds)), strict=True)
            ],
        ),
    )
    gen.add(
        "DeveloperName",
        Func(
            "string",
            lambda ch: [
                f"{kinds[k][2].replace(' ', '_')}_{i + 1}"
                for i, k in zip(ch.idxs, ch.r("kind", len(kinds)), strict=True)
            ],
        ),
    )
    gen.add(
        "ContentType", Func("string", lambda ch: [kinds[k][1] for k in ch.r("kind", len(kinds))])
    )
    gen.add("Type", Func("string", lambda ch: [kinds[k][0] for k in ch.r("kind", len(kinds))]))
    gen.add("IsPublic", common.bools("public", 20))
    gen.add("BodyLength", Func("int", lambda ch: [200 + r * 37 for r in ch.r("size", 500)]))
    # The base64 Body's typed value is its length; REST shows the blob URL, GET serves bytes.
    gen.add("Body", Func("base64", lambda ch: ch.typed("BodyLength")))
    gen.add("Url", Const("url", None))
    gen.add("Description", Pool("textarea", "description", vocab.DESCRIPTIONS))
    gen.add(
        "Keywords",
        Pool("string", "keywords", with_nulls(("pricing", "contract", "brand", "q3"), 60)),
    )
    gen.add("IsInternalUseOnly", common.bools("internal", 10))
    gen.add("AuthorId", user_ref_pool(data, "author", CREATOR_WEIGHTS))
    gen.add(
        "IsBodySearchable",
        Func("boolean", lambda ch: [t in ("pdf", "txt", "docx", "csv") for t in ch.typed("Type")]),
    )
    gen.add("LastViewedDate", Const("datetime", None))
    gen.add("LastReferencedDate", Const("datetime", None))
    return gen


def document_blob(gen: ObjectGen, index: int) -> bytes:
    ch = gen.chunk([index])
    return blob_bytes(gen.data.seed, index, ch.typed("BodyLength")[0], ch.typed("Type")[0])


def organization(data: OrgData, org_name: str) -> ObjectGen:
    gen = ObjectGen(
        data, "Organization", "00D", 1, (data.data_start - 90 * DAY, data.data_start - 90 * DAY)
    )
    admin = data.codec("005").encode(len(USERS) - 1)
    values = {
        "Name": org_name,
        "Division": None,
        "Street": "415 Mission Street",
        "City": "San Francisco",
        "State": "CA",
        "PostalCode": "94105",
        "Country": "United States",
        "Latitude": 37.789,
        "Longitude": -122.397,
        "GeocodeAccuracy": "Address",
        "Phone": "(415) 555-0100",
        "PrimaryContact": "Ada Admin",
        "DefaultLocaleSidKey": "en_US",
        "TimeZoneSidKey": "America/Los_Angeles",
        "LanguageLocaleKey": "en_US",
        "IsSandbox": data.sandbox,
        "OrganizationType": "Enterprise Edition",
        "InstanceName": "EMU1" if not data.sandbox else "EMU1S",
        "NamespacePrefix": None,
        "TrialExpirationDate": None,
        "CreatedById": admin,
        "LastModifiedById": admin,
    }
    for name, value in values.items():
        ftype = {"Latitude": "double", "Longitude": "double", "IsSandbox": "boolean"}.get(
            name, "string"
        )
        if name.endswith("ById"):
            ftype = "reference"
        if name == "TrialExpirationDate":
            ftype = "datetime"
        gen.add(name, Const(ftype, value))
    return gen


def account_feed(data: OrgData) -> ObjectGen:
    gen = ObjectGen(
        data,
        "AccountFeed",
        "0D5",
        data.counts.get("AccountFeed", 0),
        data.child_span(),
    )
    gen.add("IsDeleted", Const("boolean", False))
    n_acc = max(1, data.counts.get("Account", 1))
    gen.add(
        "ParentId", RefColumn(data.codec("001"), lambda ch: [(i * 17) % n_acc for i in ch.idxs])
    )
    gen.add("Type", Pool("picklist", "type", ("TextPost", "TextPost", "LinkPost", "TrackedChange")))
    gen.add("CreatedById", user_ref_pool(data, "creator", OWNER_WEIGHTS))
    gen.add("CommentCount", Func("int", lambda ch: list(ch.r("comments", 5))))
    gen.add("LikeCount", Func("int", lambda ch: list(ch.r("likes", 9))))
    gen.add("Title", Const("string", None))
    gen.add(
        "Body",
        Pool("textarea", "body", ("Great call today.", "Sent the proposal.", "Renewal signed!")),
    )
    gen.add("LinkUrl", Const("url", None))
    return gen
