"""Data changes through the emulator's own API: record edits, realistic random churn, new fields.

Every change happens at the emulated now, bumps SystemModstamp and LastModifiedDate as
Salesforce would (except `set_field_value_without_modstamp`, which models formula fields), and
gets the next org-wide sequence number so earlier snapshots keep their view.
"""

from __future__ import annotations

import random

from emulator.data import common, vocab
from emulator.data.base import DAY, OrgData, RefColumn
from emulator.data.columns import Column, Func, Pool, with_nulls
from emulator.data.gen_more import MEMBER_PERSON_STRIDE
from emulator.data.store import RecordError
from emulator.schema.fields import FieldDef
from emulator.users import INTEGRATION_INDEX

COMPACT_EVERY = 5000
CHANGE_WEIGHTS = (
    ("Contact", 30),
    ("Lead", 30),
    ("Account", 14),
    ("Opportunity", 16),
    ("Campaign", 4),
    ("CampaignMember", 6),
)
UPDATE_FIELDS = {
    "Account": (
        "Phone",
        "Industry",
        "AnnualRevenue",
        "NumberOfEmployees",
        "Rating",
        "Type",
        "Description",
    ),
    "Contact": (
        "Title",
        "Phone",
        "MobilePhone",
        "Email",
        "Department",
        "LeadSource",
        "HasOptedOutOfEmail",
        "Lead_Score__c",
        "Interests__c",
    ),
    "Lead": (
        "Status",
        "Title",
        "Phone",
        "Email",
        "Rating",
        "Industry",
        "Lead_Score__c",
        "Product_Interest__c",
    ),
    "Opportunity": ("StageName", "Amount", "CloseDate", "NextStep", "Discount_Percent__c"),
    "Campaign": ("Status", "IsActive", "ActualCost", "NumberSent"),
    "CampaignMember": ("Status",),
}
ADDRESS_SETS = {"Account": "Billing", "Contact": "Mailing", "Lead": ""}
DELETABLE = {"Contact", "Lead", "Opportunity", "CampaignMember"}
CREATABLE = {"Contact", "Lead", "Opportunity", "Account", "Campaign"}


class ChangesMixin:
    """Org methods that change records (needs self.lock, stores, seq, clock, jobs)."""

    def _begin(self) -> tuple[int, int]:
        """Settle jobs (so completions snapshot before this change); next seq and now."""
        self.jobs.settle()
        self.seq += 1
        now = int(self.clock.time())
        self._last_change = max(getattr(self, "_last_change", 0), now)
        self._changes_since_compact += 1
        if self._changes_since_compact >= COMPACT_EVERY:
            self._changes_since_compact = 0
            keep = self.min_live_seq()
            for store in self.stores.values():
                store.compact(keep)
        return self.seq, self._last_change

    def _actor(self) -> str:
        return self.data.codec("005").encode(INTEGRATION_INDEX)

    def _index(self, sobject: str, sf_id: str) -> tuple:
        store = self.store(sobject)
        index = store.gen.codec.decode(sf_id)
        if index is None or index >= store.next_index:
            raise RecordError(f"invalid cross reference id: {sf_id}")
        return store, index

    def create(self, sobject: str, values: dict) -> str:
        """Create a record; returns its 18-character Id."""
        with self.lock:
            store = self.store(sobject)
            seq, now = self._begin()
            index = store.create(values, seq=seq, now=now, user_id=self._actor())
            return store.gen.codec.encode(index)

    def update(self, sobject: str, sf_id: str, values: dict) -> None:
        """Change fields of a live record (a person account's contact changes with it)."""
        with self.lock:
            store, index = self._index(sobject, sf_id)
            if not store.exists(index, include_deleted=False):
                raise RecordError(f"entity is deleted: {sf_id}")
            self._refuse_person_contact(store, index, "update")
            if self._is_person_account(store, index) and {"FirstName", "LastName"} & set(values):
                current = store.record(index, ["FirstName", "LastName"], self.seq)
                merged = {**current, **values}
                parts = (merged.get("FirstName"), merged.get("LastName"))
                values = {**values, "Name": " ".join(p for p in parts if p)}
            seq, now = self._begin()
            store.update(index, values, seq=seq, now=now, user_id=self._actor())
            self._mirror_to_person_contact(store, index, values, seq, now)

    def delete(self, sobject: str, sf_id: str) -> None:
        """Soft delete into the recycle bin (CampaignMember, which has none, is hard-deleted);
        a person account takes its contact with it."""
        self._set_deleted(sobject, sf_id, True)

    def undelete(self, sobject: str, sf_id: str) -> None:
        """Restore a soft-deleted record from the recycle bin."""
        self._set_deleted(sobject, sf_id, False)

    def _set_deleted(self, sobject: str, sf_id: str, deleted: bool) -> None:
        with self.lock:
            store, index = self._index(sobject, sf_id)
            self._refuse_person_contact(store, index, "delete" if deleted else "undelete")
            seq, now = self._begin()
            store.set_deleted(index, deleted, seq=seq, now=now, user_id=self._actor())
            if self._is_person_account(store, index):
                contact = self.stores["Contact"]
                j = self.people.contact_of(index)
                contact.set_deleted(j, deleted, seq=seq, now=now, user_id=self._actor())

    # ------------------------------------------------------------ person accounts
    def _is_person_account(self, store, index: int) -> bool:
        people = getattr(self, "people", None)
        return people is not None and store.obj.name == "Account" and people.is_person(index)

    def _is_person_contact(self, store, index: int) -> bool:
        people = getattr(self, "people", None)
        return (
            people is not None
            and store.obj.name == "Contact"
            and people.account_of(index) is not None
        )

    def _refuse_person_contact(self, store, index: int, action: str) -> None:
        # A person account's contact is edited through its Account (unverified wording).
        if self._is_person_contact(store, index):
            raise RecordError(
                f"cannot {action} the contact of a person account: {action} the Account instead"
            )

    def _mirror_to_person_contact(self, store, index: int, values: dict, seq: int, now) -> None:
        """A person account's change reaches its Contact row (same record on the platform)."""
        mirrored = self._person_contact_values(store, index, values)
        if mirrored:
            j = self.people.contact_of(index)
            self.stores["Contact"].update(j, mirrored, seq=seq, now=now, user_id=self._actor())

    def _person_contact_values(self, store, index: int, values: dict) -> dict:
        """The Contact fields behind a person account's changed person fields."""
        if not self._is_person_account(store, index):
            return {}
        from emulator.data.person_accounts import account_field_name

        contact = self.stores["Contact"]
        back = {account_field_name(f.name): f.name for f in contact.obj.fields}
        return {
            back[k]: v for k, v in values.items() if k in back and back[k] in contact.gen.columns
        }

    def purge(self, sobject: str, sf_id: str) -> None:
        """Hard delete (emptied from the recycle bin): invisible even to queryAll."""
        with self.lock:
            store, index = self._index(sobject, sf_id)
            seq, _ = self._begin()
            store.purge(index, seq=seq)

    def set_field_value_without_modstamp(self, sobject: str, sf_id: str, field: str, value) -> None:
        """Change a value without touching SystemModstamp (how formula fields change)."""
        with self.lock:
            store, index = self._index(sobject, sf_id)
            seq, _ = self._begin()
            store.update(index, {field: value}, seq=seq, now=None, user_id=None)

    # ------------------------------------------------------------ random churn
    def apply_random_changes(self, n: int, seed: int | None = None) -> dict:
        """n realistic changes (70% updates, 20% creates, 10% soft deletes) across objects;
        returns counts per object and kind. Accounts and Campaigns are never deleted, and
        leads/contacts that campaign members point at are kept, so relationships stay whole."""
        rng = random.Random(seed if seed is not None else f"{self.seed}/{self.seq}")
        objects = [o for o, _ in CHANGE_WEIGHTS if o in self.stores]
        weights = [w for o, w in CHANGE_WEIGHTS if o in self.stores]
        result: dict[str, dict[str, int]] = {}
        with self.lock:
            for _ in range(n):
                sobject = rng.choices(objects, weights)[0]
                roll = rng.random()
                kind = "update"
                if roll < 0.10 and sobject in DELETABLE:
                    kind = "delete"
                elif roll < 0.30 and sobject in CREATABLE:
                    kind = "create"
                done = getattr(self, f"_random_{kind}")(rng, sobject)
                if done:
                    slot = result.setdefault(sobject, {})
                    slot[kind] = slot.get(kind, 0) + 1
        return result

    def _pick_live(self, rng: random.Random, sobject: str, deletable: bool = False) -> int | None:
        store = self.stores[sobject]
        for _ in range(20):
            index = rng.randrange(store.next_index) if store.next_index else None
            if index is None:
                return None
            if deletable and sobject in ("Contact", "Lead") and index % MEMBER_PERSON_STRIDE == 0:
                continue
            if self._is_person_contact(store, index):
                continue  # changed through its person account, never directly
            if store.exists(index, include_deleted=False):
                return index
        return None

    def _template(self, rng: random.Random, sobject: str, names: list[str]) -> dict:
        store = self.stores[sobject]
        source = rng.randrange(max(1, store.generated))
        ch = store.gen.chunk([source])
        return {name: ch.typed(name)[0] for name in names}

    def _random_update(self, rng: random.Random, sobject: str) -> bool:
        index = self._pick_live(rng, sobject)
        if index is None:
            return False
        store = self.stores[sobject]
        choices = [f for f in UPDATE_FIELDS[sobject] if store.obj.field(f) is not None]
        names = rng.sample(choices, min(len(choices), rng.randint(1, 3)))
        prefix = ADDRESS_SETS.get(sobject)
        if prefix is not None and rng.random() < 0.15:
            names += [f"{prefix}{part}" for part, _ in common.ADDRESS_PARTS]
        values = self._template(rng, sobject, names)
        seq, now = self._begin()
        store.update(index, values, seq=seq, now=now, user_id=self._actor())
        self._mirror_to_person_contact(store, index, values, seq, now)
        return True

    def _random_create(self, rng: random.Random, sobject: str) -> bool:
        store = self.stores[sobject]
        names = [
            f.name
            for f in store.obj.fields
            if not f.is_compound
            and not f.calculated
            and f.name in store.gen.columns
            and (f.createable if f.createable is not None else f.name not in _SYSTEM)
            and f.name not in _SYSTEM
            and f.type != "base64"
        ]
        values = self._template(rng, sobject, names)
        if sobject == "Contact" and self.people is not None and values.get("AccountId"):
            # A business contact never belongs to a person account.
            accounts = self.stores["Account"].gen.codec
            a = accounts.decode(values["AccountId"])
            values["AccountId"] = accounts.encode(self.people.business(a))
        if values.get("Email"):
            values["Email"] = values["Email"].replace("@", f".{self.seq + 1}@", 1)
        seq, now = self._begin()
        store.create(values, seq=seq, now=now, user_id=self._actor())
        return True

    def _random_delete(self, rng: random.Random, sobject: str) -> bool:
        index = self._pick_live(rng, sobject, deletable=True)
        if index is None:
            return False
        seq, now = self._begin()
        self.stores[sobject].set_deleted(index, True, seq=seq, now=now, user_id=self._actor())
        return True


_SYSTEM = {
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
    "MasterRecordId",
    "LastViewedDate",
    "LastReferencedDate",
    "LastActivityDate",
    "PhotoUrl",
    "Name",
}


def added_field_column(data: OrgData, gen, fdef: FieldDef) -> Column:
    """Deterministic values for a field added at run time, by its type."""
    key = "added:" + fdef.name
    t = fdef.type
    rng = random.Random(f"{data.seed}/{gen.name}/{fdef.name}")
    if t in ("picklist", "multipicklist", "combobox"):
        values = list(fdef.values) or ["Alpha", "Beta", "Gamma"]
        return Pool(t, key, with_nulls(values, 20))
    if t == "boolean":
        return common.bools(key, 30)
    if t == "int":
        return Pool(t, key, with_nulls([rng.randrange(0, 1000) for _ in range(997)], 20))
    if t in ("double", "currency", "percent"):
        return Pool(t, key, with_nulls([round(rng.uniform(0, 1000), 2) for _ in range(997)], 20))
    if t == "date":
        return common.date_pool(f"{data.seed}/{key}", data.data_start // DAY, 6 * 365, 20)
    if t == "datetime":
        return Func(t, lambda ch: list(ch.typed("CreatedDate")))
    if t == "email":
        return Func(t, lambda ch: [f"user{i}@example.org" for i in ch.idxs])
    if t == "reference" and fdef.ref and fdef.ref in data.counts:
        return RefColumn(
            data.codec(data.gens[fdef.ref].codec.prefix),
            lambda ch: gen.parent_proportional(ch, fdef.ref, 10, null_pct=30),
        )
    words = [
        f"{rng.choice(vocab.COMPANY_PREFIX)} {rng.choice(vocab.COMPANY_CORE)}" for _ in range(997)
    ]
    return Pool(
        "string" if t not in ("textarea", "url", "phone") else t, key, with_nulls(words, 20)
    )
