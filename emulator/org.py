"""The emulated org: schema, data, users, tokens, jobs, faults, counters — and the Python API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from emulator.auth import Auth, AuthConfig
from emulator.bulk import BulkJobs, Job
from emulator.clock import Clock
from emulator.data import gen_more, gen_opportunity, gen_sales
from emulator.data.base import DAY, OrgData
from emulator.data.profiles import profile_counts
from emulator.data.store import ObjectStore, RecordError
from emulator.engine import Engine
from emulator.faults import Faults
from emulator.org_changes import ChangesMixin
from emulator.schema import build_catalog
from emulator.schema.describe import describe_global, describe_sobject
from emulator.schema.fields import FieldDef
from emulator.schema.objects import ObjectDef
from emulator.soql.parser import parse
from emulator.soql.plan import Compiler, Plan, SchemaView
from emulator.usage import Counters, RollingCounter
from emulator.users import EmulatedUser, users_for_org

LATEST_VERSION = "66.0"
ORG_NAME = "Emulated Org"


@dataclass
class UserState:
    """A user's current situation (the emulated users' profiles, changeable at run time)."""

    user: EmulatedUser
    active: bool
    access: dict[str, bool] = field(default_factory=dict)

    @property
    def username(self) -> str:
        return self.user.username

    def can_read(self, sobject: str) -> bool:
        if sobject in self.access:
            readable = self.access[sobject]
        else:
            readable = sobject not in self.user.unreadable
        if readable and sobject == "CampaignMember":
            return self.can_read("Campaign")
        return readable


class UserView(SchemaView):
    """The schema as one user sees it: readable objects, fields their FLS shows."""

    def __init__(self, org: Org, state: UserState):
        self.org = org
        self.state = state

    def object(self, name: str) -> ObjectDef | None:
        obj = self.org.object_def(name)
        if obj is None or not self.state.can_read(obj.name):
            return None
        return obj

    def fields(self, obj: ObjectDef) -> dict[str, FieldDef]:
        hidden = self.state.user.hidden_fields.get(obj.name, frozenset())
        return {k: f for k, f in obj.by_lower().items() if f.name not in hidden}

    def field_list(self, obj: ObjectDef) -> list[FieldDef]:
        hidden = self.state.user.hidden_fields.get(obj.name, frozenset())
        return [f for f in obj.fields if f.name not in hidden]


class Org(ChangesMixin):
    """A Salesforce org in memory. See emulator/README.md for the whole API."""

    def __init__(
        self,
        profile: str = "tiny",
        *,
        seed: int = 42,
        api_daily_limit: int = 100_000,
        client_id: str = "emulator-client-id",
        client_secret: str = "emulator-client-secret",
        processing_rate: float | None = None,
        sandbox: bool = False,
        session_timeout: int = 7200,
        rotate_refresh_tokens: bool = False,
        redirect_uris: tuple[str, ...] | list[str] = (),
        data_end: int | None = None,
        counts: dict[str, int] | None = None,
        bulk_daily_jobs: int = 10_000,
        max_request_bytes: int = 16_384,
        custom_fields: dict[str, int] | None = None,
        person_accounts: bool = False,
        org_index: int = 0,
    ):
        self.profile = profile
        # Which org of a multi-org emulator this is: its org id and its users' usernames.
        self.org_index = org_index
        self.user_list = users_for_org(org_index)
        self.users_by_name = {u.username: u for u in self.user_list}
        self.org_name = ORG_NAME
        self.seed = seed
        self.counts_config = dict(counts) if counts else profile_counts(profile)
        self.api_daily_limit = api_daily_limit
        self.processing_rate = processing_rate
        self.sandbox = sandbox
        # Bulk API 2.0 query jobs allowed per rolling 24 hours (10,000 on every real org).
        self.bulk_daily_jobs = bulk_daily_jobs
        # Request line (414) and request line + headers (431) ceiling; see web/request_size.py.
        self.max_request_bytes = max_request_bytes
        self.custom_fields = dict(custom_fields or {})
        self.person_accounts = person_accounts
        self.clock = Clock()
        self.lock = threading.RLock()
        self.data_end = data_end if data_end is not None else int(self.clock.time() // DAY) * DAY
        self._base_url: str | None = None
        self.faults = Faults(seed, on_action=self._fault_action)
        self.usage = RollingCounter()
        self.job_usage = RollingCounter()
        self.result_usage = RollingCounter()
        self.counters_state = Counters()
        self.seq = 0
        self._build()
        self.org_id = self.data.codec("00D").encode(org_index)
        self.auth = Auth(
            self,
            AuthConfig(
                client_id,
                client_secret,
                session_timeout,
                rotate_refresh_tokens,
                tuple(redirect_uris),
                self.org_id,
            ),
        )
        self.jobs = BulkJobs(self)
        self.jobs.lock = self.lock
        from emulator.queries import Cursors

        self.cursors = Cursors(self)

    @classmethod
    def from_profile(cls, name: str, **options) -> Org:
        """An org of one of the profiles: tiny, demo, seed-example."""
        return cls(name, **options)

    # ----------------------------------------------------------------- building
    def _build(self) -> None:
        """Generators (pure functions of the seed, with their lazily built pools) are made once;
        everything that changes lives in the state built by _build_state."""
        self.data = OrgData(
            self.seed, self.counts_config, self.data_end, self.sandbox, users=self.user_list
        )
        self.gens = [
            gen_sales.account(self.data),
            gen_sales.contact(self.data),
            gen_sales.lead(self.data),
            gen_opportunity.opportunity(self.data),
            gen_more.campaign(self.data),
            gen_more.campaign_member(self.data),
            gen_more.user(self.data),
            gen_more.document(self.data),
            gen_more.organization(self.data, ORG_NAME),
            gen_more.account_feed(self.data),
        ]
        # (object, field, the generated column it replaced or None), undone by reset
        self._added_columns: list[tuple[str, str, object]] = []
        self._custom_fields = self._make_custom_fields()
        self.people = self._make_person_accounts()
        self._build_state()

    def _make_person_accounts(self):
        """--person-accounts: the Account's person fields and the Contact rows behind them."""
        if not self.person_accounts:
            return None
        from emulator.data import person_accounts

        gens = {g.name: g for g in self.gens}
        contact_defs = build_catalog()["Contact"].fields + self._custom_fields.get("Contact", [])
        self._person_fields = (
            person_accounts.account_fields(contact_defs),
            person_accounts.contact_fields(),
        )
        return person_accounts.wire(self.data, gens["Account"], gens["Contact"], contact_defs)

    def _make_custom_fields(self) -> dict[str, list[FieldDef]]:
        """--custom-fields: definitions per object, with their value columns on the generators."""
        from emulator.data import custom_fields

        gens = {g.name: g for g in self.gens}
        catalog = build_catalog()
        out = {}
        for sobject, n in self.custom_fields.items():
            obj = next((o for o in catalog.values() if o.name.lower() == sobject.lower()), None)
            if obj is None or obj.name not in gens:
                raise ValueError(f"--custom-fields: no data object {sobject!r}")
            taken = {f.name for f in obj.fields}
            defs = custom_fields.definitions(obj.name, n, self.seed, taken)
            custom_fields.add_columns(self.data, gens[obj.name], defs)
            out[obj.name] = defs
        return out

    def _build_state(self) -> None:
        for sobject, name, replaced in reversed(self._added_columns):
            columns = self.stores[sobject].gen.columns
            if replaced is None:
                columns.pop(name, None)
            else:  # a generated field removed, then added anew under its name
                columns[name] = replaced
        self._added_columns = []
        self.catalog = build_catalog()
        for sobject, defs in self._custom_fields.items():
            self.catalog[sobject].fields.extend(defs)
            self.catalog[sobject].invalidate()
        if self.people is not None:
            account, contact = self.catalog["Account"], self.catalog["Contact"]
            account.field("Name").overrides["nillable"] = True
            at = account.fields.index(account.field("Name")) + 1
            account.fields[at:at] = self._person_fields[0]
            contact.fields.extend(self._person_fields[1])
            account.invalidate()
            contact.invalidate()
        self.stores: dict[str, ObjectStore] = {
            g.name: ObjectStore(self.catalog[g.name], g) for g in self.gens
        }
        self.engine = Engine(self.stores)
        self.users = {u.username: UserState(u, u.active) for u in self.user_list}
        self._changes_since_compact = 0
        self.schema_changed = int(self.clock.time())

    def reset(self) -> None:
        """Back to the pristine seeded state: data, schema, permissions, jobs, query cursors,
        faults, counters, API usage and the clock. Issued OAuth tokens stay valid."""
        with self.lock:
            self._build_state()
            self.jobs.clear()
            self.cursors.clear()
            self.faults.clear()
            self.usage.clear()
            self.job_usage.clear()
            self.result_usage.clear()
            self.counters_state.clear()
            self.clock.reset()

    # ------------------------------------------------------------- identities
    @property
    def base_url(self) -> str:
        return self._base_url or "http://127.0.0.1"

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")

    @property
    def base_url_known(self) -> bool:
        return self._base_url is not None

    def user_id(self, username: str) -> str:
        return self.data.codec("005").encode(self.user_index(username))

    @property
    def integration_username(self) -> str:
        """The healthy integration user of this org (the first emulated user)."""
        return self.user_list[0].username

    def user_index(self, username: str) -> int:
        """Record index of one of this org's emulated users (KeyError if it has none)."""
        for i, u in enumerate(self.user_list):
            if u.username == username:
                return i
        raise KeyError(username)

    def identity_url(self, username: str) -> str:
        return f"{self.base_url}/id/{self.org_id}/{self.user_id(username)}"

    def user_state(self, username: str) -> UserState:
        try:
            return self.users[username]
        except KeyError:
            raise KeyError(f"no emulated user {username!r}") from None

    def view(self, username: str) -> UserView:
        return UserView(self, self.user_state(username))

    def object_def(self, name: str) -> ObjectDef | None:
        low = name.lower()
        for obj in self.catalog.values():
            if obj.name.lower() == low:
                return obj
        return None

    def store(self, sobject: str) -> ObjectStore:
        obj = self.object_def(sobject)
        if obj is None or obj.name not in self.stores:
            raise RecordError(f"sObject type '{sobject}' is not supported.")
        return self.stores[obj.name]

    # ------------------------------------------------------------------- OAuth
    def issue_tokens(self, username: str, scope: str = "api refresh_token") -> dict:
        """The token response body for username, as if they had approved the app (a refresh
        token is included when scope asks for one, and counts as an approval)."""
        self.user_state(username)
        scope = self.auth.grant_scope(scope)
        self.counters_state.grant("issue_tokens")
        return self.auth.issue(
            username, self.auth.config.client_id, scope, with_refresh=self.auth.wants_refresh(scope)
        )

    def set_user_active(self, username: str, active: bool) -> None:
        """Deactivate (or reactivate) a user: their sessions die and grants fail."""
        self.user_state(username).active = active

    def _fault_action(self, name: str, params: dict) -> None:
        if name == "expire_tokens":
            self.auth.expire_all()
        elif name == "revoke_refresh_token":
            self.auth.revoke(params["token"])

    # ----------------------------------------------------------------- schema
    def describe(
        self,
        sobject: str,
        username: str | None = None,
        *,
        version: str = LATEST_VERSION,
    ) -> dict:
        """The describe body of sobject for username (default: the org's integration user;
        KeyError when they cannot see it)."""
        username = username or self.integration_username
        view = self.view(username)
        obj = view.object(sobject)
        if obj is None:
            raise KeyError(sobject)
        body = describe_sobject(obj, view.field_list(obj), self.catalog, version, self.base_url)
        removal = self.faults.take_field_removal(obj.name)
        if removal is not None:
            self.remove_field(obj.name, removal.get("field") or self._removable_field(obj))
        return body

    def describe_global(self, username: str, version: str = LATEST_VERSION) -> dict:
        view = self.view(username)
        objects = [o for o in self.catalog.values() if view.object(o.name) is not None]
        return describe_global(sorted(objects, key=lambda o: o.name), version)

    @staticmethod
    def _removable_field(obj: ObjectDef) -> str:
        custom = [
            f
            for f in obj.fields
            if f.custom and not f.calculated and not f.compound and not f.is_compound
        ]
        return (custom or [f for f in obj.fields if f.name not in ("Id", "SystemModstamp")])[
            -1
        ].name

    def add_field(
        self, sobject: str, name: str, type: str = "string", **describe_overrides
    ) -> None:
        """Schema change: a new field appears (existing records get deterministic values)."""
        from emulator.org_changes import added_field_column

        with self.lock:
            store = self.store(sobject)
            if store.obj.field(name) is not None:
                raise RecordError(f"field {name} already exists on {store.obj.name}")
            known = {
                k: describe_overrides.pop(k)
                for k in ("label", "length", "values", "ref", "rel", "formula")
                if k in describe_overrides
            }
            if "values" in known:
                known["values"] = tuple(known["values"])
            fdef = FieldDef(name, type, overrides=describe_overrides, **known)
            store.obj.fields.append(fdef)
            store.obj.invalidate()
            replaced = store.gen.columns.get(name)
            store.gen.add(name, added_field_column(self.data, store.gen, fdef))
            self._added_columns.append((store.obj.name, name, replaced))
            self.schema_changed = int(self.clock.time())

    def remove_field(self, sobject: str, name: str) -> None:
        """Schema change: the field disappears from describe and queries."""
        with self.lock:
            store = self.store(sobject)
            f = store.obj.field(name)
            if f is None:
                raise RecordError(f"No such column '{name}' on sobject of type {store.obj.name}")
            store.obj.fields.remove(f)
            store.obj.invalidate()
            self.schema_changed = int(self.clock.time())

    def set_object_access(self, username: str, sobject: str, readable: bool) -> None:
        """Grant or revoke read access on an object for a user."""
        obj = self.object_def(sobject)
        if obj is None:
            raise KeyError(sobject)
        self.user_state(username).access[obj.name] = bool(readable)

    # ---------------------------------------------------------------- queries
    def compile(self, soql: str, username: str) -> Plan:
        """Parse and check a SOQL query for a user (raises SoqlError)."""
        return Compiler(self.view(username), self.clock.now()).compile(parse(soql))

    def snapshot_job(self, job: Job) -> None:
        """Freeze a completing job's matching records and the sequence number to render at:
        those counted at its creation when no record has changed since (the same engine, not
        one a reset rebuilt, at the same ``seq``), else matched anew. Matching is the
        emulator's costliest step of a windowed load (0.5 to 1.5 s for a window of the
        ``enterprise`` profile's 3.75M contacts), and the engine waits for it at the first
        poll of a job made ahead."""
        with self.lock:
            counted, job.counted = job.counted, None
            if counted is not None and counted[0] is self.engine and counted[1] == self.seq:
                job.matches = counted[2]
            else:
                job.matches = self.engine.matching(
                    job.plan, include_deleted=job.include_deleted, seq=self.seq
                )
            job.snapshot_seq = self.seq

    def count(self, sobject: str, include_deleted: bool = False) -> int:
        """Records of sobject (soft-deleted ones too when include_deleted)."""
        return self.store(sobject).count(include_deleted)

    def iter_records(
        self, sobject: str, include_deleted: bool = True, username: str | None = None
    ) -> Iterator[dict]:
        """Every record as REST JSON would show it to username (default: the org's integration
        user), without 'attributes'."""
        username = username or self.integration_username
        view = self.view(username)
        obj = view.object(sobject)
        if obj is None:
            raise KeyError(sobject)
        fields = ", ".join(f.name for f in view.field_list(obj))
        plan = self.compile(f"SELECT {fields} FROM {obj.name}", username)
        with self.lock:
            seq = self.seq
            idxs = self.engine.matching(plan, include_deleted=include_deleted, seq=seq)
        for start in range(0, len(idxs), 2000):
            for rec in self.engine.rest_records(
                plan, idxs[start : start + 2000], seq, LATEST_VERSION
            ):
                rec.pop("attributes", None)
                yield rec

    # ---------------------------------------------------------------- counting
    def record_call(self, kind: str, counted: bool = True) -> None:
        self.counters_state.call(kind, counted)
        if counted:
            self.usage.add(self.clock.time())
            due = self.faults.tick_revoke_read()
            if due is not None:
                targets = [due["user"]] if due.get("user") else list(self.users)
                for username in targets:
                    self.set_object_access(username, due["object"], False)

    def note_result_bytes(self, n: int) -> None:
        self.result_usage.add(self.clock.time(), n)
        with self.counters_state.lock:
            self.counters_state.result_bytes += n

    def api_usage(self) -> tuple[int, int]:
        """(used, max) of the rolling 24-hour API request count, as Sforce-Limit-Info shows."""
        if self.faults.daily_limit_reached():
            return max(
                self.usage.total(self.clock.time()), self.api_daily_limit
            ), self.api_daily_limit
        return self.usage.total(self.clock.time()), self.api_daily_limit

    def counters(self) -> dict:
        """API calls by kind (identity, userinfo and versions included, though they do not count
        against the daily limit), totals, jobs by state, OAuth grants by type."""
        c = self.counters_state
        with c.lock:
            refused = dict(c.refused)
            limited = dict(c.api_calls)
            uncounted = dict(c.uncounted)
            oauth = dict(c.oauth)
        calls = dict(limited)
        for kind, n in uncounted.items():
            calls[kind] = calls.get(kind, 0) + n
        by_state: dict[str, int] = {}
        self.jobs.settle()
        for job in list(self.jobs.jobs.values()):
            by_state[job.state] = by_state.get(job.state, 0) + 1
        used, limit = self.api_usage()
        return {
            "api_calls": calls,
            "api_calls_total": sum(calls.values()),
            "limit_counted_total": sum(limited.values()),
            "not_counted_kinds": sorted(uncounted),
            "jobs_created": c.jobs_created,
            "jobs_by_state": by_state,
            "oauth_grants": oauth,
            "oauth_grants_total": sum(oauth.values()),
            "result_bytes": c.result_bytes,
            "largest_request_line": c.largest_request_line,
            "largest_request_headers": c.largest_request_headers,
            "refused_requests": refused,
            "api_usage": {"used": used, "max": limit},
        }

    def min_live_seq(self) -> int:
        seqs = [j.snapshot_seq for j in self.jobs.jobs.values() if j.snapshot_seq is not None]
        seqs += self.cursors.live_seqs()
        return min(seqs, default=self.seq)
