"""`--person-accounts`: an org with Person Accounts turned on.

A person account is one record seen two ways: an Account row with `IsPersonAccount = true`, the
person's name in FirstName / LastName / Salutation (Name is "First Last"), their contact details
in `Person*` fields (`PersonEmail`, `PersonMailingAddress`, …) and the Contact's custom fields as
`__pc`; and a Contact row with `IsPersonAccount = true` whose AccountId is that account and whose
Id is the account's `PersonContactId`. Field list as in the recorded describe of a Person Account
org (`describe-Account-PersonAccount.json` in the shared fixtures).
Reference: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_account.htm

Here every fourth generated account (index % 4 == 3) is a person account, and its Contact row is
the generated contact at the proportional position (`i * contacts // accounts`), which needs at
least as many contacts as accounts. The Account's person fields are read from that Contact row,
so both sides always agree. As on the platform, a person account's contact is changed through
the Account (the Contact row refuses direct updates and deletes) and business contacts never
belong to a person account. Unlike the platform, the two rows keep their own CreatedDate (each
object's time model is monotonic in its index; the difference is under a step of either).
"""

from __future__ import annotations

from dataclasses import replace

from emulator.data.base import RefColumn
from emulator.data.columns import Func, Pool, with_nulls
from emulator.schema.fields import FieldDef

EVERY = 4
PERSON_REMAINDER = EVERY - 1
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me")
NAME_PARTS = ("LastName", "FirstName", "Salutation")
# Contact field -> Account field (besides Mailing*/Other* -> PersonMailing*/PersonOther*,
# and custom X__c -> X__pc).
PERSON_FIELDS = (
    "MobilePhone",
    "HomePhone",
    "OtherPhone",
    "AssistantPhone",
    "Email",
    "Title",
    "Department",
    "AssistantName",
    "LeadSource",
    "Birthdate",
    "HasOptedOutOfEmail",
    "HasOptedOutOfFax",
    "DoNotCall",
    "LastCURequestDate",
    "LastCUUpdateDate",
    "EmailBouncedReason",
    "EmailBouncedDate",
    "IndividualId",
    "Pronouns",
    "GenderIdentity",
)
# Account fields a person account shares with its contact (the contact's value shows on both).
SHARED = ("Phone", "Fax")
PRONOUNS = ("He/Him", "She/Her", "They/Them", "He/They", "She/They", "Not Listed")
GENDERS = ("Male", "Female", "Nonbinary", "Not Listed")


class PersonMap:
    """Which generated accounts are person accounts, and their Contact rows."""

    def __init__(self, accounts: int, contacts: int):
        if contacts < accounts:
            raise ValueError(
                f"--person-accounts needs at least as many contacts ({contacts}) as accounts "
                f"({accounts})"
            )
        self.accounts = accounts
        self.contacts = contacts

    def is_person(self, account: int) -> bool:
        return account % EVERY == PERSON_REMAINDER and 0 <= account < self.accounts

    def contact_of(self, account: int) -> int:
        return account * self.contacts // self.accounts

    def account_of(self, contact: int) -> int | None:
        """The person account whose Contact row this is, or None for a business contact."""
        if not 0 <= contact < self.contacts:
            return None
        account = -(-contact * self.accounts // self.contacts)
        if account < self.accounts and self.contact_of(account) == contact:
            return account if self.is_person(account) else None
        return None

    def business(self, account: int | None) -> int | None:
        """A business account for a business contact (or child account) that drew a person."""
        if account is None or not self.is_person(account):
            return account
        return account - 1


def account_field_name(contact_field: str) -> str | None:
    """The Account field that mirrors a Contact field on person accounts (None if none)."""
    if contact_field in NAME_PARTS or contact_field in SHARED:
        return contact_field
    for prefix in ("Mailing", "Other"):
        if contact_field.startswith(prefix):
            return "Person" + contact_field
    if contact_field in PERSON_FIELDS:
        return "Person" + contact_field
    if contact_field.endswith("__c"):
        return contact_field[: -len("__c")] + "__pc"
    return None


def account_fields(contact_fields: list[FieldDef]) -> list[FieldDef]:
    """The fields Person Accounts add to Account, made from the Contact's definitions."""
    out = [
        FieldDef(
            "PersonContactId",
            "reference",
            "Person Contact ID",
            ref="Contact",
            rel="PersonContact",
            createable=False,
            updateable=False,
        ),
        FieldDef(
            "IsPersonAccount",
            "boolean",
            "Is Person Account",
            createable=False,
            updateable=False,
            overrides={"defaultedOnCreate": True},
        ),
    ]
    for f in contact_fields:
        name = account_field_name(f.name)
        if name is None or name in SHARED:
            continue
        compound = "Person" + f.compound if f.compound and f.compound != "Name" else f.compound
        overrides = dict(f.overrides)
        if f.name in NAME_PARTS:
            overrides["extraTypeInfo"] = "switchablepersonname"
            overrides["nillable"] = True
        if f.type == "address":
            name = "Person" + f.name
        rel = f.rel
        if rel:
            rel = rel[: -len("__r")] + "__pr" if rel.endswith("__r") else "Person" + rel
        out.append(replace(f, name=name, compound=compound, rel=rel, overrides=overrides))
    # Person-only picklists (no Contact field of ours behind them).
    out.append(FieldDef("PersonPronouns", "picklist", "Pronouns", values=PRONOUNS))
    out.append(FieldDef("PersonGenderIdentity", "picklist", "Gender Identity", values=GENDERS))
    return out


def contact_fields() -> list[FieldDef]:
    return [
        FieldDef(
            "IsPersonAccount",
            "boolean",
            "Is Person Account",
            createable=False,
            updateable=False,
            overrides={"defaultedOnCreate": True},
        )
    ]


def wire(data, account_gen, contact_gen, contact_defs: list[FieldDef]) -> PersonMap:
    """Value columns: the Account's person fields from the Contact rows, and the Contact's
    IsPersonAccount, AccountId and personal email addresses."""
    people = PersonMap(account_gen.count, contact_gen.count)
    contact_codec = contact_gen.codec

    def person_rows(ch):
        """(positions of person accounts in the chunk, their Contact rows as a chunk)."""

        def build(c):
            positions = [p for p, i in enumerate(c.idxs) if people.is_person(i)]
            rows = contact_gen.chunk([people.contact_of(c.idxs[p]) for p in positions])
            return positions, rows

        return ch.shared("person_rows", build)

    def from_contact(name: str, ftype: str, inner=None):
        business = False if ftype == "boolean" else None

        def values(ch):
            out = list(inner.typed(ch)) if inner is not None else [business] * ch.n
            positions, rows = person_rows(ch)
            if positions:
                for p, v in zip(positions, rows.typed(name), strict=True):
                    out[p] = v
            return out

        return Func(ftype, values, plain=False)

    account_gen.add(
        "IsPersonAccount", Func("boolean", lambda ch: [people.is_person(i) for i in ch.idxs])
    )
    account_gen.add(
        "PersonContactId",
        RefColumn(
            contact_codec,
            lambda ch: [people.contact_of(i) if people.is_person(i) else None for i in ch.idxs],
        ),
    )
    for f in contact_defs:
        name = account_field_name(f.name)
        if name is None or f.is_compound or f.name not in contact_gen.columns:
            continue
        inner = account_gen.columns.get(name) if name in SHARED else None
        account_gen.add(name, from_contact(f.name, f.type, inner))
    account_gen.add("Name", from_contact("Name", "string", account_gen.columns["Name"]))
    for name, values, key in (
        ("PersonPronouns", PRONOUNS, "pronouns"),
        ("PersonGenderIdentity", GENDERS, "gender"),
    ):
        pool = Pool("picklist", key, with_nulls(values, 80))
        account_gen.add(
            name,
            Func(
                "picklist",
                lambda ch, pool=pool: [
                    v if people.is_person(i) else None
                    for i, v in zip(ch.idxs, pool.typed(ch), strict=True)
                ],
            ),
        )
    website = account_gen.columns["Website"]
    account_gen.add(
        "Website",
        Func(
            "url",
            lambda ch: [
                None if people.is_person(i) else w
                for i, w in zip(ch.idxs, website.typed(ch), strict=True)
            ],
        ),
    )
    parent = account_gen.columns["ParentId"]
    account_gen.add(
        "ParentId",
        RefColumn(
            parent.codec,
            lambda ch: [
                None if people.is_person(i) or (p is not None and people.is_person(p)) else p
                for i, p in zip(ch.idxs, parent.parent_index(ch), strict=True)
            ],
        ),
    )
    _wire_contact(contact_gen, people)
    return people


def _wire_contact(contact_gen, people: PersonMap) -> None:
    contact_gen.add(
        "IsPersonAccount",
        Func("boolean", lambda ch: [people.account_of(j) is not None for j in ch.idxs]),
    )
    account = contact_gen.columns["AccountId"]

    def account_index(ch):
        out = []
        for j, a in zip(ch.idxs, account.parent_index(ch), strict=True):
            own = people.account_of(j)
            out.append(own if own is not None else people.business(a))
        return out

    contact_gen.add("AccountId", RefColumn(account.codec, account_index))
    email = contact_gen.columns["Email"]

    def emails(ch):
        out = list(email.typed(ch))
        for p, j in enumerate(ch.idxs):
            if out[p] and people.account_of(j) is not None:
                domain = PERSONAL_DOMAINS[j % len(PERSONAL_DOMAINS)]
                out[p] = out[p].split("@", 1)[0] + "@" + domain
        return out

    contact_gen.add("Email", Func("email", lambda ch: ch.shared("person_email", emails)))
