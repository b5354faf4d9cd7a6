"""Throughput with one ``qcluster`` against two, as when a second host is added (issue 16).

    REDIS_URL=redis://127.0.0.1:6379/13 DATABASE_URL=postgres://…/fleet \\
        python -m bench.clusters [--connections 60] [--workers 2]

For each cluster count (1, then 2), ``connections`` connections to orgs of a multi-org
emulator (``tiny``, ten tenants per org as in the fleet part) are connected through the OAuth
flow while no cluster runs, so their initial loads wait on Redis; then the clusters start
(each as ``make worker`` starts it, ``workers`` workers) and the figure is syncs completed per
minute, from the clusters' start to the last run's end. Every cluster serves the one default
queue, as every host would. Prints the figures as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench.database import create_database, database_url, django_setup

BENCH_DIR = Path(__file__).resolve().parent


def measure(clusters: int, connections: int, workers: int, log_dir: Path) -> dict:
    from bench import fleet_run
    from demo import story
    from demo.emulator import free_port
    from ingestion.models import SyncRun

    orgs = -(-connections // (fleet_run.MAX_APPROVALS * len(fleet_run.USERS_PER_ORG)))
    plan = fleet_run.fleet_plan(connections, orgs)
    tenants = fleet_run._fresh_tenants(plan[-1][0] + 1)
    emulator = fleet_run.MultiOrgEmulator(
        orgs=orgs + 1,
        profile="tiny",
        port=free_port(0),
        seed=fleet_run.SEED,
        log_path=log_dir / f"clusters-{clusters}-emulator.log",
    )
    options = fleet_run.FleetOptions(workers=workers)
    running = []
    with story.salesforce_settings(emulator.base_url):
        try:
            emulator.start(timeout=300)
            fleet_run._purge_queues()
            fleet_run._connect_fleet(tenants, emulator.base_url, plan, 10)
            began = time.monotonic()
            env = fleet_run._cluster_env(options, emulator.base_url, loads_queue="")
            running = [
                fleet_run.Cluster(f"host-{n}", env, log_dir / f"clusters-{clusters}-host-{n}.log")
                for n in range(clusters)
            ]
            runs = SyncRun.objects.filter(connection__workspace__in=tenants)
            while runs.exclude(status__in=fleet_run.FINAL).exists():
                if time.monotonic() - began > 1800:
                    raise SystemExit("the runs did not finish in 30 minutes")
                time.sleep(1)
            seconds = time.monotonic() - began
        finally:
            for cluster in running:
                cluster.stop()
            emulator.stop()
    done = runs.filter(status=SyncRun.Status.SUCCEEDED).count()
    return {
        "clusters": clusters,
        "workers_per_cluster": workers,
        "syncs": done,
        "seconds": round(seconds, 1),
        "syncs_per_minute": round(done * 60 / seconds, 1),
    }


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.clusters")
    parser.add_argument("--connections", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not os.environ.get("REDIS_URL"):
        print("set REDIS_URL (a Redis database of the bench's own)")
        return 1
    create_database(database_url(), drop=False)
    django_setup()
    from django.core.management import call_command

    from bench import machine

    call_command("migrate", verbosity=0)
    log_dir = BENCH_DIR / "out"
    log_dir.mkdir(exist_ok=True)
    load = machine.load_average()
    results = [measure(n, args.connections, args.workers, log_dir) for n in (1, 2)]
    ratio = results[1]["syncs_per_minute"] / results[0]["syncs_per_minute"]
    print(
        json.dumps(
            {
                "runs": results,
                "ratio": round(ratio, 2),
                "load_average": [round(load, 2), round(machine.load_average(), 2)],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
