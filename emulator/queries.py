"""REST query and queryAll: result sets held behind query locators, served page by page.

Reference: https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.md
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass

from emulator.field_definitions import field_definitions, is_field_definition_query
from emulator.soql.errors import SoqlError
from emulator.soql.plan import Plan

MAX_CURSORS_PER_USER = 10  # Salesforce keeps 10 open query cursors per user
CURSOR_IDLE = 15 * 60
QUERY_TIMEOUT = "Your query request was running for too long."


@dataclass
class Cursor:
    locator: str
    username: str
    plan: Plan
    matches: array
    seq: int
    include_deleted: bool
    batch: int
    last_used: float


class Cursors:
    """Open query cursors (the state behind nextRecordsUrl)."""

    def __init__(self, org):
        self.org = org
        self.cursors: dict[str, Cursor] = {}
        self.counter = 0
        self.lock = threading.Lock()

    def open(
        self, username: str, plan: Plan, matches: array, seq: int, include_deleted: bool, batch: int
    ) -> str:
        now = self.org.clock.time()
        with self.lock:
            self.counter += 1
            locator = self.org.data.codec("01g").encode(self.counter)
            self.cursors[locator] = Cursor(
                locator, username, plan, matches, seq, include_deleted, batch, now
            )
            mine = sorted(
                (c for c in self.cursors.values() if c.username == username),
                key=lambda c: c.last_used,
            )
            for old in mine[:-MAX_CURSORS_PER_USER]:
                self.cursors.pop(old.locator, None)
            return locator

    def get(self, locator: str, username: str) -> Cursor | None:
        now = self.org.clock.time()
        with self.lock:
            c = self.cursors.get(locator)
            if c is None or c.username != username:
                return None
            if now - c.last_used > CURSOR_IDLE:
                self.cursors.pop(locator, None)
                return None
            c.last_used = now
            return c

    def live_seqs(self) -> list[int]:
        with self.lock:
            return [c.seq for c in self.cursors.values()]

    def clear(self) -> None:
        with self.lock:
            self.cursors.clear()


def batch_size(header: str | None, plan: Plan) -> int:
    """Page size from Sforce-Query-Options (default 2000, min 200, max 2000); 200 when two or
    more long text areas are selected, as the SOQL guide describes."""
    size = 2000
    if header:
        for part in header.split(","):
            key, _, value = part.partition("=")
            if key.strip().lower() == "batchsize" and value.strip().isdigit():
                size = max(200, min(2000, int(value.strip())))
    if sum(1 for c in plan.columns if c.field.is_long_text) >= 2:
        size = 200
    return size


def page_body(org, cursor: Cursor, offset: int, version: str, path: str) -> dict:
    """One page; nextRecordsUrl is /query/<locator>-<offset>, or /queryAll/… for queryAll
    (the queryAll spelling is from the docs' queryAll page, not re-checked)."""
    total = len(cursor.matches)
    end = min(total, offset + cursor.batch)
    records = org.engine.rest_records(cursor.plan, cursor.matches[offset:end], cursor.seq, version)
    body: dict = {"totalSize": total, "done": end >= total}
    if end < total:
        body["nextRecordsUrl"] = f"/services/data/v{version}/{path}/{cursor.locator}-{end}"
    body["records"] = records
    return body


def run(
    org, username: str, soql: str, *, include_deleted: bool, options: str | None, version: str
) -> dict:
    """Execute a SOQL query for username: the first page of the REST query response."""
    if is_field_definition_query(soql):
        return field_definitions(org, username, soql, version)
    plan = org.compile(soql, username)
    if plan.sobject.name == "UserPermissionAccess":
        return _user_permission_access(org, username, plan, version)
    with org.lock:
        seq = org.seq
        if plan.count is not None and plan.count.field is None:
            return {
                "totalSize": org.engine.count(plan, include_deleted=include_deleted, seq=seq),
                "done": True,
                "records": [],
            }
        matches = org.engine.matching(plan, include_deleted=include_deleted, seq=seq)
    if plan.count is not None:
        alias = plan.count.alias or "expr0"
        return {
            "totalSize": 1,
            "done": True,
            "records": [{"attributes": {"type": "AggregateResult"}, alias: len(matches)}],
        }
    limit = org.faults.query_timeout_rows()
    if limit is not None and len(matches) > limit:
        raise SoqlError("QUERY_TIMEOUT", QUERY_TIMEOUT)
    path = "queryAll" if include_deleted else "query"
    batch = batch_size(options, plan)
    if len(matches) <= batch:
        records = org.engine.rest_records(plan, matches, seq, version)
        return {"totalSize": len(matches), "done": True, "records": records}
    locator = org.cursors.open(username, plan, matches, seq, include_deleted, batch)
    cursor = org.cursors.get(locator, username)
    return page_body(org, cursor, 0, version, path)


def more(org, username: str, locator: str, offset: int, version: str, path: str) -> dict | None:
    cursor = org.cursors.get(locator, username)
    if cursor is None or offset < 0 or offset > len(cursor.matches):
        return None
    return page_body(org, cursor, offset, version, path)


def _user_permission_access(org, username: str, plan: Plan, version: str) -> dict:
    state = org.user_state(username)
    values = {
        "Id": "000000000000000AAA",
        "LastCacheUpdate": int(org.clock.time()),
        "PermissionsApiEnabled": state.user.api_enabled,
        "PermissionsViewSetup": state.user.view_setup,
        "PermissionsViewAllData": state.user.username.startswith("admin@"),
        "PermissionsModifyAllData": state.user.username.startswith("admin@"),
        "PermissionsRunReports": True,
    }
    if plan.count is not None:
        return {"totalSize": 1, "done": True, "records": []}
    from emulator.clock import FORMATS

    rec = {
        "attributes": {
            "type": "UserPermissionAccess",
            "url": f"/services/data/v{version}/sobjects/UserPermissionAccess/000000000000000AAA",
        }
    }
    for col in plan.columns:
        value = values.get(col.field.name)
        if col.field.type == "datetime":
            value = FORMATS.rest(value)
        rec[col.field.name] = value
    return {"totalSize": 1, "done": True, "records": [rec]}
