"""The demo's steps, each through the services the site and the worker use.

Connecting goes through ``connection_authorize_start`` / ``connection_authorize_complete``
(what the connect and callback views call), syncs through ``sync_run_enqueue`` and
``sync_run_execute`` (what the worker calls, here ``inline`` with progress), starting over
through ``connection_disconnect`` (what the customer's "Disconnect, also delete data" does).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from connections.models import Connection, Workspace
from connections.services import (
    ConnectOutcome,
    connection_authorize_complete,
    connection_authorize_start,
    connection_disconnect,
    connection_reconnect_confirm,
    workspace_add_member,
    workspace_create,
)
from demo.browser import code_from_redirect, consent
from demo.emulator import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    EmulatorControl,
    EmulatorError,
)
from ingestion.models import IngestedRecord, SyncRun
from ingestion.selectors import connection_data_purge
from ingestion.services.purge import data_purge_execute
from ingestion.services.runs import sync_run_cancel, sync_run_enqueue
from ingestion.services.sync import sync_run_execute
from primer_sf.errors import ApplicationError

STAFF_EMAIL = "ops@example.com"
CUSTOMER_EMAIL = "demo@example.com"
PASSWORD = "primer-demo"
WORKSPACE_SLUG = "demo"
INTEGRATION_USER = "integration@example.com"
# Where `make run` serves the site; the OAuth redirect names it (the emulator accepts any
# loopback callback), though the demo reads the code from the redirect instead of following it.
SITE_URL = "http://127.0.0.1:8000"

# Deletes made in the org between the initial and the incremental sync. Soft deletes land in
# the recycle bin (queryAll still returns them, IsDeleted = true); purged records vanish even
# from queryAll, so only the reconciliation finds them. Records a campaign member points at
# are left alone, as Salesforce would cascade their deletion to the members.
SOFT_DELETES = {"Lead": 100, "Contact": 50, "Opportunity": 50}
PURGES = {"Lead": 50, "Opportunity": 50}


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


@contextlib.contextmanager
def salesforce_settings(base_url: str) -> Iterator[None]:
    """Point this process's Salesforce settings at the emulator, and restore them after.

    The settings are read from the environment at import, but every reader
    (``connections.services``, the client, the OAuth module) looks them up on
    ``django.conf.settings`` at call time, so setting them here, before the first call,
    covers everything this process does. The emulator serves the login host and the
    instance from one base URL, so that URL is the login host (production and sandbox)
    and 127.0.0.1 an allowed instance host.
    """
    allowed = list(settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS)
    if "127.0.0.1" not in allowed:
        allowed.append("127.0.0.1")
    values = {
        "EMULATOR_URL": base_url,
        "SALESFORCE_LOGIN_URL": base_url,
        "SALESFORCE_SANDBOX_LOGIN_URL": base_url,
        "SALESFORCE_CLIENT_ID": EMULATOR_CLIENT_ID,
        "SALESFORCE_CLIENT_SECRET": EMULATOR_CLIENT_SECRET,
        "SALESFORCE_ALLOWED_INSTANCE_HOSTS": allowed,
        # The emulator speaks plain http on loopback, whatever DEBUG says.
        "SALESFORCE_INSECURE_LOOPBACK": True,
    }
    saved = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


@contextlib.contextmanager
def quiet_logs(level: int) -> Iterator[None]:
    """Drop log records at ``level`` and below for a while (then the previous threshold)."""
    previous = logging.root.manager.disable
    logging.disable(max(level, previous))
    try:
        yield
    finally:
        logging.disable(previous)


# --- people -------------------------------------------------------------------------------


def _user(email: str, *, staff: bool):
    user, created = get_user_model().objects.get_or_create(
        username=email, defaults={"email": email, "is_staff": staff, "is_superuser": staff}
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


def demo_workspace() -> Workspace:
    """The staff user, the customer and their workspace (created once, then reused)."""
    staff = _user(STAFF_EMAIL, staff=True)
    customer = _user(CUSTOMER_EMAIL, staff=False)
    workspace = Workspace.objects.filter(slug=WORKSPACE_SLUG).first()
    if workspace is None:
        workspace = workspace_create(name="Demo", owner=customer)
        Workspace.objects.filter(pk=workspace.pk).update(slug=WORKSPACE_SLUG)
        workspace.slug = WORKSPACE_SLUG
    workspace_add_member(workspace=workspace, user=staff)
    return workspace


def demo_connection(workspace: Workspace, org_id: str) -> Connection | None:
    """The workspace's connection to the emulated org (its org id follows from the seed)."""
    return workspace.connections.filter(org_id=org_id).order_by("pk").first()


# --- connecting ---------------------------------------------------------------------------


def start_over(connection: Connection) -> int:
    """Forget an earlier demo's copy: cancel its unfinished runs, then disconnect with its
    data deleted (the row, its settings and run history stay). Returns the records dropped."""
    records = connection.records.count()
    for run in connection.sync_runs.filter(
        status__in=[*SyncRun.ACTIVE_STATUSES, SyncRun.Status.PAUSED]
    ):
        sync_run_cancel(run=run, reason="The demo started over.")
    # Revoking the old grant fails when the emulator that issued it is gone (its warning is
    # expected here): the new emulator never knew that token.
    with quiet_logs(logging.WARNING):
        connection_disconnect(connection=connection, delete_data=True)
    # The deletion is queued for the workers; the demo does it here, as it syncs here.
    purge = connection_data_purge(connection=connection)
    if purge is not None:
        data_purge_execute(purge_id=purge.pk, inline=True)
    return records


def connect(
    *, workspace: Workspace, login_url: str, connection: Connection | None = None
) -> ConnectOutcome:
    """The OAuth web-server flow, as the connect and callback views run it, with the browser's
    two steps (sign in, allow) done by ``browser.consent``."""
    redirect_uri = SITE_URL + reverse("connections:callback")
    url, pending = connection_authorize_start(
        workspace=workspace,
        environment=Connection.Environment.PRODUCTION,
        login_url=login_url,
        redirect_uri=redirect_uri,
        label="Demo org (emulator)",
        connection=connection,
    )
    location = consent(url, username=INTEGRATION_USER)
    code = code_from_redirect(location, state=pending["state"])
    try:
        outcome = connection_authorize_complete(
            pending=pending, code=code, redirect_uri=redirect_uri
        )
    except ApplicationError as error:
        raise DemoError(error.message) from error
    if outcome.candidate is not None:
        # Held for review (another user id, e.g. a fresh emulator): the operator running the
        # demo asked for exactly this reconnect, so it is confirmed here.
        outcome = connection_reconnect_confirm(candidate=outcome.candidate)
    if outcome.connection.status != Connection.Status.ACTIVE:
        connection = outcome.connection
        raise DemoError(
            f"The connection is {connection.get_status_display().lower()}: "
            f"{connection.status_message} {connection.status_fix}".strip()
        )
    return outcome


# --- syncing ------------------------------------------------------------------------------


def queued_run(connection: Connection) -> SyncRun:
    """The run connecting queued (the initial load), which the demo executes itself."""
    run = connection.sync_runs.filter(status=SyncRun.Status.QUEUED).first()
    if run is None:
        raise DemoError(f"Connecting queued no sync of {connection}.")
    return run


def enqueue(connection: Connection, kind: str) -> SyncRun:
    try:
        return sync_run_enqueue(connection=connection, kind=kind, trigger=SyncRun.Trigger.COMMAND)
    except ApplicationError as error:
        raise DemoError(error.message) from error


def execute(run: SyncRun, on_progress: Callable[..., None]) -> SyncRun:
    """Run every slice of ``run`` in this process, as a worker would, with live progress."""
    try:
        outcome = sync_run_execute(run_id=run.pk, inline=True, on_progress=on_progress)
    except BaseException:
        # A bug, or Ctrl-C: leave no run "running" behind for the worker to take over later.
        sync_run_cancel(run=run, reason="The demo stopped during this run.")
        raise
    if outcome["status"] == "skipped":
        raise DemoError(
            f"Run #{run.pk} is being worked on by another process: is a worker (`make run`, "
            "`make worker`) running on this database? Stop it and run the demo again."
        )
    run.refresh_from_db()
    on_progress(run, final=True)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise DemoError(
            f"{run.get_kind_display()} run #{run.pk} ended {run.status}: "
            f"{run.error_message or 'no message'}"
        )
    return run


# --- changes in the org -------------------------------------------------------------------


@dataclass
class Changes:
    """What the demo changed in the emulated org, per object."""

    random: dict[str, dict[str, int]] = field(default_factory=dict)
    soft_deleted: dict[str, list[str]] = field(default_factory=dict)
    purged: dict[str, list[str]] = field(default_factory=dict)

    def total(self, kind: str) -> int:
        return sum(counts.get(kind, 0) for counts in self.random.values())


def _referenced_by_members(connection: Connection) -> set[str]:
    members = IngestedRecord.objects.filter(connection=connection, sobject="CampaignMember")
    ids = members.values_list("data__LeadId", "data__ContactId")
    return {sf_id for pair in ids for sf_id in pair if sf_id}


def _candidates(connection: Connection, sobject: str, keep: set[str]) -> list[str]:
    ids = (
        IngestedRecord.objects.filter(connection=connection, sobject=sobject, is_deleted=False)
        .order_by("sf_id")
        .values_list("sf_id", flat=True)
    )
    return [sf_id for sf_id in ids if sf_id not in keep]


def _pick(candidates: list[str], wanted: int) -> list[str]:
    """Up to ``wanted`` ids spread over the list, never more than a tenth of it."""
    n = min(wanted, len(candidates) // 10)
    step = max(len(candidates) // n, 1) if n else 1
    return candidates[::step][:n]


def delete_some(control: EmulatorControl, connection: Connection) -> Changes:
    """Soft-delete and purge records picked from the local copy (so they exist in the org)."""
    changes = Changes()
    keep = _referenced_by_members(connection)
    for sobject in sorted(set(SOFT_DELETES) | set(PURGES)):
        candidates = _candidates(connection, sobject, keep)
        soft = _pick(candidates, SOFT_DELETES.get(sobject, 0))
        rest = [sf_id for sf_id in candidates if sf_id not in set(soft)]
        purge = _pick(rest, PURGES.get(sobject, 0))
        for sf_id in soft:
            control.soft_delete(sobject, sf_id)
        for sf_id in purge:
            control.purge(sobject, sf_id)
        changes.soft_deleted[sobject], changes.purged[sobject] = soft, purge
    return changes


def change_org(control: EmulatorControl, connection: Connection, *, n: int, seed: int) -> Changes:
    """The deletes first (so the random changes never pick a record deleted here), then ``n``
    random realistic changes: updates, creates and soft deletes across the objects."""
    try:
        changes = delete_some(control, connection)
        changes.random = control.random_changes(n, seed) if n else {}
    except EmulatorError as error:
        raise DemoError(str(error)) from error
    return changes
