"""End-to-end ingestion tests: the real client and engine against the emulator on loopback."""

import base64
import os
import uuid

import psycopg
import pytest
import redis
import requests

from connections.models import Connection
from ingestion.engine.state import FieldPlan
from ingestion.engine.values import typed_from_rest
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from ingestion.services.runs import sync_run_enqueue
from ingestion.services.sync import sync_run_execute
from tests.connections.emulated import start_emulator

ALL_OBJECTS = ["Lead", "Contact", "Account", "Opportunity", "Campaign", "CampaignMember"]
POSTGRES = os.environ.get("PRIMER_SF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture
def database(request):
    """A PostgreSQL database of the test's own, for our side's child processes; dropped after.
    Named by the test's module, so one left behind by a killed run says whose it was."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    name = f"primer_sf_{module}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES}/{name}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def broker(request):
    """The test module's own Redis database (its ``REDIS`` URL), empty before and after."""
    url = request.module.REDIS
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def live_org(settings):
    """A tiny emulated org, with the engine's polling made quick for tests."""
    settings.INGESTION = {
        **settings.INGESTION,
        "POLL_INITIAL_SECONDS": 0.05,
        "POLL_MAX_SECONDS": 0.2,
        "RETRY_MAX_WAIT_SECONDS": 0.05,
    }
    emulated = start_emulator(settings)
    yield emulated
    emulated.server.stop()


@pytest.fixture
def connect_as_factory(connection_factory):
    """A connection to a given emulated org, holding real tokens of one of its users."""

    def make(live, username="integration@example.com", objects=ALL_OBJECTS) -> Connection:
        tokens = live.org.issue_tokens(username)
        org_id, user_id = tokens["id"].rstrip("/").split("/")[-2:]
        return connection_factory(
            login_host=live.url,
            instance_url=tokens["instance_url"],
            org_id=org_id,
            sf_user_id=user_id,
            sf_username=username,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            enabled_objects=list(objects),
        )

    return make


@pytest.fixture
def connect_as(live_org, connect_as_factory):
    """A connection to the tiny org, holding real tokens of an emulated user (OAuth is tested
    elsewhere)."""

    def make(username="integration@example.com", objects=ALL_OBJECTS) -> Connection:
        return connect_as_factory(live_org, username, objects)

    return make


def run_sync(connection, kind=SyncRun.Kind.INITIAL, **options) -> SyncRun:
    run = sync_run_enqueue(connection=connection, kind=kind, trigger=SyncRun.Trigger.COMMAND)
    sync_run_execute(run_id=run.pk, inline=True, **options)
    run.refresh_from_db()
    return run


def blob(live_org, connection, path: str) -> str:
    """A base64 field's content, fetched the way a client would."""
    response = requests.get(
        live_org.url + path,
        headers={"Authorization": f"Bearer {connection.access_token}"},
        timeout=10,
    )
    response.raise_for_status()
    return base64.b64encode(response.content).decode()


def assert_copy_equals_org(live_org, connection, sobject, *, blobs=False) -> int:
    """Every record of the org is stored exactly once, each value equal after typing."""
    stored = ObjectCursor.objects.get(connection=connection, sobject=sobject).field_plan
    plan = FieldPlan.from_json(stored)
    stored = {
        r.sf_id: r for r in IngestedRecord.objects.filter(connection=connection, sobject=sobject)
    }
    source = list(
        live_org.org.iter_records(sobject, include_deleted=True, username=connection.sf_username)
    )
    assert len(source) == len({r["Id"] for r in source})
    # Records purged at Salesforce (or CampaignMembers, which have no recycle bin) stay here,
    # marked deleted, once a reconciliation has found them.
    gone = set(stored) - {r["Id"] for r in source}
    assert all(stored[sf_id].is_deleted for sf_id in gone), "purged records not marked"
    assert len(stored) - len(gone) == len(source)
    for record in source:
        local = stored[record["Id"]]
        expected = typed_from_rest(record, plan)
        for name in plan.rest_fields:
            if expected.get(name) and blobs:
                expected[name] = blob(live_org, connection, expected[name])
        assert local.is_deleted == bool(record["IsDeleted"])
        mismatches = {
            key: (local.data.get(key), value)
            for key, value in expected.items()
            if local.data.get(key) != value
        }
        assert not mismatches, (record["Id"], mismatches)
    return len(source)
