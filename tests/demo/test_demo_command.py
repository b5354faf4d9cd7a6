"""``manage.py demo``: the whole story against a real emulator process (tiny profile), run
twice, and the ``--reconnect`` mode ``make run`` uses."""

import io
import re

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from connections.models import Connection, Workspace
from demo import story
from demo.emulator import EmulatorProcess
from emulator import Org
from ingestion.models import IngestedRecord, SyncRun
from tests.connections.emulated import _server_for


@pytest.fixture
def quick_polls(settings):
    settings.INGESTION = {
        **settings.INGESTION,
        "POLL_INITIAL_SECONDS": 0.05,
        "POLL_MAX_SECONDS": 0.2,
    }


def demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--profile", "tiny", "--changes", "100", *args, stdout=out)
    return out.getvalue()


def emulator_url(output: str) -> str:
    return re.search(r"listening on (http://127\.0\.0\.1:\d+)", output).group(1)


def counts(connection: Connection) -> tuple[int, int]:
    records = IngestedRecord.objects.filter(connection=connection)
    return records.count(), records.filter(is_deleted=True).count()


def test_the_demo_runs_the_whole_story_and_the_copy_equals_the_org(db, quick_polls, settings):
    before = settings.SALESFORCE_LOGIN_URL

    output = demo()

    connection = Connection.objects.get(workspace__slug="demo")
    assert connection.status == Connection.Status.ACTIVE
    assert connection.sf_username == "integration@example.com"
    runs = list(connection.sync_runs.order_by("pk"))
    assert [(r.kind, r.status) for r in runs] == [
        (SyncRun.Kind.INITIAL, SyncRun.Status.SUCCEEDED),
        (SyncRun.Kind.INCREMENTAL, SyncRun.Status.SUCCEEDED),
        (SyncRun.Kind.RECONCILE, SyncRun.Status.SUCCEEDED),
    ]
    assert runs[0].trigger == SyncRun.Trigger.CUSTOMER  # queued by the OAuth callback service
    assert runs[1].records_deleted > 0  # soft deletes, seen through queryAll
    assert runs[2].records_deleted > 0  # purges, found only by the reconciliation
    stored, deleted = counts(connection)
    assert stored > 400
    assert deleted > 0
    assert "The copy equals the org, and every API call is accounted for." in output
    assert "DIFF" not in output
    for heading in ("Records per object", "Runs", "API calls by kind", "Browse the result"):
        assert heading in output
    assert "\x1b[" not in output  # not a terminal: no colours, no cursor movement
    # The emulator has stopped, and this process's settings are back as they were.
    with pytest.raises(requests.ConnectionError):
        requests.get(emulator_url(output) + "/__emulator__/", timeout=2)
    assert before == settings.SALESFORCE_LOGIN_URL


def test_a_second_run_starts_over_on_the_same_connection(db, quick_polls):
    demo()
    first = Connection.objects.get(workspace__slug="demo")
    first_counts = counts(first)

    output = demo()

    again = Connection.objects.get(workspace__slug="demo")
    assert again.pk == first.pk
    assert f"an earlier demo left connection #{first.pk} with {first_counts[0]:,} records" in output
    assert "The copy equals the org" in output
    # The emulator starts from its seed and the changes are seeded: the same result again.
    assert counts(again) == first_counts
    assert again.sync_runs.filter(status=SyncRun.Status.SUCCEEDED).count() == 6
    assert Workspace.objects.filter(slug="demo").count() == 1
    users = get_user_model().objects
    assert users.get(email="ops@example.com").is_staff
    assert not users.get(email="demo@example.com").is_staff
    assert set(again.workspace.members.values_list("email", flat=True)) == {
        "ops@example.com",
        "demo@example.com",
    }


@pytest.fixture
def fresh_emulator():
    """A new emulated org (the seed the demo uses), as ``make run`` starts one."""
    server = _server_for(Org.from_profile("tiny", seed=42))
    yield server
    server.stop()


def test_reconnect_reauthorizes_the_demo_connection_against_a_fresh_emulator(
    db, fresh_emulator, connection_factory, django_user_model
):
    org_id = Org.from_profile("tiny", seed=42).org_id
    connection = connection_factory(
        workspace=story.demo_workspace(),
        org_id=org_id,
        login_host="http://127.0.0.1:1",
        instance_url="http://127.0.0.1:1",
        access_token="issued-by-an-emulator-long-gone",
        refresh_token="also-gone",
    )
    out = io.StringIO()

    call_command("demo", "--reconnect", "--emulator-url", fresh_emulator.base_url, stdout=out)

    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE
    assert connection.login_host == connection.instance_url == fresh_emulator.base_url
    assert connection.access_token != "issued-by-an-emulator-long-gone"
    assert connection.sync_runs.filter(status=SyncRun.Status.QUEUED).exists()
    assert f"Reconnected demo connection #{connection.pk}" in out.getvalue()


def test_reconnect_without_a_demo_connection_says_what_to_do(db, fresh_emulator):
    out = io.StringIO()

    call_command("demo", "--reconnect", "--emulator-url", fresh_emulator.base_url, stdout=out)

    assert "No demo connection yet: run `make demo`" in out.getvalue()
    assert not Connection.objects.exists()
    assert Workspace.objects.filter(slug="demo").exists()


def test_an_emulator_that_will_not_start_stops_the_demo_with_its_output(db, monkeypatch):
    monkeypatch.setattr(
        EmulatorProcess,
        "argv",
        lambda self: ["python3", "-c", "print('no such profile'); raise SystemExit(2)"],
    )

    with pytest.raises(CommandError, match=r"exited with code 2(.|\n)*no such profile"):
        demo()


def test_a_run_another_worker_holds_stops_the_demo_and_says_why(db, connection_factory):
    from django.utils import timezone

    connection = connection_factory()
    run = SyncRun.objects.create(
        connection=connection,
        kind=SyncRun.Kind.INITIAL,
        trigger=SyncRun.Trigger.CUSTOMER,
        status=SyncRun.Status.RUNNING,
        lease_token="held-by-a-worker",
        heartbeat_at=timezone.now(),
    )

    with pytest.raises(story.DemoError, match=r"is a worker .* running on this database"):
        story.execute(run, on_progress=lambda run, final=False: None)
