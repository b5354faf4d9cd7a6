"""Kill test: a real ``qcluster`` worker is SIGKILLed at random moments of an initial sync and
restarted each time; the sync ends with the org's data, every record exactly once.

Everything on our side runs in child processes against a database of its own (a SQLite file,
or a PostgreSQL database when the suite runs on PostgreSQL), exactly as in production: the
worker, the broker (django-q2's ORM broker) and the scheduler tick that takes over runs whose
heartbeat stopped.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection as test_db

from emulator import EmulatorServer, Org

ROOT = Path(django_settings.BASE_DIR)
OBJECTS = ["Lead", "Contact", "Account", "Opportunity", "Campaign", "CampaignMember"]
PAGES_AHEAD = 2  # the default: Bulk result pages fetched ahead of the one written

SETUP = """
import json, os
from connections.models import Connection, Workspace
t = json.loads(os.environ["KILLTEST_TOKENS"])
org_id, user_id = t["id"].rstrip("/").split("/")[-2:]
ws = Workspace.objects.create(name="Kill test", slug="kill-test")
c = Connection.objects.create(
    workspace=ws, label="Kill test", login_host=os.environ["SALESFORCE_LOGIN_URL"],
    instance_url=t["instance_url"], org_id=org_id, sf_user_id=user_id,
    sf_username="integration@example.com", access_token=t["access_token"],
    refresh_token=t["refresh_token"], status="active")
print(c.pk)
"""
STATUS = """
from ingestion.models import SyncRun
run = SyncRun.objects.order_by("-pk").first()
print(run.status if run else "none")
"""
TICK = """
from ingestion.services.schedule import schedule_tick
schedule_tick()
"""
DUMP = """
import json
from django.db.models import Count
from ingestion.models import IngestedRecord, SyncRun
rows = IngestedRecord.objects.values("sobject")
counts = {r["sobject"]: r["n"] for r in rows.annotate(n=Count("id"))}
distinct = {r["sobject"]: r["n"] for r in rows.annotate(n=Count("sf_id", distinct=True))}
ids = {
    s: sorted(IngestedRecord.objects.filter(sobject=s).values_list("sf_id", flat=True))
    for s in counts
}
run = SyncRun.objects.order_by("-pk").first()
print(json.dumps({
    "counts": counts, "distinct": distinct, "ids": ids, "slices": run.slices,
    "api_calls": run.api_calls,
}))
"""


def _database_url(tmp_path: Path) -> tuple[str, callable]:
    if test_db.vendor != "postgresql":
        return f"sqlite:///{tmp_path / 'kill.sqlite3'}", lambda: None
    import psycopg

    params = test_db.settings_dict
    name = f"primer_sf_kill_{uuid.uuid4().hex[:8]}"
    host, port = params["HOST"] or "127.0.0.1", params["PORT"] or 5432
    admin = f"postgresql://{params['USER']}@{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.rsplit("/", 1)[0] + f"/{name}", drop


class Side:
    """Our side of the system, as child processes sharing one database."""

    def __init__(self, env: dict) -> None:
        self.env = env
        self.worker: subprocess.Popen | None = None

    def manage(self, *args: str, extra_env: dict | None = None) -> str:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout.strip()

    def shell(self, code: str, **extra_env) -> str:
        return self.manage("shell", "-c", code, extra_env=extra_env).splitlines()[-1]

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)  # the cluster and every worker at once
            self.worker.wait(timeout=30)

    def status(self) -> str:
        return self.shell(STATUS)


@pytest.mark.slow
def test_a_worker_killed_at_random_moments_still_loads_everything_once(tmp_path):
    org = Org.from_profile("demo", seed=42)
    # Salesforce answers in tenths of a second, not the emulator's milliseconds: without the
    # latency the whole sync can finish between two kills.
    org.faults.set_spec("latency:ms=250")
    server = EmulatorServer(org, host="127.0.0.1", port=0).start()
    url, drop_database = _database_url(tmp_path)
    side = Side(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DJANGO_SETTINGS_MODULE": "primer_sf.settings",
            "DEBUG": "true",
            "DATABASE_URL": url,
            "EMULATOR_URL": server.base_url,
            "SALESFORCE_LOGIN_URL": server.base_url,
            "SALESFORCE_SANDBOX_LOGIN_URL": server.base_url,
            "Q_WORKERS": "1",
            "INGESTION_PAGE_MAX_RECORDS": "5000",
            "INGESTION_PAGES_AHEAD": str(PAGES_AHEAD),
            "INGESTION_SLICE_SECONDS": "15",
            "INGESTION_STALE_RUN_SECONDS": "4",
            "INGESTION_POLL_MAX_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    rng = random.Random(2026)
    try:
        side.manage("migrate", "--noinput")
        tokens = org.issue_tokens("integration@example.com")
        connection_id = side.shell(SETUP, KILLTEST_TOKENS=json.dumps(tokens))
        side.manage("sync", connection_id)  # queued on the ORM broker
        kills = 0
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline:
            side.start_worker()
            if kills < 4:
                time.sleep(rng.uniform(2.0, 7.0))
                side.kill_worker()
                kills += 1
                time.sleep(5)  # the run's heartbeat goes stale
                side.shell(TICK)  # the scheduler takes it over
                continue
            while time.monotonic() < deadline and side.status() in ("queued", "running"):
                time.sleep(3)
                side.shell(TICK)
            break
        side.kill_worker()
        assert side.status() == "succeeded"
        result = json.loads(side.shell(DUMP))
    finally:
        side.kill_worker()
        server.stop()
        drop_database()

    assert kills == 4
    assert result["slices"] > kills
    # Each kill loses at most the page in hand and the pages fetched ahead of it: every other
    # result page is read once, from the committed locator (invariant 6). A job left unread by
    # a kill counts one page here.
    pages = sum(max(1, -(-len(job.matches) // 5000)) for job in org.jobs.jobs.values())
    assert org.counters()["api_calls"]["bulk_results"] <= pages + kills * (1 + PAGES_AHEAD)
    # Each call is in the run's count from the moment it is made, so no kill loses one; a
    # worker killed between counting a call and sending it adds one the org never saw.
    made, _ = org.api_usage()
    assert made <= result["api_calls"] <= made + kills
    for sobject in OBJECTS:
        expected = sorted(r["Id"] for r in org.iter_records(sobject, include_deleted=True))
        assert result["counts"][sobject] == result["distinct"][sobject] == len(expected)
        assert result["ids"][sobject] == expected
