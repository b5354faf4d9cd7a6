"""Org sizes. `seed-example` is the mix of the product documents; `demo` a tenth of it;
`enterprise` 12.5 times it (10,000,000 records), the size whose first sync runs for days."""

from __future__ import annotations

PROFILES: dict[str, dict[str, int]] = {
    "tiny": {
        "Account": 60,
        "Contact": 150,
        "Lead": 120,
        "Opportunity": 40,
        "Campaign": 8,
        "CampaignMember": 30,
        "User": 14,
        "Document": 10,
        "AccountFeed": 10,
    },
    "demo": {
        "Account": 10_000,
        "Contact": 30_000,
        "Lead": 30_000,
        "Opportunity": 5_000,
        "Campaign": 1_000,
        "CampaignMember": 4_000,
        "User": 40,
        "Document": 200,
        "AccountFeed": 500,
    },
    "seed-example": {
        "Account": 100_000,
        "Contact": 300_000,
        "Lead": 300_000,
        "Opportunity": 50_000,
        "Campaign": 10_000,
        "CampaignMember": 40_000,
        "User": 120,
        "Document": 1_000,
        "AccountFeed": 5_000,
    },
    "enterprise": {
        "Account": 1_250_000,
        "Contact": 3_750_000,
        "Lead": 3_750_000,
        "Opportunity": 625_000,
        "Campaign": 125_000,
        "CampaignMember": 500_000,
        # Owners are drawn from pools as long as the user list; 500 keeps start-up memory flat.
        "User": 500,
        "Document": 12_500,
        "AccountFeed": 62_500,
    },
}


def profile_counts(name: str) -> dict[str, int]:
    """Record counts of a profile (KeyError with the known names when unknown)."""
    try:
        return dict(PROFILES[name])
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}") from None
