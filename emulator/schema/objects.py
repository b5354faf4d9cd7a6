"""sObject definitions: the object-level describe facts and shared field groups."""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator.schema.fields import FieldDef

GEOCODE_ACCURACY = (
    "Address",
    "NearAddress",
    "Block",
    "Street",
    "ExtendedZip",
    "Zip",
    "Neighborhood",
    "City",
    "County",
    "State",
    "Unknown",
)
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx.")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
CLEAN_STATUS = (
    "Matched",
    "Different",
    "Acknowledged",
    "NotFound",
    "Inactive",
    "Pending",
    "SelectMatch",
    "Skipped",
)
INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)
RATINGS = ("Hot", "Warm", "Cold")


@dataclass
class ObjectDef:
    """One sObject: its describe facts, its fields, and what Bulk API 2.0 makes of it."""

    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: list[FieldDef]
    queryable: bool = True
    bulk_supported: bool = True
    undeletable: bool = True
    mergeable: bool = False
    feed_enabled: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    layoutable: bool = True
    searchable: bool = True
    triggerable: bool = True
    replicateable: bool = True
    deep_cloneable: bool = False
    scopes: tuple[tuple[str, str], ...] = ()
    has_recycle_bin: bool = True
    # Where the recorded global describe differs from the defaults: the `urls` keys listed,
    # mruEnabled (default: layoutable) and retrieveable (default: queryable).
    url_keys: tuple[str, ...] | None = None
    mru_enabled: bool | None = None
    retrieveable: bool | None = None
    extra: dict = field(default_factory=dict)

    def field(self, name: str) -> FieldDef | None:
        """The field called name (case-insensitive), or None."""
        return self.by_lower().get(name.lower())

    def by_lower(self) -> dict[str, FieldDef]:
        cache = self.__dict__.get("_by_lower")
        if cache is None or len(cache) != len(self.fields):
            cache = {f.name.lower(): f for f in self.fields}
            self.__dict__["_by_lower"] = cache
        return cache

    def relationship(self, rel_name: str) -> FieldDef | None:
        """The reference field whose relationship name is rel_name (case-insensitive)."""
        low = rel_name.lower()
        for f in self.fields:
            if f.type == "reference" and f.rel and f.rel.lower() == low:
                return f
        return None

    def invalidate(self) -> None:
        self.__dict__.pop("_by_lower", None)


def system_fields(*, user_ref: str = "User") -> list[FieldDef]:
    """CreatedDate … SystemModstamp, as every standard object has them."""
    return [
        FieldDef("CreatedDate", "datetime", "Created Date"),
        FieldDef("CreatedById", "reference", "Created By ID", ref=user_ref, rel="CreatedBy"),
        FieldDef("LastModifiedDate", "datetime", "Last Modified Date"),
        FieldDef(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            ref=user_ref,
            rel="LastModifiedBy",
        ),
        FieldDef("SystemModstamp", "datetime", "System Modstamp"),
    ]


def address_fields(prefix: str, label: str) -> list[FieldDef]:
    """The components of a compound address field and the compound itself, in describe order."""
    compound = f"{prefix}Address"
    lab = f"{label} " if label else ""
    return [
        FieldDef(f"{prefix}Street", "textarea", f"{lab}Street", length=255, compound=compound),
        FieldDef(f"{prefix}City", "string", f"{lab}City", length=40, compound=compound),
        FieldDef(f"{prefix}State", "string", f"{lab}State/Province", length=80, compound=compound),
        FieldDef(
            f"{prefix}PostalCode", "string", f"{lab}Zip/Postal Code", length=20, compound=compound
        ),
        FieldDef(f"{prefix}Country", "string", f"{lab}Country", length=80, compound=compound),
        FieldDef(f"{prefix}Latitude", "double", f"{lab}Latitude", scale=15, compound=compound),
        FieldDef(f"{prefix}Longitude", "double", f"{lab}Longitude", scale=15, compound=compound),
        FieldDef(
            f"{prefix}GeocodeAccuracy",
            "picklist",
            f"{lab}Geocode Accuracy",
            length=40,
            values=GEOCODE_ACCURACY,
            compound=compound,
        ),
        FieldDef(compound, "address", f"{lab}Address".strip()),
    ]


def person_name_fields() -> list[FieldDef]:
    """LastName, FirstName, Salutation (components of Name) and the read-only Name."""
    personname = {"extraTypeInfo": "personname"}
    return [
        FieldDef(
            "LastName",
            "string",
            "Last Name",
            length=80,
            compound="Name",
            nillable=False,
            overrides=personname,
        ),
        FieldDef(
            "FirstName", "string", "First Name", length=40, compound="Name", overrides=personname
        ),
        FieldDef(
            "Salutation",
            "picklist",
            "Salutation",
            length=40,
            values=SALUTATIONS,
            compound="Name",
            overrides=personname,
        ),
        FieldDef(
            "Name",
            "string",
            "Full Name",
            length=121,
            nillable=False,
            createable=False,
            updateable=False,
            overrides={"extraTypeInfo": "personname", "nameField": True},
        ),
    ]


def activity_fields() -> list[FieldDef]:
    return [
        FieldDef("LastActivityDate", "date", "Last Activity"),
        FieldDef("LastViewedDate", "datetime", "Last Viewed Date"),
        FieldDef("LastReferencedDate", "datetime", "Last Referenced Date"),
    ]


def deleted_and_id(label: str) -> list[FieldDef]:
    return [FieldDef("Id", "id", f"{label} ID"), FieldDef("IsDeleted", "boolean", "Deleted")]
