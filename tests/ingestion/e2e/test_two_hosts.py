"""Capacity grows by adding hosts: two ``qcluster`` processes started as two hosts would start
them (``make worker`` on each, the same settings), sharing one PostgreSQL database and one
Redis, are handed the initial loads of several orgs' connections at once. Both take work, no
run is worked on by two workers at once or taken over, and every copy equals its org.

Everything on our side runs in child processes (README, "Capacity: more workers, more hosts");
the orgs are one multi-org emulator in this process.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict

import psycopg
import pytest

from emulator.registry import MultiOrgServer, OrgRegistry
from tests.ingestion.e2e.test_kill_worker import ROOT, Side

REDIS = os.environ.get("PRIMER_SF_TEST_REDIS_HOSTS", "redis://127.0.0.1:6379/14")
ORGS = 8
OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember")

SETUP = """
import json, os
from connections.models import Connection, Workspace
ws = Workspace.objects.create(name="Two hosts", slug="two-hosts")
ids = []
for username, t in json.loads(os.environ["HOST_TOKENS"]):
    org_id, user_id = t["id"].rstrip("/").split("/")[-2:]
    ids.append(Connection.objects.create(
        workspace=ws, label=username, login_host=os.environ["SALESFORCE_LOGIN_URL"],
        instance_url=t["instance_url"], org_id=org_id, sf_user_id=user_id,
        sf_username=username, access_token=t["access_token"],
        refresh_token=t["refresh_token"], status="active").pk)
print(" ".join(map(str, ids)))
"""
# Every initial load queued at once, by the `sync` command a user would run for each. A host
# holds at most 7 of the 8 tasks (2 in its workers, 4 in its task queue, 1 in its pusher's
# hand), so the other host takes work whatever order Redis serves the two in: queued one a
# second (a command process each), one host drained them all in one run out of three.
QUEUE_ALL = """
import os
from django.core.management import call_command
for connection_id in os.environ["CONNECTION_IDS"].split():
    call_command("sync", connection_id)
print("queued")
"""
# "Process-… processing sync-<connection>-<run>-<time> 'ingestion.tasks.sync_run_execute'"
PROCESSING = re.compile(r"processing (sync-(\d+)-(\d+)-\d+) 'ingestion\.tasks\.sync_run_execute'")


def _start_host(env: dict, log_path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(host: subprocess.Popen) -> None:
    if host.poll() is None:
        host.send_signal(signal.SIGTERM)
        try:
            host.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(host.pid, signal.SIGKILL)
            host.wait()


def _wait_until_running(log_path, deadline: float) -> None:
    while "running." not in log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, log_path.read_text(errors="replace")[-2000:]
        time.sleep(0.5)


def _runs(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT id, connection_id, status, slices FROM ingestion_syncrun ORDER BY id"
        ).fetchall()


def _wait_until_done(url: str, deadline: float, logs: dict) -> list[tuple]:
    while True:
        runs = _runs(url)
        if runs and all(status not in ("queued", "running") for _, _, status, _ in runs):
            return runs
        if time.monotonic() >= deadline:
            tails = {name: path.read_text(errors="replace")[-6000:] for name, path in logs.items()}
            pytest.fail(
                f"runs not done: {runs}\n" + "\n".join(f"== {n}\n{t}" for n, t in tails.items())
            )
        time.sleep(1)


def _copies(url: str) -> dict[str, dict[str, int]]:
    """Live records per object of each connection's copy, by org id."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.org_id, r.sobject, count(*), count(DISTINCT r.sf_id) "
            "FROM ingestion_ingestedrecord r JOIN connections_connection c "
            "ON c.id = r.connection_id WHERE NOT r.is_deleted GROUP BY 1, 2"
        ).fetchall()
    copies: dict[str, dict[str, int]] = defaultdict(dict)
    for org_id, sobject, count, distinct in rows:
        assert count == distinct, (org_id, sobject)  # every record exactly once
        copies[org_id][sobject] = count
    return copies


def _task_windows(url: str) -> dict[str, list[tuple]]:
    """django-q2's record of each sync task: (started, stopped, result) by task name."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT name, started, stopped FROM django_q_task "
            "WHERE func = 'ingestion.tasks.sync_run_execute'"
        ).fetchall()
    windows = defaultdict(list)
    for name, started, stopped in rows:
        windows[name].append((started, stopped))
    return windows


@pytest.mark.slow
def test_two_hosts_share_the_work_and_run_each_sync_once(database, broker, tmp_path):
    registry = OrgRegistry.from_profile("tiny", ORGS, seed=16)
    server = MultiOrgServer(registry, port=0).start()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "primer_sf.settings",
        "DEBUG": "true",
        "DATABASE_URL": database,
        "REDIS_URL": broker,
        "SALESFORCE_LOGIN_URL": server.base_url,
        "SALESFORCE_SANDBOX_LOGIN_URL": server.base_url,
        "Q_WORKERS": "2",
        "LOG_LEVEL": "INFO",
    }
    logs = {name: tmp_path / f"{name}.log" for name in ("host-a", "host-b")}
    side, hosts = Side(env), {}
    try:
        side.manage("migrate", "--noinput")
        tokens = [
            (org.user_list[0].username, org.issue_tokens(org.user_list[0].username))
            for org in registry.orgs
        ]
        ids = side.shell(SETUP, HOST_TOKENS=json.dumps(tokens)).split()
        for name, log_path in logs.items():
            hosts[name] = _start_host(env, log_path)
        for log_path in logs.values():
            _wait_until_running(log_path, time.monotonic() + 120)
        side.shell(QUEUE_ALL, CONNECTION_IDS=" ".join(ids))  # initial loads, on Redis
        runs = _wait_until_done(database, time.monotonic() + 300, logs)
        # The tick as the scheduler runs it: nothing is stale, so nothing is taken over.
        tick = side.shell(
            "import json; from ingestion.services.schedule import schedule_tick; "
            "print(json.dumps(schedule_tick()))"
        )
    finally:
        for host in hosts.values():
            _stop(host)
        server.stop()

    assert [status for _, _, status, _ in runs] == ["succeeded"] * ORGS
    worked = {
        name: {m.group(1): int(m.group(3)) for m in PROCESSING.finditer(path.read_text())}
        for name, path in logs.items()
    }
    # Both hosts took work, and no task was delivered to both.
    assert worked["host-a"], worked
    assert worked["host-b"], worked
    assert not set(worked["host-a"]) & set(worked["host-b"])
    # Every slice ran once, and a run's slices never overlapped (one worker at a time).
    windows = _task_windows(database)
    slices = {run_id: count for run_id, _, _, count in runs}
    tasks_per_run = defaultdict(list)
    for name, run_id in {**worked["host-a"], **worked["host-b"]}.items():
        assert len(windows[name]) == 1, name
        tasks_per_run[run_id].append(windows[name][0])
    for run_id, spans in tasks_per_run.items():
        assert len(spans) == slices[run_id]
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), spans
    for path in logs.values():
        assert "looks abandoned" not in path.read_text()
    assert json.loads(tick)["taken_over"] == 0
    # Every copy is complete: each org's live records, each once.
    copies = _copies(database)
    for org in registry.orgs:
        truth = {s: sum(1 for _ in org.iter_records(s, include_deleted=False)) for s in OBJECTS}
        assert {s: copies[org.org_id].get(s, 0) for s in OBJECTS} == truth, org.org_id
