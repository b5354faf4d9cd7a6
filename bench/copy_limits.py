"""The database's own write limits for a copy the engine made: a bare COPY of the same rows into
a table like ``ingestion_ingestedrecord`` with all its indexes, the same into one without
secondary indexes, and building those indexes afterwards (issue 16: "engine records/s ÷ bare
COPY into the indexed table").

    python -m bench.copy_limits --connection ID [--runs 3]

Uses DATABASE_URL (the bench's database after ``python -m bench --part initial``). The rows are
dumped once to a temporary file in COPY text format and sent from this process, as the engine
sends its pages. Tables are created and dropped here; nothing else is touched.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = (
    "connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, deleted_at, "
    "first_seen_at, last_seen_at, last_sync_run_id"
)
TARGET = "bench_copy_target"
CHUNK = 1 << 20


def _dump(cursor, connection_id: int, path: Path) -> int:
    rows = 0
    with (
        path.open("wb") as out,
        cursor.copy(
            f"COPY (SELECT {COLUMNS} FROM ingestion_ingestedrecord WHERE connection_id = "
            f"{int(connection_id)}) TO STDOUT"
        ) as copy,
    ):
        for block in copy:
            out.write(block)
            rows += bytes(block).count(b"\n")
    return rows


def _copy_in(cursor, path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as source, cursor.copy(f"COPY {TARGET} ({COLUMNS}) FROM STDIN") as copy:
        while block := source.read(CHUNK):
            copy.write(block)
    return time.perf_counter() - started


def _fresh_target(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {TARGET}")
    cursor.execute(
        f"CREATE TABLE {TARGET} (LIKE ingestion_ingestedrecord INCLUDING DEFAULTS "
        "INCLUDING COMPRESSION INCLUDING STORAGE)"
    )


def _index_all(cursor) -> float:
    """The parent's keys and indexes on the target, as partitions.load_finish builds them."""
    from ingestion import partitions

    started = time.perf_counter()
    for _name, key in partitions._constraints("u") + partitions._constraints("p"):
        cursor.execute(f"ALTER TABLE {TARGET} ADD {key}")
    for number, (_name, definition) in enumerate(partitions._index_definitions()):
        cursor.execute(partitions._retarget_index(definition, f"{TARGET}_i{number}", TARGET))
    return time.perf_counter() - started


def measure(connection_id: int, runs: int) -> dict:
    from django.db import connection as db

    db.ensure_connection()
    raw = db.connection
    raw.autocommit = True
    figures: dict[str, list[float]] = {"indexed": [], "bare": [], "index_build": []}
    with tempfile.TemporaryDirectory() as tmp, raw.cursor() as cursor:
        path = Path(tmp) / "rows.copy"
        rows = _dump(cursor, connection_id, path)
        for _ in range(runs):
            _fresh_target(cursor)
            _index_all(cursor)
            figures["indexed"].append(_copy_in(cursor, path))
            _fresh_target(cursor)
            figures["bare"].append(_copy_in(cursor, path))
            figures["index_build"].append(_index_all(cursor))
        cursor.execute(f"DROP TABLE IF EXISTS {TARGET}")
    medians = {name: statistics.median(times) for name, times in figures.items()}
    return {
        "rows": rows,
        "seconds": figures,
        "indexed_rows_per_s": rows / medians["indexed"],
        "bare_rows_per_s": rows / medians["bare"],
        "bare_plus_index_rows_per_s": rows / (medians["bare"] + medians["index_build"]),
        "index_build_s": medians["index_build"],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.copy_limits")
    parser.add_argument("--connection", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from bench.database import django_setup

    django_setup()
    result = measure(args.connection, args.runs)
    for name, value in result.items():
        print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
