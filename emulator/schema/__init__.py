"""The emulated org's schema: sObjects, their fields, and the describe bodies built from them."""

from __future__ import annotations

from emulator.schema import catalog_more, catalog_sales
from emulator.schema.fields import FieldDef, describe_field
from emulator.schema.objects import ObjectDef

DATA_OBJECTS = (
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Campaign",
    "CampaignMember",
    "User",
    "Document",
)


def build_catalog() -> dict[str, ObjectDef]:
    """A fresh set of object definitions (each Org owns its copy, since schema can change)."""
    objects = [
        catalog_sales.account(),
        catalog_more.campaign(),
        catalog_more.campaign_member(),
        catalog_sales.contact(),
        catalog_more.document(),
        catalog_sales.lead(),
        catalog_sales.opportunity(),
        catalog_more.organization(),
        catalog_more.user(),
        catalog_more.user_permission_access(),
        catalog_more.account_feed(),
        catalog_more.activity_history(),
    ]
    return {o.name: o for o in objects}


__all__ = ["DATA_OBJECTS", "FieldDef", "ObjectDef", "build_catalog", "describe_field"]
