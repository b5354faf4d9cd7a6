"""``python -m bench --part scale --quick`` end to end on the tiny org (a subprocess, as the
lead runs it): every step runs, the copy tables are dropped, the report is its own file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.database import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/primer_sf_test_scale_{os.getpid()}"

pytestmark = pytest.mark.slow


def test_the_scale_part_measures_every_step_and_leaves_no_copy_table(tmp_path):
    create_database(DATABASE_URL, drop=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DATABASE_URL": DATABASE_URL,
        "DEBUG": "true",
    }
    argv = [sys.executable, "-m", "bench", "--quick", "--part", "scale", "--out-dir", str(tmp_path)]
    try:
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://")) as conn:
            left = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'bench_scale%'"
            )
            assert left.fetchone()[0] == 0
            # The deferred indexes were built on the copy, never on the record table itself.
            on_records = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'bench_scale%'"
            )
            assert on_records.fetchone()[0] == 0
    finally:
        drop_database(DATABASE_URL)
    scale = json.loads((tmp_path / "results-scale.json").read_text())["parts"]["scale"]
    tiny = scale["profiles"]["tiny"]
    assert tiny["read_path"]["records"] == tiny["engine"]["records"] > 0
    assert tiny["copy"]["rows"] == tiny["engine"]["records"]
    assert tiny["table"]["heap_mb"] + tiny["table"]["indexes_mb"] > 0  # the partitions' sizes
    assert tiny["copy"]["indexed"]["rows_per_second"] > 0
    assert tiny["copy"]["bare"]["index_build_seconds"] >= 0
    assert tiny["reconcile"]["api_calls"] > 0
    assert tiny["incremental"]["records"] > 0
    assert len(tiny["audience"]["cases"]) == 4
    assert tiny["disconnect"]["left"] == 0
    assert tiny["disconnect"]["error_count"] == 0
    # The reconciliation runs before the bare COPYs, which at 10M empty the page cache it reads
    # through (bench/README.md: 226.8 s after them, 155.8 s before).
    out = done.stdout
    assert out.index("Scale tiny: reconciliation") < out.index("exporting the stored rows")
    assert "Scale benchmark results" in (tmp_path / "RESULTS-scale.md").read_text()
    assert not (tmp_path / "RESULTS.md").exists()
