"""Fields Salesforce computes from other fields: formulas, person Name, stage facts.

When a record is changed through the control API, these are recomputed from the merged values,
as the platform would (formula fields evaluate on read; Name and the stage-driven fields are
maintained on save).
"""

from __future__ import annotations

from emulator.data.gen_sales import STAGE_FACTS, email_domain, tier, weighted_amount


def _person_name(rec: dict):
    first = rec.get("FirstName")
    last = rec.get("LastName")
    return " ".join(p for p in (first, last) if p) or None


def _stage(index: int):
    def fn(rec: dict):
        facts = STAGE_FACTS.get(rec.get("StageName"))
        return None if facts is None else facts[index]

    return fn


# object → field → (fields it depends on, function of the merged record)
DERIVED: dict[str, dict[str, tuple[tuple[str, ...], object]]] = {
    "Account": {"Account_Tier__c": (("AnnualRevenue",), lambda r: tier(r.get("AnnualRevenue")))},
    "Contact": {
        "Name": (("FirstName", "LastName"), _person_name),
        "Email_Domain__c": (("Email",), lambda r: email_domain(r.get("Email"))),
    },
    "Lead": {
        "Name": (("FirstName", "LastName"), _person_name),
        "IsConverted": (("Status",), lambda r: r.get("Status") == "Closed - Converted"),
    },
    "User": {"Name": (("FirstName", "LastName"), _person_name)},
    "Opportunity": {
        "Probability": (("StageName",), _stage(0)),
        "ForecastCategory": (("StageName",), _stage(1)),
        "ForecastCategoryName": (("StageName",), _stage(2)),
        "IsClosed": (("StageName",), _stage(3)),
        "IsWon": (("StageName",), _stage(4)),
        "ExpectedRevenue": (
            ("Amount", "Probability", "StageName"),
            lambda r: weighted_amount(r.get("Amount"), r.get("Probability")),
        ),
        "Weighted_Amount__c": (
            ("Amount", "Probability", "StageName"),
            lambda r: weighted_amount(r.get("Amount"), r.get("Probability")),
        ),
    },
}


def recompute(sobject: str, merged: dict, changed: set[str], explicit: set[str]) -> dict:
    """Derived values to store after `changed` fields changed (explicitly given ones win)."""
    out = {}
    for name, (deps, fn) in DERIVED.get(sobject, {}).items():
        if name in explicit:
            continue
        if changed.intersection(deps):
            merged[name] = out[name] = fn(merged)
    return out


def dependencies(sobject: str) -> set[str]:
    """Every field some derived field of sobject reads."""
    deps: set[str] = set()
    for needed, _ in DERIVED.get(sobject, {}).values():
        deps.update(needed)
    return deps
