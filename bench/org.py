"""An emulated org in its own process, the bench workspace's connection to it, and sync runs
executed by a separate worker process, each measured.

Every ``BenchOrg`` starts from an empty copy: earlier copies of the bench workspace are
dropped, the table vacuumed, and the connection authorized afresh (the real OAuth flow, which
queues the initial run as for a customer).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection as db

from bench import machine
from connections.models import Connection, Workspace
from connections.services import workspace_create
from demo import story, summary
from demo.emulator import EmulatorControl, EmulatorProcess, free_port
from ingestion.models import IngestedRecord, SyncRun
from ingestion.services.sync import run_objects

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE_SLUG = "bench"
OWNER_EMAIL = "bench@example.com"
SEED = 42
TABLES = ["ingestion_ingestedrecord", "ingestion_objectcursor", "ingestion_syncrun"]
CA_BUNDLE = "REQUESTS_CA_BUNDLE"

# The client names each call; the report groups them the way Salesforce bills the work.
CALL_GROUPS = {
    "describe": ("describe", "describe_global"),
    "count": ("count",),
    "job create": ("bulk_create",),
    "poll": ("bulk_poll",),
    "result page": ("bulk_results", "bulk_result_pages"),
    "REST page": ("query", "query_more"),
}


class BenchError(Exception):
    """A run failed, the copy differs from the org, or a process would not start."""


@dataclass
class Sync:
    """One measured sync run: time, volume, API calls, memory and where the CPU went."""

    label: str
    profile: str
    run_id: int
    objects: list[str]
    seconds: float
    process_seconds: float
    records: int
    records_deleted: int
    records_per_second: float
    api_calls: int
    calls_by_kind: dict[str, int]
    emulator_counted: int
    bulk_jobs: int
    worker_peak_rss_mb: float
    emulator_peak_rss_mb: float | None
    worker_cpu_seconds: float
    emulator_cpu_seconds: float
    postgres_cpu_seconds: float | None
    copy: list[list] = field(default_factory=list)


def group_calls(by_kind: dict[str, int]) -> dict[str, int]:
    """The client's call kinds in the report's groups; anything else is "other"."""
    grouped = {name: sum(by_kind.get(k, 0) for k in kinds) for name, kinds in CALL_GROUPS.items()}
    known = {k for kinds in CALL_GROUPS.values() for k in kinds}
    grouped["other"] = sum(n for k, n in by_kind.items() if k not in known)
    return grouped


class RateEmulator(EmulatorProcess):
    """The demo's emulator process, optionally with Salesforce-like Bulk job latency, and
    optionally over HTTPS (``cert_file``: where it writes the certificate it makes)."""

    def __init__(
        self, *, processing_rate: float | None = None, cert_file: Path | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.processing_rate = processing_rate
        self.cert_file = cert_file
        if cert_file:
            self.base_url = f"https://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        rate = self.processing_rate
        tls = ["--tls", "--cert-file", str(self.cert_file)] if self.cert_file else []
        return super().argv() + (["--processing-rate", str(rate)] if rate else []) + tls

    def start(self, timeout: float = 60.0) -> RateEmulator:
        if self.cert_file:
            self.cert_file.unlink(missing_ok=True)  # an older run's, for another key
        return super().start(timeout)

    def _wait_until_ready(self, timeout: float) -> None:
        # Over HTTPS the control API can be trusted only once the certificate is written.
        deadline = time.monotonic() + timeout
        while self.cert_file and not self.cert_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                break  # the base class reports the exit or the timeout
            time.sleep(0.1)
        super()._wait_until_ready(max(deadline - time.monotonic(), 1.0))


def bench_workspace(slug: str = WORKSPACE_SLUG) -> Workspace:
    """The benchmark's own workspace (never the demo's), created once; ``slug`` names another
    of its own (the scale part's yardstick runs beside the copy it measures)."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is not None:
        return workspace
    owner, _ = get_user_model().objects.get_or_create(
        username=OWNER_EMAIL, defaults={"email": OWNER_EMAIL}
    )
    workspace = workspace_create(name=f"Bench ({slug})", owner=owner)
    Workspace.objects.filter(pk=workspace.pk).update(slug=slug)
    workspace.slug = slug
    return workspace


def vacuum_analyze(tables: list[str] = TABLES) -> None:
    """Fresh planner statistics and visibility maps, so each measurement starts alike."""
    with db.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def clear_copies(workspace: Workspace) -> None:
    """Drop every copy the workspace holds. TRUNCATE when the table holds nothing else (a
    dedicated bench database): deleting 800,000 rows would cost more than a measurement.

    In a workspace other than the bench's own, beside other copies (the scale part's
    yardstick, synced beside the 10M copy the part goes on measuring), the record table is not
    vacuumed: at 10M that takes minutes and would change what the later steps measure."""
    alone = not IngestedRecord.objects.exclude(connection__workspace=workspace).exists()
    if alone:
        with db.cursor() as cursor:
            # CASCADE empties the audience tables that point at records, all of them ours.
            cursor.execute(f"TRUNCATE {IngestedRecord._meta.db_table} CASCADE")
    for connection in workspace.connections.all():
        story.start_over(connection)
    vacuum_analyze(TABLES if alone or workspace.slug == WORKSPACE_SLUG else TABLES[1:])


def median_run(runs: list[Sync]) -> Sync:
    """The run of median wall time (the machine is shared: one run can be unlucky)."""
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


class BenchOrg:
    """A context manager: the emulator running, this process's Salesforce settings on it."""

    def __init__(
        self,
        *,
        profile: str,
        log_dir: Path,
        processing_rate: float | None = None,
        tls: bool = False,
        workspace: str = WORKSPACE_SLUG,
    ):
        self.profile = profile
        self.log_dir = log_dir
        self.workspace_slug = workspace
        name = f"emulator-{profile}" + (f"-rate{processing_rate:g}" if processing_rate else "")
        name += "" if workspace == WORKSPACE_SLUG else f"-{workspace}"
        self.emulator = RateEmulator(
            profile=profile,
            port=free_port(0),
            seed=SEED,
            log_path=log_dir / f"{name}.log",
            processing_rate=processing_rate,
            cert_file=log_dir / f"{name}-cert.pem" if tls else None,
        )
        self.control = EmulatorControl(self.emulator.base_url, timeout=120)
        self.connection: Connection | None = None
        self._settings = story.salesforce_settings(self.emulator.base_url)
        self._ca_bundle = os.environ.get(CA_BUNDLE)

    def __enter__(self) -> BenchOrg:
        if self.emulator.cert_file:
            # requests (our client, the OAuth calls, the control API) trusts the emulator's
            # certificate through the environment; the worker processes inherit it.
            os.environ[CA_BUNDLE] = str(self.emulator.cert_file)
        self.emulator.start()
        self._settings.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._settings.__exit__(*exc)
        self.emulator.stop()
        if self.emulator.cert_file:
            if self._ca_bundle is None:
                os.environ.pop(CA_BUNDLE, None)
            else:
                os.environ[CA_BUNDLE] = self._ca_bundle

    # -- connecting -------------------------------------------------------------------------
    def connect(self) -> SyncRun:
        """Empty copy, fresh authorization; returns the initial run connecting queued."""
        workspace = bench_workspace(self.workspace_slug)
        clear_copies(workspace)
        existing = story.demo_connection(workspace, self.control.summary()["org_id"])
        outcome = story.connect(
            workspace=workspace, login_url=self.emulator.base_url, connection=existing
        )
        self.connection = outcome.connection
        return story.queued_run(self.connection)

    # -- running ----------------------------------------------------------------------------
    def execute(
        self,
        run: SyncRun,
        *,
        label: str,
        read_mode: str = "auto",
        surplus: dict | None = None,
        env: dict[str, str] | None = None,
        check_copy: bool = True,
    ) -> Sync:
        """Run ``run`` in a worker process and measure it; BenchError unless it succeeded and
        the copy of its objects equals the org's live records (give or take ``surplus``:
        records per object the org deleted without a trace, see ``_copy``). ``env``: more
        environment for the worker; ``check_copy`` False when its writes were discarded."""
        print(f"  {label}: run #{run.pk} ({self.profile}) ...", flush=True)
        counters = self.control.counters()
        cpu = self._cpu()
        started = time.monotonic()
        usage = self._work(run, label, {"INGESTION_READ_MODE": read_mode, **(env or {})})
        process_seconds = time.monotonic() - started
        time.sleep(0.2)  # let the postmaster reap the worker's backend, so its CPU is counted
        sync = self._measured(run, label, usage, process_seconds, counters, cpu)
        if check_copy:
            self._copy(sync, surplus or {})
        print(
            f"    {sync.records:,} records in {sync.seconds:.1f}s "
            f"({sync.records_per_second:,.0f}/s), {sync.api_calls} API calls, "
            f"{sync.bulk_jobs} Bulk jobs, worker peak {sync.worker_peak_rss_mb:.0f} MB",
            flush=True,
        )
        return sync

    def _work(self, run: SyncRun, label: str, extra_env: dict[str, str]):
        log_path = self.log_dir / f"worker-{label.replace(' ', '-').replace(',', '').lower()}.log"
        env = {**os.environ, **extra_env}
        argv = [sys.executable, "-m", "bench.worker", str(run.pk), self.emulator.base_url]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )
        usage = _wait(process, run)
        if process.returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
            raise BenchError(f"{label}: the worker exited {process.returncode}:\n{tail}")
        return usage

    def _cpu(self) -> tuple[float, float | None]:
        emulator = machine.cpu_seconds(self.emulator.process.pid)
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        return emulator, machine.postgres_cpu_seconds(backend)

    def _measured(self, run, label, usage, process_seconds, counters, cpu) -> Sync:
        run.refresh_from_db()
        if run.status != SyncRun.Status.SUCCEEDED:
            raise BenchError(f"{label}: run #{run.pk} ended {run.status}: {run.error_message}")
        objects = run_objects(run)
        _, counted, _ = summary.counters_between(counters, self.control.counters())
        emulator_cpu, postgres_cpu = self._cpu()
        seconds = run.duration_seconds or 0.0
        return Sync(
            label=label,
            profile=self.profile,
            run_id=run.pk,
            objects=objects,
            seconds=round(seconds, 2),
            process_seconds=round(process_seconds, 2),
            records=run.records_written,
            records_deleted=run.records_deleted,
            records_per_second=round(run.records_written / seconds) if seconds else 0.0,
            api_calls=run.api_calls,
            calls_by_kind=group_calls(run.api_calls_by_kind),
            emulator_counted=counted,
            bulk_jobs=run.bulk_jobs,
            worker_peak_rss_mb=round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
            emulator_peak_rss_mb=_round(machine.peak_rss_mb(self.emulator.process.pid)),
            worker_cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2),
            emulator_cpu_seconds=round(emulator_cpu - cpu[0], 2),
            postgres_cpu_seconds=_round(
                postgres_cpu - cpu[1] if None not in (postgres_cpu, cpu[1]) else None
            ),
        )

    def _copy(self, sync: Sync, surplus: dict[str, int]) -> None:
        """Per object of the run, live records here and live in the org into ``sync.copy``;
        BenchError if any differ (the check the quick mode exists for).

        Objects without a recycle bin (CampaignMember) are hard-deleted: no incremental query
        sees that, only the next reconciliation, so the copy still holds ``surplus`` of them.
        """
        rows, _ = summary.record_rows(self.connection, self.control)
        ours = [row for row in rows if row[0] in sync.objects]
        differ = [row[0] for row in ours if row[3] - surplus.get(row[0], 0) != row[4]]
        if differ:
            raise BenchError(f"{sync.label}: the copy differs from the org for {', '.join(differ)}")
        sync.copy = [[row[0], row[3], row[4]] for row in ours]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _wait(process: subprocess.Popen, run: SyncRun, every: float = 15.0):
    """Reap the worker with its resource usage (ru_maxrss is its peak RSS), printing progress
    from the run row meanwhile."""
    started = last = time.monotonic()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage
        time.sleep(0.1)
        if time.monotonic() - last >= every:
            last = time.monotonic()
            row = SyncRun.objects.filter(pk=run.pk).values("records_written", "api_calls").get()
            print(
                f"    {last - started:5.0f}s  {row['records_written']:,} records, "
                f"{row['api_calls']} API calls",
                flush=True,
            )
