"""A fleet on one machine: part ``fleet`` of ``python -m bench`` (issue 16; outside CI).

    REDIS_URL=redis://127.0.0.1:6379/13 DATABASE_URL=postgres://…/fleet \\
        python -m bench --part fleet [--fleet-connections 300] [--fleet-minutes 25]

What production runs, on this machine: a multi-org emulator (``--orgs``, the ``tiny`` profile:
initial loads take seconds), PostgreSQL, Redis, two ``qcluster`` processes started as the
Makefile starts them (``make worker`` on the default queue: the scheduler tick and incremental
syncs; ``make worker-loads`` on ``INGESTION_LOADS_QUEUE``: initial loads), the scheduler tick
as ``setupschedules`` installs it (every minute) and 10-minute incremental schedules.

Every connection is made through the real OAuth flow (the services the connect and callback
views call, the emulator's consent form signed in as the org's own integration user), which
queues its initial load as for a customer. When the first scheduled incremental starts, one
larger org (``demo``, 80,000 records, an emulator of its own) connects, so its initial load
runs while the fleet's incrementals do. The part ends when every small connection has had an
incremental sync start after coming due (the big one excepted), or after ``minutes``.

Figures: sync start lag after due (run started - due; due is when connecting queued the
initial load, and the previous run's end + the interval for a scheduled incremental) p50/p95/
max by kind, the same for incrementals that started while the big load ran, the scheduler
tick's time (django-q2's task start to stop), runs taken over (the tick's count and the
workers' "looks abandoned" warnings), the big load's duration, and each cluster's RSS (the
whole process tree, and its largest process). Writes ``RESULTS-fleet.md`` to the output
directory.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection as db
from django.db import connections as db_connections
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule, Task

from bench import machine
from bench.database import database_url
from bench.org import BenchError, RateEmulator
from connections.models import Connection, Workspace
from connections.services import (
    connection_authorize_complete,
    connection_authorize_start,
    workspace_create,
)
from connections.services.lifecycle import connection_update_settings
from demo import story
from demo.browser import code_from_redirect, consent
from demo.emulator import free_port
from ingestion.models import IngestedRecord, SyncRun

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE_SLUG = "bench-fleet-syncs"
OWNER_EMAIL = "fleet@example.com"
LOADS_QUEUE = "primer_sf_loads"
TICK_FUNC = "ingestion.tasks.scheduler_tick"
RECONCILE_FUNC = "ingestion.tasks.reconcile_due"
SEED = 160
CONNECT_THREADS = 4
# The emulator holds about 100 MB per org once synced (pools and random tables sized for large
# orgs, per seed): 300 orgs outgrew a 24 GB machine. Each org is connected by up to ten
# tenants instead (two healthy users, five approvals each).
USERS_PER_ORG = ("integration", "admin")
MAX_APPROVALS = 5
FINAL = (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED, SyncRun.Status.CANCELLED)


@dataclass(frozen=True)
class FleetOptions:
    connections: int = 300
    orgs: int = 0  # emulated orgs (0: connections / 10, each connected by ten tenants)
    minutes: float = 25.0  # at most this long after the clusters start
    interval_minutes: int = 10  # each connection's incremental schedule
    profile: str = "tiny"  # the fleet's orgs
    big_profile: str = "demo"  # the one larger org, connected when incrementals begin
    workers: int = 2  # Q_WORKERS of the default cluster
    loads_workers: int = 0  # Q_LOADS_WORKERS (0: as many as workers)


class Cluster:
    """``manage.py qcluster`` below the site's CPU priority, as ``make worker`` starts it."""

    def __init__(self, name: str, env: dict, log_path: Path) -> None:
        self.name, self.log_path = name, log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["nice", "-n", "10", sys.executable, str(ROOT / "manage.py"), "qcluster"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        self.peak_tree_mb = 0.0
        self.peak_process_mb = 0.0

    def sample_rss(self) -> None:
        sizes = [_rss_mb(pid) for pid in _tree(self.process.pid)]
        self.peak_tree_mb = max(self.peak_tree_mb, sum(sizes))
        self.peak_process_mb = max(self.peak_process_mb, max(sizes, default=0.0))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # qcluster stops its own workers
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def abandoned_warnings(self) -> int:
        return self.log_path.read_text(errors="replace").count("looks abandoned")


class MultiOrgEmulator(RateEmulator):
    """``python -m emulator --orgs N``: one login host, an instance port per org."""

    def __init__(self, *, orgs: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.orgs = orgs

    def argv(self) -> list[str]:
        return [*super().argv(), "--orgs", str(self.orgs), "--threads", "16"]


def fleet_part(options: FleetOptions, log_dir: Path, out_dir: Path) -> dict:
    """Run the fleet, then its figures (also written to ``out_dir/RESULTS-fleet.md``)."""
    if not os.environ.get("REDIS_URL"):
        raise BenchError("The fleet part runs on Redis: set REDIS_URL (a Redis db of its own).")
    orgs = options.orgs or -(-options.connections // (MAX_APPROVALS * len(USERS_PER_ORG)))
    plan = fleet_plan(options.connections, orgs)
    print(
        f"\nFleet: {options.connections} connections to {orgs} orgs ({options.profile}), "
        f"{options.interval_minutes}-minute schedules, 2 clusters",
        flush=True,
    )
    tenants = _fresh_tenants(plan[-1][0] + 1)
    call_command("setupschedules", verbosity=0)
    # The hourly reconciliation an hour on, as after a fresh deploy (whose first one finds
    # nothing loaded yet): the part ends before it, whatever an earlier run left in the row.
    Schedule.objects.filter(func=RECONCILE_FUNC).update(
        next_run=timezone.now() + timedelta(hours=1)
    )
    # The fleet's orgs are 2..N+1: org 1 has the org id the big emulator's (one-org) org has.
    fleet = MultiOrgEmulator(
        orgs=orgs + 1,
        profile=options.profile,
        port=free_port(0),
        seed=SEED,
        log_path=log_dir / "fleet-emulator.log",
    )
    big = RateEmulator(
        profile=options.big_profile,
        port=free_port(0),
        seed=SEED,
        log_path=log_dir / f"fleet-emulator-{options.big_profile}.log",
    )
    clusters: list[Cluster] = []
    load_at_start = machine.load_average()
    with _loads_queue(), story.salesforce_settings(fleet.base_url):
        try:
            fleet.start(timeout=300)
            big.start(timeout=300)
            _purge_queues()
            clusters = _start_clusters(options, fleet.base_url, log_dir)
            began = time.monotonic()
            _connect_fleet(tenants, fleet.base_url, plan, options.interval_minutes)
            print(f"  connected {options.connections} in {time.monotonic() - began:.0f} s")
            ticks = _watch(tenants, options, clusters, (fleet, big), began)
        finally:
            for cluster in clusters:
                cluster.stop()
            fleet.stop()
            big.stop()
    results = _figures(tenants, options, clusters, ticks)
    results["orgs"] = orgs
    results["emulator_peak_rss_mb"] = round(fleet.peak_rss_mb)
    results["load_average"] = {"start": load_at_start, "end": round(machine.load_average(), 2)}
    _check_copies(tenants, results)
    (out_dir / "RESULTS-fleet.md").write_text(render(results))
    print(f"  wrote {out_dir / 'RESULTS-fleet.md'}", flush=True)
    return results


class _loads_queue:
    """This process queues initial loads where the loads cluster takes them, and keeps the
    alert emails connecting sends (ten tenants share each org's approvals) off the console."""

    values = {
        "INGESTION_LOADS_QUEUE": LOADS_QUEUE,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }

    def __enter__(self):
        self.saved = {name: getattr(settings, name) for name in self.values}
        for name, value in self.values.items():
            setattr(settings, name, value)

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            setattr(settings, name, value)


def _fresh_tenants(count: int) -> list[Workspace]:
    """The fleet's workspaces (tenants), emptied of an earlier run's connections; refuses a
    database where other connections are active (the tick would schedule them too)."""
    others = Connection.objects.filter(status=Connection.Status.ACTIVE).exclude(
        workspace__slug__startswith=WORKSPACE_SLUG
    )
    if others.exists():
        raise BenchError(
            "The fleet part needs a database of its own: other connections are active."
        )
    ids = list(
        Connection.objects.filter(workspace__slug__startswith=WORKSPACE_SLUG).values_list(
            "pk", flat=True
        )
    )
    # Raw deletes: the ORM cascade would load every record first.
    with db.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {IngestedRecord._meta.db_table} WHERE connection_id = ANY(%s)", [ids]
        )
    SyncRun.objects.filter(connection_id__in=ids).delete()
    Connection.objects.filter(pk__in=ids).delete()
    owner, _ = get_user_model().objects.get_or_create(
        username=OWNER_EMAIL, defaults={"email": OWNER_EMAIL}
    )
    tenants = []
    for n in range(count):
        slug = f"{WORKSPACE_SLUG}-{n}"
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            workspace = workspace_create(name=f"Fleet tenant {n}", owner=owner)
            Workspace.objects.filter(pk=workspace.pk).update(slug=slug)
        tenants.append(workspace)
    return tenants


def fleet_plan(connections: int, orgs: int) -> list[tuple[int, int, str]]:
    """(tenant, org number, username) of each connection: connection i goes to org 2 + i mod
    ``orgs`` (org 1 is left out, see ``fleet_part``) in tenant i div ``orgs``, signed in as
    the org's integration user for the first five tenants and its admin for the next five
    (Salesforce keeps five approvals per user and connected app: a sixth revokes the oldest)."""
    plan = []
    for i in range(connections):
        tenant, org = divmod(i, orgs)
        user = USERS_PER_ORG[tenant // MAX_APPROVALS]
        plan.append((tenant, org + 2, f"{user}@org{org + 2}.example.com"))
    return plan


def _purge_queues() -> None:
    for queue in (None, LOADS_QUEUE):
        get_broker(queue).purge_queue()


def _start_clusters(options: FleetOptions, login_url: str, log_dir: Path) -> list[Cluster]:
    """``make worker`` and ``make worker-loads``: the default queue and the loads queue."""
    env = _cluster_env(options, login_url, loads_queue=LOADS_QUEUE)
    return [
        Cluster("default", env, log_dir / "fleet-cluster-default.log"),
        Cluster(
            "loads", {**env, "Q_CLUSTER_NAME": LOADS_QUEUE}, log_dir / "fleet-cluster-loads.log"
        ),
    ]


def _cluster_env(options: FleetOptions, login_url: str, *, loads_queue: str) -> dict:
    """A cluster's environment: this database and Redis, the emulator as Salesforce."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "SALESFORCE_LOGIN_URL": login_url,
        "SALESFORCE_SANDBOX_LOGIN_URL": login_url,
        "SALESFORCE_ALLOWED_INSTANCE_HOSTS": "127.0.0.1",
        "SALESFORCE_INSECURE_LOOPBACK": "true",
        "INGESTION_LOADS_QUEUE": loads_queue,
        "Q_WORKERS": str(options.workers),
        "Q_LOADS_WORKERS": str(options.loads_workers),
        "LOG_LEVEL": "INFO",
    }
    env.pop("Q_CLUSTER_NAME", None)
    return env


def _connect_fleet(
    tenants: list[Workspace], login_url: str, plan: list[tuple[int, int, str]], interval: int
) -> None:
    """Every connection of ``plan`` through the OAuth flow, a few at once."""
    with ThreadPoolExecutor(CONNECT_THREADS) as pool:
        list(pool.map(lambda step: _connect(tenants[step[0]], login_url, step[2], interval), plan))


def _connect(workspace: Workspace, login_url: str, username: str, interval: int) -> Connection:
    """The OAuth web-server flow as the connect and callback views run it; connecting queues
    the initial load."""
    try:
        redirect_uri = story.SITE_URL + reverse("connections:callback")
        url, pending = connection_authorize_start(
            workspace=workspace,
            environment=Connection.Environment.PRODUCTION,
            login_url=login_url,
            redirect_uri=redirect_uri,
            label=username.split("@")[1],
        )
        code = code_from_redirect(consent(url, username=username), state=pending["state"])
        outcome = connection_authorize_complete(
            pending=pending, code=code, redirect_uri=redirect_uri
        )
        if outcome.connection.status != Connection.Status.ACTIVE:
            raise BenchError(f"{username}: the connection is {outcome.connection.status}")
        connection = outcome.connection
        if connection.sync_interval_minutes != interval:
            # A quick run's shorter schedule, saved as the customer's settings page saves it.
            connection_update_settings(
                connection=connection,
                api_budget_percent=connection.api_budget_percent,
                org_usage_ceiling_percent=connection.org_usage_ceiling_percent,
                sync_interval_minutes=interval,
            )
        return connection
    finally:
        db_connections.close_all()  # this thread's


def _watch(tenants, options, clusters, emulators, began) -> dict:
    """Sample RSS and collect tick tasks until every fleet connection has had a scheduled
    incremental start (then its run end) or time is up; connect the big org when the first
    scheduled incremental starts. Returns the tick tasks seen, by id (django-q2 keeps only
    the last ``save_limit`` tasks, so they are collected as they come)."""
    ticks, big_connection, last_print = {}, None, 0.0
    since = timezone.now() - timedelta(seconds=time.monotonic() - began)
    deadline = began + options.minutes * 60
    fleet, big = emulators
    fleet.peak_rss_mb = 0.0
    fleet_ids = list(Connection.objects.filter(workspace__in=tenants).values_list("pk", flat=True))
    while time.monotonic() < deadline:
        fleet.peak_rss_mb = max(fleet.peak_rss_mb, _rss_mb(fleet.process.pid))
        if fleet.process.poll() is not None:
            raise BenchError("The emulator exited; see its log (out of memory?)")
        for cluster in clusters:
            cluster.sample_rss()
            if cluster.process.poll() is not None:
                raise BenchError(f"The {cluster.name} cluster exited; see {cluster.log_path}")
        tasks = Task.objects.filter(func=TICK_FUNC, started__gte=since).only(
            "id", "name", "started", "result"
        )
        for task in tasks:
            ticks[task.id] = task
        scheduled = SyncRun.objects.filter(
            connection_id__in=fleet_ids,
            kind=SyncRun.Kind.INCREMENTAL,
            trigger=SyncRun.Trigger.SCHEDULE,
            started_at__isnull=False,
        )
        started = scheduled.values("connection_id").distinct().count()
        if big_connection is None and started:
            print("  first scheduled incremental started: connecting the big org", flush=True)
            big_connection = _connect(
                tenants[0], big.base_url, story.INTEGRATION_USER, options.interval_minutes
            )
        if time.monotonic() - last_print > 30:
            last_print = time.monotonic()
            _progress(fleet_ids, started, began)
        unfinished = scheduled.exclude(status__in=FINAL).exists()
        big_done = (
            big_connection is not None
            and big_connection.sync_runs.filter(
                kind=SyncRun.Kind.INITIAL, status__in=FINAL
            ).exists()
        )
        if started == len(fleet_ids) and not unfinished and big_done:
            break
        time.sleep(5)
    else:
        print(f"  stopped after {options.minutes} minutes, before every incremental ran")
    return ticks


def _progress(fleet_ids: list[int], started: int, began: float) -> None:
    initial_done = Connection.objects.filter(
        pk__in=fleet_ids, initial_sync_completed_at__isnull=False
    ).count()
    print(
        f"  {time.monotonic() - began:5.0f} s  initial loads done {initial_done}/{len(fleet_ids)}, "
        f"scheduled incrementals started {started}/{len(fleet_ids)}, "
        f"load {machine.load_average():.1f}",
        flush=True,
    )


# -- figures ------------------------------------------------------------------------------------


def start_lags(runs: list[SyncRun], interval: timedelta) -> dict[str, list[float]]:
    """Seconds from due to start of every started run, by kind ("initial", "incremental").

    An initial load is due when connecting queued it; a scheduled incremental when the
    connection's previous run ended plus its interval (``sync_run_finish`` sets that as
    ``next_sync_at``)."""
    lags: dict[str, list[float]] = {"initial": [], "incremental": []}
    previous_end: dict[int, object] = {}
    for run in sorted(runs, key=lambda r: r.created_at):
        if run.started_at is not None:
            if run.kind == SyncRun.Kind.INITIAL:
                lags["initial"].append((run.started_at - run.created_at).total_seconds())
            elif _scheduled_incremental(run) and run.connection_id in previous_end:
                due = previous_end[run.connection_id] + interval
                lags["incremental"].append((run.started_at - due).total_seconds())
        if run.finished_at is not None:
            previous_end[run.connection_id] = run.finished_at
    return lags


def _scheduled_incremental(run: SyncRun) -> bool:
    return run.kind == SyncRun.Kind.INCREMENTAL and run.trigger == SyncRun.Trigger.SCHEDULE


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[max(0, -(-95 * len(ordered) // 100) - 1)], 1),
        "max": round(ordered[-1], 1),
    }


def _figures(tenants, options, clusters, ticks) -> dict:
    interval = timedelta(minutes=options.interval_minutes)
    runs = list(SyncRun.objects.filter(connection__workspace__in=tenants))
    big = next(
        (r for r in runs if r.kind == SyncRun.Kind.INITIAL and r.connection.label == "example.com"),
        None,
    )
    fleet_runs = [r for r in runs if big is None or r.connection_id != big.connection_id]
    lags = start_lags(fleet_runs, interval)
    during_big = []
    if big is not None and big.started_at and big.finished_at:
        during = [
            r
            for r in fleet_runs
            if r.started_at and big.started_at <= r.started_at <= big.finished_at
        ]
        during_big = _lags_of(fleet_runs, during, interval)
    logged = _tick_times(clusters[0].log_path)
    tick_seconds = [end - begin for begin, end in logged.values()]
    # django-q2's task "started" is when the schedule queued it: the wait for a free worker.
    tick_waits = [
        logged[t.name][0] - t.started.timestamp() for t in ticks.values() if t.name in logged
    ]
    taken_by_ticks = sum((t.result or {}).get("taken_over", 0) for t in ticks.values())
    statuses: dict[str, int] = {}
    for run in runs:
        key = f"{run.kind} {run.status}"
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "connections": options.connections,
        "profile": options.profile,
        "interval_minutes": options.interval_minutes,
        "workers": {"default": options.workers, "loads": options.loads_workers or options.workers},
        "start_lag_seconds": {kind: percentiles(values) for kind, values in lags.items()},
        "incremental_lag_during_big_load": percentiles(during_big),
        "tick": {**percentiles(tick_seconds), "taken_over": taken_by_ticks},
        "tick_queue_wait": percentiles(tick_waits),
        "taken_over_warnings": sum(c.abandoned_warnings() for c in clusters),
        "big_load": _big_load(big, options.big_profile),
        "runs_by_kind_and_status": dict(sorted(statuses.items())),
        "cluster_rss_mb": {
            c.name: {
                "tree_peak": round(c.peak_tree_mb),
                "largest_process_peak": round(c.peak_process_mb),
            }
            for c in clusters
        },
    }


LOG_LINE = re.compile(
    r"^(\S+ \S+) INFO django-q: (?:\S+ processing (\S+) '"
    + re.escape(TICK_FUNC)
    + r"'|Processed '"
    + re.escape(TICK_FUNC)
    + r"' \((\S+)\))"
)


def _tick_times(log_path: Path) -> dict[str, tuple[float, float]]:
    """Each tick's start and end (epoch seconds) from the default cluster's log: django-q2
    logs 'processing NAME' when a worker begins a task and 'Processed … (NAME)' at its end."""
    begun, times = {}, {}
    for line in log_path.read_text(errors="replace").splitlines():
        match = LOG_LINE.match(line)
        if not match:
            continue
        when = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()
        if match[2]:
            begun[match[2]] = when
        elif match[3] in begun:
            times[match[3]] = (begun[match[3]], when)
    return times


def _lags_of(runs, chosen, interval) -> list[float]:
    """Incremental lags of ``chosen`` runs (their predecessors come from ``runs``)."""
    ids = {r.pk for r in chosen}
    lags, previous_end = [], {}
    for run in sorted(runs, key=lambda r: r.created_at):
        if run.pk in ids and _scheduled_incremental(run) and run.connection_id in previous_end:
            lags.append(
                (run.started_at - previous_end[run.connection_id] - interval).total_seconds()
            )
        if run.finished_at is not None:
            previous_end[run.connection_id] = run.finished_at
    return lags


def _big_load(run: SyncRun | None, profile: str) -> dict:
    if run is None:
        return {"profile": profile, "status": "not connected"}
    return {
        "profile": profile,
        "status": run.status,
        "records": run.records_written,
        "seconds": round(run.duration_seconds or 0.0, 1),
        "start_lag_seconds": round((run.started_at - run.created_at).total_seconds(), 1)
        if run.started_at
        else None,
    }


def _check_copies(tenants, results: dict) -> None:
    """Every finished initial load left a copy: failed runs are reported, not hidden."""
    failed = SyncRun.objects.filter(
        connection__workspace__in=tenants, status=SyncRun.Status.FAILED
    ).values_list("error_code", flat=True)
    results["failed_runs"] = len(failed)
    results["failed_codes"] = sorted(set(failed))


# -- report -------------------------------------------------------------------------------------


def render(results: dict) -> str:
    lag = results["start_lag_seconds"]
    rows = [
        "| kind | runs | p50 | p95 | max |",
        "|---|---|---|---|---|",
    ]
    for label, figures in (
        ("incremental (scheduled)", lag["incremental"]),
        ("initial load", lag["initial"]),
        ("incremental while the big load ran", results["incremental_lag_during_big_load"]),
        ("scheduler tick: its run time", results["tick"]),
        ("scheduler tick: its wait for a worker", results["tick_queue_wait"]),
    ):
        rows.append(
            f"| {label} | {figures.get('count', 0)} | {figures.get('p50', '-')} | "
            f"{figures.get('p95', '-')} | {figures.get('max', '-')} |"
        )
    p95 = lag["incremental"].get("p95")
    met = "met" if p95 is not None and p95 < 60 else "NOT met"
    big = results["big_load"]
    rss = results["cluster_rss_mb"]
    lines = [
        "# Fleet benchmark (issue 16)",
        "",
        "Generated by `python -m bench --part fleet`; do not edit by hand.",
        "",
        f"{results['connections']} connections to {results['orgs']} `{results['profile']}` orgs "
        f"of a multi-org emulator (each org connected by up to ten tenants, through the OAuth "
        f"flow), {results['interval_minutes']}-minute "
        f"incremental schedules, PostgreSQL and Redis, two `qcluster` processes: the default "
        f"queue with {results['workers']['default']} workers (scheduler tick, incrementals) and "
        f"the loads queue with {results['workers']['loads']} (initial loads). "
        f"Load average {results['load_average']['start']} at start, "
        f"{results['load_average']['end']} at end (2 shared cores).",
        "",
        "Start lag after due, seconds (run started - due):",
        "",
        *rows,
        "",
        f"- Target p95 < 60 s for scheduled incrementals: **{met}** (p95 {p95} s).",
        f"- Runs taken over: {results['tick']['taken_over']} by the ticks seen, "
        f"{results['taken_over_warnings']} 'looks abandoned' warnings in the clusters' logs.",
        f"- Big initial load (`{big['profile']}`, connected when the first scheduled "
        f"incremental started): {big.get('records', 0):,} records in {big.get('seconds')} s, "
        f"start lag {big.get('start_lag_seconds')} s, {big['status']}.",
        f"- Cluster RSS peaks (whole process tree / largest process): default "
        f"{rss['default']['tree_peak']} / {rss['default']['largest_process_peak']} MB, loads "
        f"{rss['loads']['tree_peak']} / {rss['loads']['largest_process_peak']} MB.",
        f"- Emulator peak RSS: {results.get('emulator_peak_rss_mb')} MB.",
        f"- Failed runs: {results['failed_runs']} {results['failed_codes'] or ''}",
        f"- Runs: {results['runs_by_kind_and_status']}",
        "",
    ]
    return "\n".join(lines)


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
