"""``python -m bench --quick`` through its real interface (a subprocess, as CI runs it): every
part runs and reports sane figures. The benchmark always uses PostgreSQL, so this test makes
its own database there, whatever database the rest of the suite runs on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench import machine
from bench.database import create_database, drop_database
from connections.models import DEFAULT_OBJECTS
from emulator.data.profiles import PROFILES

ROOT = Path(__file__).resolve().parents[2]
# Its own database per test process: two suites running at once on one server (two CI runs, a
# developer's and CI's) must not drop each other's tables mid-run.
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/primer_sf_test_bench_{os.getpid()}"
TINY = PROFILES["tiny"]
TINY_RECORDS = sum(TINY[name] for name in DEFAULT_OBJECTS)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run for every test here: its results.json, and its output directory."""
    out_dir = tmp_path_factory.mktemp("bench")
    create_database(DATABASE_URL, drop=True)
    # Not this process's environment: the test settings set DEBUG=false and other values the
    # benchmark (local settings, DEBUG) must not inherit.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(out_dir)),
        "DATABASE_URL": DATABASE_URL,
        "DEBUG": "true",
    }
    argv = [sys.executable, "-m", "bench", "--quick", "--out-dir", str(out_dir)]
    try:
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        yield json.loads((out_dir / "results.json").read_text()), out_dir
    finally:
        drop_database(DATABASE_URL)


def test_every_part_runs(quick_run):
    results, out_dir = quick_run
    assert list(results["parts"]) == [
        "initial",
        "rest",
        "incremental",
        "memory",
        "latency",
        "audience",
        "site",
        "tick",
    ]
    assert results["options"]["quick"] is True
    assert "## Targets" in (out_dir / "RESULTS.md").read_text()


def test_the_report_names_the_servers_settings(quick_run):
    """The settings a load's speed depends on are in the report, as the server has them."""
    results, out_dir = quick_run
    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://")) as conn:
        expected = ", ".join(
            f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}"
            for name in machine.POSTGRES_SETTINGS
        )
    assert results["machine"]["postgresql_settings"] == expected
    assert f"| PostgreSQL settings | {expected} |" in (out_dir / "RESULTS.md").read_text()


def test_the_initial_sync_copies_the_whole_tiny_org_with_one_bulk_job_per_object(quick_run):
    initial = quick_run[0]["parts"]["initial"]
    assert initial["records"] == TINY_RECORDS
    assert initial["bulk_jobs"] == len(DEFAULT_OBJECTS)
    assert initial["calls_by_kind"]["job create"] == len(DEFAULT_OBJECTS)
    assert initial["api_calls"] == initial["emulator_counted"] > 0
    assert all(here == in_org for _, here, in_org in initial["copy"])
    assert 20 < initial["worker_peak_rss_mb"] < 1000
    assert initial["emulator_peak_rss_mb"] > 20


def test_rest_only_reads_the_same_records_without_bulk_jobs(quick_run):
    parts = quick_run[0]["parts"]
    rest = parts["rest"]
    assert rest["records"] == TINY_RECORDS
    assert rest["bulk_jobs"] == 0
    assert rest["calls_by_kind"]["job create"] == 0
    assert rest["calls_by_kind"]["REST page"] >= len(DEFAULT_OBJECTS)
    # The tiny org fits one REST page per object, so REST is the cheaper of the two here;
    # the ratio only favours Bulk on larger orgs.
    assert rest["ratios"]["calls"] == round(rest["api_calls"] / parts["initial"]["api_calls"], 2)


def test_the_incremental_sync_reads_the_changes(quick_run):
    incremental = quick_run[0]["parts"]["incremental"]
    assert incremental["changes"] == 100
    made = sum(n for kinds in incremental["changes_by_object"].values() for n in kinds.values())
    assert 0 < incremental["records"] <= made
    assert 0 < incremental["api_calls"] <= 25


def test_memory_compares_two_worker_peaks(quick_run):
    memory = quick_run[0]["parts"]["memory"]
    assert memory["small"]["profile"] == memory["large"]["profile"] == "tiny"
    assert memory["ratio"] == 1.0


def test_latency_times_the_whole_sync_and_contact_alone(quick_run):
    latency = quick_run[0]["parts"]["latency"]
    assert latency["processing_rate"] == 5000
    assert latency["whole"]["records"] == TINY_RECORDS
    assert latency["largest"]["objects"] == ["Contact"]
    assert latency["largest"]["records"] == TINY["Contact"]
    assert latency["ratio"] > 0


def test_audience_estimates_run_on_the_ingested_copy(quick_run):
    audience = quick_run[0]["parts"]["audience"]
    assert len(audience["cases"]) >= 3
    assert any(case["size"] > 0 for case in audience["cases"])
    for case in audience["cases"]:
        assert 0 < case["min_ms"] <= case["median_ms"] <= case["max_ms"]


def test_the_scheduler_tick_costs_the_same_queries_with_all_or_a_tenth_due(quick_run):
    tick = quick_run[0]["parts"]["tick"]
    assert tick["connections"] == 100
    assert (tick["all_due"]["started"], tick["tenth_due"]["started"]) == (100, 10)
    assert tick["all_due"]["queries"] == tick["tenth_due"]["queries"]


def test_the_site_answers_while_a_list_imports_and_an_audience_evaluates(quick_run):
    site = quick_run[0]["parts"]["site"]
    assert site["list_rows"] == 2_000
    assert site["list_status"] == "ready"
    assert site["error_count"] == 0, site["errors"]
