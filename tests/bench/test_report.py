"""The benchmark report: every figure against its target, met or NOT MET, and parts that did
not run shown as not measured."""

import subprocess
from pathlib import Path

from bench import machine, report


def sync(**figures) -> dict:
    base = {
        "label": "initial",
        "profile": "seed-example",
        "seconds": 64.0,
        "process_seconds": 65.2,
        "records": 800_000,
        "records_per_second": 12_500,
        "api_calls": 48,
        "bulk_jobs": 6,
        "worker_peak_rss_mb": 180.0,
        "emulator_peak_rss_mb": 210.0,
        "worker_cpu_seconds": 50.0,
        "emulator_cpu_seconds": 20.0,
        "postgres_cpu_seconds": 30.0,
        "calls_by_kind": {"describe": 6, "count": 6, "job create": 6, "REST page": 0},
    }
    return {**base, **figures}


def timings(median: float) -> dict:
    return {"median_ms": median, "min_ms": median - 5, "max_ms": median + 5}


def results(parts: dict) -> dict:
    machine = {"cpu": "AMD EPYC", "cores": 2, "postgresql": "15.2", "git_commit": "abc1234"}
    return {"machine": machine, "options": {"profile": "seed-example"}, "parts": parts}


PARTS = {
    "initial": sync(),
    "rest": sync(api_calls=960, seconds=150.0, ratios={"calls": 20.0, "time": 2.34}),
    "incremental": sync(
        seconds=6.5, api_calls=20, changes=1000, changes_by_object={"Lead": {"update": 3}}
    ),
    "memory": {
        "small": {"profile": "demo", "records": 80_000, "worker_peak_rss_mb": 120.0},
        "large": {"profile": "seed-example", "records": 800_000, "worker_peak_rss_mb": 180.0},
        "ratio": 1.5,
    },
    "latency": {
        "processing_rate": 5000.0,
        "largest_object": "Contact",
        "whole": sync(seconds=80.0),
        "largest": sync(seconds=70.0, objects=["Contact"]),
        "ratio": 1.08,
    },
    "tick": {
        "connections": 1000,
        "runs": 5,
        "broker": "Redis",
        "all_due": {"due": 1000, "median_seconds": 0.66, "queries": 9, "started": 1000},
        "tenth_due": {"due": 100, "median_seconds": 0.14, "queries": 9, "started": 100},
    },
    "audience": {
        "runs": 7,
        "cases": [
            {"label": "Fast", "holds": "contacts", "size": 10, **timings(120.0)},
            {"label": "Slow", "holds": "leads", "size": 20, **timings(900.0)},
        ],
    },
}


def verdicts(parts: dict) -> dict[str, str]:
    return {t.figure: t.verdict for t in report.targets(parts)}


def test_each_figure_is_judged_against_its_target():
    assert verdicts(PARTS) == {
        "initial sync, seed-example, records/s": "met (aim 20,000 not yet)",
        "API calls, initial sync of seed-example": "met",
        "API calls, REST only / Bulk": "met",
        "incremental sync after 1,000 changes, wall time": "NOT MET",
        "incremental sync after 1,000 changes, API calls": "met",
        "sync worker peak RSS, seed-example": "met",
        "sync worker peak RSS, seed-example / demo": "NOT MET",
        "with job latency: whole sync / largest object alone": "met",
        "scheduler tick, 1,000 connections all due": "met",
        "audience size: Fast": "met",
        "audience size: Slow": "NOT MET",
    }


def test_parts_that_did_not_run_are_not_measured():
    judged = verdicts({"initial": sync(records_per_second=25_000, api_calls=61)})

    assert judged["initial sync, seed-example, records/s"] == "met (aim met)"
    assert judged["API calls, initial sync of seed-example"] == "NOT MET"
    assert judged["API calls, REST only / Bulk"] == "not measured"
    assert judged["audience size estimate, seed-example"] == "not measured"


def test_the_markdown_shows_the_machine_the_targets_and_every_part():
    text = report.render(results(PARTS))

    assert "| CPU | AMD EPYC |" in text
    assert "| git commit | abc1234 |" in text
    assert "| incremental sync after 1,000 changes, wall time | < 5 s | 6.5 s | NOT MET |" in text
    assert "| API calls | 48 | 960 | 20.00x |" in text
    for heading in ("## 1-2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7."):
        assert heading in text
    assert "| 1,000 | 0.660 s | 9 | 1,000 |" in text


def test_the_markdown_of_one_part_leaves_the_others_out():
    text = report.render(results({"initial": sync()}))

    assert "## 1-2." in text
    assert "## 3." not in text
    assert "not measured" in text


def test_a_timing_not_met_says_where_the_cpu_went():
    text = report.render(results(PARTS))

    assert (
        "- incremental sync after 1,000 changes, wall time: in 6 s of wall time, CPU went to "
        "the sync worker 50 s, PostgreSQL (the whole server) 30 s, the emulator 20 s."
    ) in text
    assert "- initial sync" not in text  # met: no note


def test_repeated_initial_syncs_are_listed_beside_the_median_one():
    parts = {"initial": sync(records_per_second_of_each_run=[14_000, 12_500, 9_000])}
    text = report.render(results(parts))
    assert "ran 3 times (records/s: 14,000, 12,500, 9,000); the median run is shown" in text


def test_the_machine_table_shows_the_servers_settings_or_says_they_were_not_recorded():
    recorded = results(PARTS)
    recorded["machine"]["postgresql_settings"] = "shared_buffers 128MB, autovacuum off"
    assert "| PostgreSQL settings | shared_buffers 128MB, autovacuum off |" in report.render(
        recorded
    )
    # Results written before the settings were recorded still render.
    assert "| PostgreSQL settings | not recorded |" in report.render(results(PARTS))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_the_commit_is_clean_when_only_result_files_changed(tmp_path, monkeypatch):
    """Every report's files are rewritten by its run; other changes mark the commit."""
    # Only this repository's git: no user's or hook's configuration or environment.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "bench").mkdir()
    files = ["RESULTS.md", "results.json", "RESULTS-scale.md", "results-scale.json"]
    for name in [*files, "RESULTS-fleet.md", "scale.py"]:
        (tmp_path / "bench" / name).write_text("before\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c")
    monkeypatch.setattr(machine, "ROOT", tmp_path)
    for name in [*files, "RESULTS-fleet.md"]:
        (tmp_path / "bench" / name).write_text("after\n")
    assert machine.git_commit() == machine._git("rev-parse", "--short", "HEAD")
    (tmp_path / "bench" / "scale.py").write_text("after\n")
    assert machine.git_commit().endswith(" + uncommitted changes")
