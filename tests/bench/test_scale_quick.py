"""``python -m bench --part scale --quick --profile demo`` end to end (a subprocess, as the
lead runs it): the tiny yardstick's syncs each with a COPY after, demo's every step with the
yardstick synced just before and after it; the copy tables are dropped, the report is its own
file."""

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
    argv = [sys.executable, "-m", "bench", "--quick", "--part", "scale", "--profile", "demo"]
    argv += ["--out-dir", str(tmp_path)]
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
            # The yardstick's copies were deleted after each of its syncs.
            yardstick = conn.execute(
                "SELECT count(*) FROM ingestion_ingestedrecord r "
                "JOIN connections_connection c ON c.id = r.connection_id "
                "JOIN connections_workspace w ON w.id = c.workspace_id WHERE w.slug = %s",
                ["bench-yardstick"],
            )
            assert yardstick.fetchone()[0] == 0
    finally:
        drop_database(DATABASE_URL)
    scale = json.loads((tmp_path / "results-scale.json").read_text())["parts"]["scale"]
    assert scale["baseline"] == "tiny"
    tiny = scale["profiles"]["tiny"]
    # Two syncs, each with a COPY into the indexed table after it.
    assert len(tiny["engine"]["seconds_of_each_run"]) == 2
    assert len(tiny["copy"]["indexed"]["rows_per_second_of_each_run"]) == 2
    assert tiny["copy"]["rows"] == tiny["engine"]["records"] > 0
    demo = scale["profiles"]["demo"]
    assert demo["read_path"]["records"] == demo["engine"]["records"] > 0
    assert demo["copy"]["rows"] == demo["engine"]["records"]
    assert demo["table"]["heap_mb"] + demo["table"]["indexes_mb"] > 0  # the partitions' sizes
    assert demo["copy"]["indexed"]["rows_per_second"] > 0
    assert "rows_per_second_of_each_run" not in demo["copy"]["indexed"]  # one sync, one COPY
    assert demo["copy"]["bare"]["index_build_seconds"] >= 0
    assert demo["yardstick"]["profile"] == "tiny"
    assert demo["yardstick"]["before"] > 0
    assert demo["yardstick"]["after"] > 0
    assert demo["reconcile"]["api_calls"] > 0
    assert demo["incremental"]["records"] > 0
    assert len(demo["audience"]["cases"]) == 4
    assert demo["disconnect"]["left"] == 0
    assert demo["disconnect"]["error_count"] == 0
    # The yardstick's syncs bracket demo's own, and leave its copy to the steps after.
    out = done.stdout
    yardstick = "Scale: the yardstick, tiny's initial sync"
    engine = out.index("Scale demo: the engine's initial sync")
    assert out.index(yardstick) < engine < out.rindex(yardstick)
    # The reconciliation runs before the bare COPYs, which at 10M empty the page cache it reads
    # through (bench/README.md: 226.8 s after them, 155.8 s before).
    assert out.index("Scale demo: reconciliation") < out.rindex("exporting the stored rows")
    assert "Scale benchmark results" in (tmp_path / "RESULTS-scale.md").read_text()
    assert not (tmp_path / "RESULTS.md").exists()
