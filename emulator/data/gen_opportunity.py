"""The Opportunity generator: stages with their facts, amounts, close dates, fiscal periods."""

from __future__ import annotations

import random

from emulator.clock import FORMATS
from emulator.data import common, vocab
from emulator.data.base import DAY, ObjectGen, OrgData, RefColumn
from emulator.data.columns import Const, Func, Pool, TupleGroup, with_nulls
from emulator.data.gen_sales import STAGE_FACTS, _system, weighted_amount
from emulator.schema.catalog_sales import COMPETITORS, OPP_TYPES
from emulator.schema.objects import LEAD_SOURCES


def opportunity(data: OrgData) -> ObjectGen:
    gen = ObjectGen(data, "Opportunity", "006", data.counts["Opportunity"], data.child_span())
    _system(gen, data)
    seed = data.seed

    def account_idx(ch):
        return ch.shared("account", lambda c: gen.parent_proportional(c, "Account", 30))

    gen.add("AccountId", RefColumn(data.codec("001"), account_idx))
    gen.add("IsPrivate", Const("boolean", False))
    gen.add(
        "Name",
        Func(
            "string",
            lambda ch: [
                (common.company(a)[0] if a is not None else "New Business")
                + " - "
                + vocab.OPP_PRODUCTS[p]
                for a, p in zip(
                    account_idx(ch), ch.r("product", len(vocab.OPP_PRODUCTS)), strict=True
                )
            ],
        ),
    )
    gen.add("Description", Pool("textarea", "description", vocab.DESCRIPTIONS))
    stages = TupleGroup(
        "stage",
        [(stage, *facts[:5]) for stage, facts in STAGE_FACTS.items() for _ in range(facts[5])],
    )
    gen.add("StageName", stages.column("picklist", 0))
    gen.add("Probability", stages.column("percent", 1))
    gen.add("ForecastCategory", stages.column("picklist", 2))
    gen.add("ForecastCategoryName", stages.column("picklist", 3))
    gen.add("IsClosed", stages.column("boolean", 4))
    gen.add("IsWon", stages.column("boolean", 5))
    gen.add("Amount", common.money_pool("amount", 2_000, 2_000_000, 500, 4))
    gen.add(
        "ExpectedRevenue",
        Func(
            "currency",
            lambda ch: [
                weighted_amount(a, p)
                for a, p in zip(ch.typed("Amount"), ch.typed("Probability"), strict=True)
            ],
        ),
    )
    rng = random.Random(f"{seed}/qty")
    gen.add(
        "TotalOpportunityQuantity",
        Pool("double", "qty", with_nulls([float(rng.randrange(1, 500)) for _ in range(499)], 60)),
    )

    def close_days(ch):
        return ch.shared(
            "close",
            lambda c: [
                cd // DAY + 14 + r
                for cd, r in zip(c.typed("CreatedDate"), c.r("close", 200), strict=True)
            ],
        )

    gen.add("CloseDate", Func("date", lambda ch: [FORMATS.day(d) for d in close_days(ch)]))
    gen.add("Type", Pool("picklist", "type", with_nulls(OPP_TYPES, 10)))
    gen.add("NextStep", Pool("string", "next", vocab.NEXT_STEPS))
    gen.add("LeadSource", Pool("picklist", "source", with_nulls(LEAD_SOURCES, 20)))
    gen.add(
        "CampaignId",
        RefColumn(
            data.codec("701"),
            lambda ch: [
                None if r >= 20 else p
                for p, r in zip(
                    gen.parent_proportional(ch, "Campaign", 5), ch.r("campaign", 100), strict=True
                )
            ],
        ),
    )
    gen.add("HasOpportunityLineItem", Const("boolean", False))
    gen.add("LastStageChangeDate", Func("datetime", lambda ch: ch.typed("SystemModstamp")))

    def fiscal(ch):
        return ch.shared("fiscal", lambda c: [FORMATS.day(d) for d in close_days(c)])

    gen.add("FiscalYear", Func("int", lambda ch: [int(d[:4]) for d in fiscal(ch)]))
    gen.add(
        "FiscalQuarter", Func("int", lambda ch: [(int(d[5:7]) - 1) // 3 + 1 for d in fiscal(ch)])
    )
    gen.add(
        "Fiscal",
        Func("string", lambda ch: [f"{d[:4]} {(int(d[5:7]) - 1) // 3 + 1}" for d in fiscal(ch)]),
    )
    gen.add("ContactId", Const("reference", None))
    gen.add(
        "Discount_Percent__c",
        Pool("percent", "discount", with_nulls([0.0, 5.0, 10.0, 12.5, 15.0, 20.0], 50)),
    )
    gen.add("Competitor__c", Pool("picklist", "competitor", with_nulls(COMPETITORS, 50)))
    gen.add(
        "Weighted_Amount__c",
        Func(
            "currency",
            lambda ch: [
                weighted_amount(a, p)
                for a, p in zip(ch.typed("Amount"), ch.typed("Probability"), strict=True)
            ],
        ),
    )
    return gen
