"""The permission preflight: what the connected user can do, as a pass / warn / fail checklist,
each item with what to do. Run at connect time, from the settings page and from the admin.

A ``fail`` stops syncing (the connection turns ``error`` or ``needs_reauth``); a ``warn`` lets
it sync with less data or at a higher API cost. Requirements as customers are told them:
"API Enabled", "View Setup and Configuration", Read on Lead, Contact, Account, Opportunity (and
Campaign for more features), no High Assurance session requirement, plain text fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils import timezone

from connections.models import Connection
from connections.problems import Problem, problem_for, problem_for_reason
from connections.salesforce.client import SalesforceClient
from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceError,
    SalesforceNotFound,
    SalesforcePermissionError,
    SalesforceQueryError,
)
from connections.services.clients import salesforce_client_for
from connections.services.health import (
    connection_mark_active,
    connection_mark_auth_failure,
    connection_mark_problem,
)
from connections.services.visibility import (
    connection_store_field_visibility,
    hidden_count,
    visibility_fix,
    visibility_report,
)

logger = logging.getLogger(__name__)

REQUIRED_OBJECTS = ("Lead", "Contact", "Account", "Opportunity")
OPTIONAL_OBJECTS = ("Campaign", "CampaignMember")
PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
RECOVERABLE = (Connection.Status.ERROR, Connection.Status.PENDING)
_PERMISSIONS = (
    ("api_enabled", "API Enabled", "PermissionsApiEnabled", "api_disabled"),
    ("view_setup", "View Setup and Configuration", "PermissionsViewSetup", "missing_permission"),
)


def _item(key: str, label: str, status: str, detail: str = "", fix: str = "", reason: str = ""):
    """One checklist entry; ``reason`` is set on failures that stop syncing."""
    item = {"key": key, "label": label, "status": status, "detail": detail, "fix": fix}
    if reason:
        item["reason"] = reason
    return item


def _problem_item(key: str, label: str, status: str, problem: Problem) -> dict:
    return _item(key, label, status, problem.cause, problem.fix, problem.reason)


class Preflight:
    """Runs the checks with one client and collects the items."""

    def __init__(self, client: SalesforceClient, username: str) -> None:
        self.client = client
        self.username = username
        self.items: list[dict] = []
        self.describes: dict[str, dict] = {}
        self.org_usage: tuple[int, int] | None = None
        self.auth_error: SalesforceAuthError | None = None
        self.visibility: dict | None = None

    def run(self) -> list[dict]:
        """Every check in order. An auth failure (a revoked token, a High Assurance session
        requirement) ends the run: nothing else can be checked with that session."""
        try:
            if self.check_permissions():
                self._guarded(self.check_objects, "objects", "Read access to objects")
                self._guarded(self.check_bulk, "bulk_api", "Bulk API 2.0")
                self.check_text_areas()
                self._guarded(self.check_field_visibility, "field_visibility", "Field visibility")
        except SalesforceAuthError as error:
            self.auth_error = error
        self.items.insert(0, self.session_item())
        return self.items

    def _guarded(self, step: Callable[[], None], key: str, label: str) -> None:
        """Run a check; a refusal makes it a warning that says what was refused."""
        try:
            step()
        except _REFUSALS as error:
            detail = f"Salesforce refused the check: {error.message}"
            fix = (
                "This usually means a missing “View Setup and Configuration” or object "
                "permission; fix the failed items above, then click “Check again”."
            )
            self.items.append(_item(key, label, WARN, detail, fix))

    def session_item(self) -> dict:
        """High Assurance requirement (or another auth failure), else a pass."""
        error = self.auth_error
        if error is None:
            return _item(
                "session_security",
                "Session security level",
                PASS,
                "API sessions are accepted: no High Assurance session is required at login.",
            )
        problem = problem_for(error, user=self.username)
        label = "Session security level" if error.reason == "high_assurance" else "Authorization"
        return _problem_item("session_security", label, FAIL, problem)

    def check_permissions(self) -> bool:
        """API Enabled and View Setup; ``False`` when the API itself is refused."""
        try:
            perms = self.client.user_permissions()
        except SalesforcePermissionError as error:
            problem = problem_for(error, user=self.username)
            self.items.append(_problem_item("api_enabled", "API Enabled", FAIL, problem))
            self.items.append(
                _item("view_setup", "View Setup and Configuration", SKIP, _NOT_CHECKED)
            )
            return False
        except (SalesforceQueryError, SalesforceNotFound) as error:
            # UserPermissionAccess unavailable: the object checks below still tell a lot.
            detail = f"Could not read the user's permissions: {error.message}"
            for key, label, _field, _reason in _PERMISSIONS:
                self.items.append(_item(key, label, WARN, detail, "Check the profile by hand."))
            return True
        for key, label, field, reason in _PERMISSIONS:
            if perms.get(field):
                detail = f"{self.username or 'The connected user'} has “{label}”."
                self.items.append(_item(key, label, PASS, detail))
            else:
                problem = problem_for_reason(reason, user=self.username)
                self.items.append(_problem_item(key, label, FAIL, problem))
        return True

    def check_objects(self) -> None:
        """Read access to each of the six objects (describe global, then each describe)."""
        listed = {o["name"]: o for o in self.client.describe_global().get("sobjects", [])}
        for name in REQUIRED_OBJECTS + OPTIONAL_OBJECTS:
            self.items.append(self._object_item(name, listed.get(name)))

    def _object_item(self, name: str, listed: dict | None) -> dict:
        label = f"Read access to {name}"
        readable = bool(listed and listed.get("queryable") and listed.get("retrieveable"))
        if readable:
            try:
                self.describes[name] = self.client.describe(name)
            except (SalesforceNotFound, SalesforcePermissionError):
                readable = False
        if readable:
            return _item(f"object:{name}", label, PASS, f"{name} records can be read.")
        required = name in REQUIRED_OBJECTS
        detail = f"The connected user cannot read {name}." + (
            " Syncing stops until it can." if required else " It is skipped until it can."
        )
        fix = (
            f"Give the user Read on {name} (profile or permission set → Object Settings), "
            "then click “Check again”."
        )
        if required:
            return _item(f"object:{name}", label, FAIL, detail, fix, "objects_unreadable")
        return _item(f"object:{name}", label, WARN, detail, fix)

    def check_bulk(self) -> None:
        """Bulk API 2.0 query jobs available (from ``/limits``, which also gives org usage)."""
        limits = self.client.limits()
        api = limits.get("DailyApiRequests") or {}
        if api.get("Max"):
            self.org_usage = (api["Max"] - api.get("Remaining", 0), api["Max"])
        jobs = limits.get("DailyBulkV2QueryJobs")
        label = "Bulk API 2.0"
        if not jobs:
            detail = (
                "The org reports no Bulk API 2.0 query allowance, so primer reads over the REST "
                "API, which costs many more API calls."
            )
            fix = "Ask Salesforce whether Bulk API 2.0 is available for your edition."
            self.items.append(_item("bulk_api", label, WARN, detail, fix))
        elif jobs.get("Remaining", 0) <= 0:
            detail = f"All {jobs.get('Max', 0):,} Bulk query jobs of the last 24 hours are used."
            fix = "Syncs wait until Salesforce frees jobs; nothing to do unless it persists."
            self.items.append(_item("bulk_api", label, WARN, detail, fix))
        else:
            detail = (
                f"{jobs['Remaining']:,} of {jobs.get('Max', 0):,} daily Bulk query jobs available."
            )
            self.items.append(_item("bulk_api", label, PASS, detail))

    def check_text_areas(self) -> None:
        """Custom fields of type text area (the requirements recommend plain text)."""
        found = sorted(
            f"{name}.{field['name']}"
            for name, describe in self.describes.items()
            for field in describe.get("fields", [])
            if field.get("type") == "textarea" and field.get("custom")
        )
        if not found:
            self.items.append(_item("text_areas", "Text fields", PASS, "No custom text areas."))
            return
        detail = (
            "These custom fields are text areas: " + ", ".join(found) + ". Text areas cannot be "
            "filtered on in Salesforce, so audiences cannot use them, and they slow syncs down."
        )
        fix = (
            "Where you want to build audiences on one, change it to a Text field in Object "
            "Manager (Text holds up to 255 characters)."
        )
        self.items.append(_item("text_areas", "Text fields", WARN, detail, fix))

    def check_field_visibility(self) -> None:
        """Fields of the readable objects that field-level security hides from the user."""
        visible = {
            name: [field["name"] for field in describe.get("fields", [])]
            for name, describe in self.describes.items()
        }
        self.visibility = visibility_report(self.client, visible)
        who = self.username or "the connected user"
        label = "Field visibility"
        hidden = self.visibility["objects"]
        if not hidden:
            detail = f"Every field of the {len(visible)} readable objects is visible to {who}."
            self.items.append(_item("field_visibility", label, PASS, detail))
            return
        listed = "; ".join(
            f"{name}: {', '.join(f['label'] for f in fields)}" for name, fields in hidden.items()
        )
        detail = (
            f"Field-level security hides {hidden_count(self.visibility)} fields from {who}, so "
            f"primer cannot read them and audiences cannot filter on them. {listed}."
        )
        self.items.append(_item("field_visibility", label, WARN, detail, visibility_fix(who)))


_NOT_CHECKED = "Not checked: fix the item above first."
_REFUSALS = (SalesforcePermissionError, SalesforceNotFound, SalesforceQueryError)


def preflight_result(items: list[dict]) -> str:
    """The worst status in a checklist."""
    statuses = {item["status"] for item in items}
    if FAIL in statuses:
        return FAIL
    return WARN if statuses & {WARN, SKIP} else PASS


def connection_run_preflight(*, connection: Connection) -> dict:
    """Check what the connected user can do; store the checklist on the connection, set the
    connection's status from it (a blocking failure stops syncing, a clean run clears an
    earlier one), and return the checklist."""
    try:
        check = Preflight(salesforce_client_for(connection), connection.sf_username)
        items = check.run()
    except SalesforceError as error:
        # Unreachable, over budget, or no tokens: say so, and leave the status to the sync.
        logger.warning("Preflight of connection %s could not run: %r", connection.pk, error)
        problem = problem_for(error, user=connection.sf_username)
        # Words, not Salesforce's codes: the limit problems explain themselves, anything
        # else keeps Salesforce's message without its error-code prefix.
        worded = problem.reason in ("api_budget", "org_usage_ceiling", "daily_limit")
        detail = problem.cause if worded else error.message
        item = _item("reachable", "Salesforce reachable", WARN, detail, problem.fix)
        return _store(connection, [item], None)
    checklist = _store(connection, items, check.org_usage)
    if check.visibility is not None:
        connection_store_field_visibility(connection=connection, report=check.visibility)
    _apply_status(connection, check, items)
    return checklist


def _store(connection: Connection, items: list[dict], org_usage: tuple[int, int] | None) -> dict:
    now = timezone.now()
    checklist = {"checked_at": now.isoformat(), "result": preflight_result(items), "items": items}
    connection.preflight, connection.preflight_checked_at = checklist, now
    fields = {"preflight": checklist, "preflight_checked_at": now}
    if org_usage:
        connection.org_api_used, connection.org_api_max = org_usage
        connection.org_api_checked_at = now
        fields.update(org_api_used=org_usage[0], org_api_max=org_usage[1], org_api_checked_at=now)
    Connection.objects.filter(pk=connection.pk).update(**fields)
    return checklist


def _apply_status(connection: Connection, check: Preflight, items: list[dict]) -> None:
    if check.auth_error:
        connection_mark_auth_failure(connection=connection, error=check.auth_error)
        return
    blocking = [item for item in items if item.get("reason")]
    if blocking:
        reason = blocking[0]["reason"]
        unreadable = [i["key"].split(":", 1)[1] for i in blocking if i["key"].startswith("object:")]
        detail = ", ".join(unreadable) if reason == "objects_unreadable" else ""
        problem = problem_for_reason(reason, user=connection.sf_username, detail=detail)
        connection_mark_problem(connection=connection, problem=problem)
    elif connection.status in RECOVERABLE:
        connection_mark_active(connection=connection)


def connection_note_unreadable(*, connection: Connection, sobjects: list[str]) -> dict:
    """A sync found it can no longer read these objects: the checklist says so, with the fix.

    The connection's status is left alone (the other objects keep syncing); the customer sees
    the failed items and "Check again" re-runs the whole preflight.
    """
    checklist = dict(connection.preflight or {})
    keys = {f"object:{name}" for name in sobjects}
    items = [item for item in checklist.get("items", []) if item.get("key") not in keys]
    for name in sobjects:
        items.append(
            _item(
                f"object:{name}",
                f"Read access to {name}",
                FAIL if name in REQUIRED_OBJECTS else WARN,
                f"The last sync could not read {name}: the connected user lost Read on it. "
                "The other objects kept syncing.",
                f"Give the user Read on {name} (profile or permission set → Object Settings), "
                "then click “Check again”.",
            )
        )
    return _store(connection, items, None)
