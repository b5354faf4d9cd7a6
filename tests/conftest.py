"""Shared fixtures: users, workspaces, connections and sync runs, built with plain factories."""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from connections.models import Connection, Membership, Workspace
from connections.services import workspace_create
from ingestion.models import SyncRun

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def user_factory(db):
    """Make users with an email (allauth signs in by email) and a known password."""

    def make(email: str | None = None, *, is_staff: bool = False, **extra):
        email = email or f"user{next(_seq)}@example.com"
        user = get_user_model().objects.create_user(
            username=email, email=email, password=PASSWORD, is_staff=is_staff, **extra
        )
        return user

    return make


@pytest.fixture
def user(user_factory):
    return user_factory("customer@acme.example")


@pytest.fixture
def staff_user(user_factory):
    return user_factory("ops@primer.example", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def workspace_factory(db):
    def make(name: str | None = None, *, owner=None, members=()) -> Workspace:
        name = name or f"Workspace {next(_seq)}"
        if owner is not None:
            workspace = workspace_create(name=name, owner=owner)
        else:
            workspace = Workspace.objects.create(name=name, slug=f"ws-{next(_seq)}")
        for member in members:
            Membership.objects.create(workspace=workspace, user=member)
        return workspace

    return make


@pytest.fixture
def workspace(workspace_factory, user):
    return workspace_factory("Acme", owner=user)


@pytest.fixture
def connection_factory(db, workspace_factory):
    """Make connections; active ones carry an org, a user and (fake) tokens."""

    def make(workspace: Workspace | None = None, **fields) -> Connection:
        n = next(_seq)
        defaults = {
            "label": f"Org {n}",
            "environment": Connection.Environment.PRODUCTION,
            "login_host": "https://login.salesforce.com",
            "instance_url": "https://acme.my.salesforce.com",
            "org_id": f"00D5g00000{n:05d}AAA"[:18],
            "sf_user_id": f"0055g00000{n:05d}AAA"[:18],
            "sf_username": f"integration{n}@acme.example",
            "access_token": f"00D5g000000!ACCESS-{n}",
            "refresh_token": f"5Aep861-REFRESH-{n}",
            "status": Connection.Status.ACTIVE,
            "token_issued_at": timezone.now(),
        }
        defaults.update(fields)
        return Connection.objects.create(workspace=workspace or workspace_factory(), **defaults)

    return make


@pytest.fixture
def connection(connection_factory, workspace):
    return connection_factory(workspace, label="Acme production")


@pytest.fixture
def sync_run_factory(db):
    def make(connection: Connection, **fields) -> SyncRun:
        defaults = {"kind": SyncRun.Kind.INCREMENTAL, "trigger": SyncRun.Trigger.COMMAND}
        defaults.update(fields)
        return SyncRun.objects.create(connection=connection, **defaults)

    return make


@pytest.fixture
def world(user_factory, workspace_factory, connection_factory, staff_user):
    """A fixed little world for permission tests: two customers in two workspaces, and ops."""
    alice = user_factory("alice@acme.example")
    bob = user_factory("bob@globex.example")
    acme = workspace_factory("Acme", owner=alice)
    globex = workspace_factory("Globex", owner=bob)
    return {
        "staff": staff_user,
        "alice": alice,
        "bob": bob,
        "acme": acme,
        "globex": globex,
        "acme_connection": connection_factory(acme, label="Acme production"),
        "globex_connection": connection_factory(globex, label="Globex production"),
    }
