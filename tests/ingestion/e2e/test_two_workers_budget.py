"""Two workers, two connections of one org, PostgreSQL and Redis, as in production: the org's
ceiling holds to the call, every call is in its run's count, and a run whose worker is alive is
never taken over, though each call takes longer than the stale threshold (a worker killed
mid-run: tests/ingestion/e2e/test_kill_worker.py).

Everything on our side runs in child processes (two ``qcluster`` clusters of two workers on a
Redis broker, a scheduler ticking every half second) on a PostgreSQL database of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from emulator import EmulatorServer, Org
from tests.ingestion.e2e.test_kill_worker import ROOT, Side

REDIS = os.environ.get("PRIMER_SF_TEST_REDIS", "redis://127.0.0.1:6379/13")
DAILY, CEILING = 100, 30  # the org's allocation; syncs of both connections stop at 30 calls
LATENCY_MS, STALE_SECONDS = 3500, 3  # every call outlasts the stale threshold

SETUP = """
import json, os
from datetime import timedelta
from django.utils import timezone
from connections.models import Connection, Workspace
ids = []
for n, t in enumerate(json.loads(os.environ["TWO_TOKENS"])):
    org_id, user_id = t["id"].rstrip("/").split("/")[-2:]
    ws = Workspace.objects.create(name=f"Tenant {n}", slug=f"tenant-{n}")
    ids.append(Connection.objects.create(
        workspace=ws, label=f"Org via tenant {n}", login_host=os.environ["SALESFORCE_LOGIN_URL"],
        instance_url=t["instance_url"], org_id=org_id, sf_user_id=user_id,
        sf_username="integration@example.com", access_token=t["access_token"],
        refresh_token=t["refresh_token"], status="active", api_budget_percent=100,
        org_usage_ceiling_percent=int(os.environ["CEILING"]),
        next_sync_at=timezone.now() + timedelta(days=1)).pk)
print(" ".join(map(str, ids)))
"""
RUNS = """
import json
from connections.models import ApiUsage, OrgUsage
from django.db.models import Sum
from ingestion.models import SyncRun
runs = [
    {"status": r.status, "code": r.error_code, "calls": r.api_calls, "slices": r.slices}
    for r in SyncRun.objects.order_by("pk")
]
usage = ApiUsage.objects.aggregate(n=Sum("calls"))["n"] or 0
org = OrgUsage.objects.first()
org = {"used": org.used, "in_flight": len(org.in_flight)} if org else {}
print(json.dumps({"runs": runs, "usage": usage, "org": org}))
"""
TICKER = """
import json, os, time
from pathlib import Path
from ingestion.services.schedule import schedule_tick
stop, taken = Path(os.environ["TICKER_STOP"]), 0
while not stop.exists():
    taken += schedule_tick()["taken_over"]
    time.sleep(0.5)
print(json.dumps({"taken_over": taken}))
"""


class TwoWorkers(Side):
    """Our side with two workers and a ticker."""

    def __init__(self, env: dict) -> None:
        super().__init__(env)
        self.workers: list[subprocess.Popen] = []

    def start_worker(self) -> None:
        super().start_worker()
        self.workers.append(self.worker)

    def stop_all(self) -> None:
        for worker in self.workers:
            self.worker = worker
            self.kill_worker()


def _wait_until_both_work(side: TwoWorkers, deadline: float) -> None:
    while True:
        runs = json.loads(side.shell(RUNS))["runs"]
        if all(r["status"] == "running" and r["calls"] >= 2 for r in runs):
            return
        assert time.monotonic() < deadline, runs
        time.sleep(1)


def _wait_until_both_stop(side: TwoWorkers, deadline: float) -> dict:
    while True:
        state = json.loads(side.shell(RUNS))
        if all(r["status"] not in ("queued", "running") for r in state["runs"]):
            return state
        assert time.monotonic() < deadline, state
        time.sleep(2)


@pytest.mark.slow
def test_two_workers_keep_the_org_ceiling_and_count_every_call(database, broker, tmp_path):
    org = Org.from_profile("tiny", seed=13, api_daily_limit=DAILY)
    org.faults.set_spec(f"latency:ms={LATENCY_MS}")
    server = EmulatorServer(org, host="127.0.0.1", port=0).start()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "primer_sf.settings",
        "DEBUG": "true",
        "DATABASE_URL": database,
        "REDIS_URL": broker,
        "EMULATOR_URL": server.base_url,
        "SALESFORCE_LOGIN_URL": server.base_url,
        "SALESFORCE_SANDBOX_LOGIN_URL": server.base_url,
        # Two clusters of two workers each: a cluster's pusher takes tasks ahead for its own
        # workers, so with one worker each both syncs could wait on the same one.
        "Q_WORKERS": "2",
        "INGESTION_SLICE_SECONDS": "120",
        "INGESTION_STALE_RUN_SECONDS": str(STALE_SECONDS),
        "INGESTION_POLL_MAX_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    side = TwoWorkers(env)
    stop = tmp_path / "stop-ticker"
    ticker = None
    try:
        side.manage("migrate", "--noinput")
        tokens = [org.issue_tokens("integration@example.com") for _ in range(2)]
        ids = side.shell(SETUP, TWO_TOKENS=json.dumps(tokens), CEILING=str(CEILING)).split()
        for connection_id in ids:
            side.manage("sync", connection_id)  # queued on Redis
        ticker = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", TICKER],
            env={**env, "TICKER_STOP": str(stop)},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        side.start_worker()
        side.start_worker()
        _wait_until_both_work(side, time.monotonic() + 120)
        state = _wait_until_both_stop(side, time.monotonic() + 300)
        stop.touch()
        taken = json.loads(ticker.communicate(timeout=60)[0].strip().splitlines()[-1])
    finally:
        stop.touch()
        if ticker and ticker.poll() is None:
            ticker.kill()
        side.stop_all()
        server.stop()

    used, _ = org.api_usage()
    runs, ceiling = state["runs"], DAILY * CEILING // 100
    assert [r["code"] for r in runs] == ["org_usage_ceiling"] * 2, runs
    # Never one call past the ceiling. It may stop one short: a reading that already counts
    # the other worker's call still in flight is taken as not counting it (the safe side).
    assert ceiling - 1 <= used <= ceiling
    assert sum(r["calls"] for r in runs) == used  # every call in its run's count
    assert state["usage"] == used
    assert state["org"]["in_flight"] == 0
    assert used <= state["org"]["used"] <= used + 1
    # Without the heartbeat thread every call (3.5 s, past the 3 s threshold) would hand a
    # live run to another worker.
    assert taken["taken_over"] == 0
