"""One sync run executed in a process of its own, so the benchmark can read its peak memory.

    python -m bench.worker RUN_ID EMULATOR_URL

Runs every slice of the run in this process (``sync_run_execute(inline=True)``), as a queue
worker would one after another, with this process's Salesforce settings pointed at the
emulator. Engine settings come from the environment (e.g. INGESTION_READ_MODE=rest).
With BENCH_DISCARD_WRITES=1 the engine runs whole but its record writer only consumes the
COPY text it made (the ``scale`` part's "read path": everything but the database's work).
With BENCH_MEMORY_TRACE=FILE, Python's allocations are traced (slower) and every
BENCH_MEMORY_EVERY seconds (30) a line goes to FILE: the resident set, the traced total,
and the allocation sites that grew most since the first sample (``memory_trace``).
Exits 0 when the run was worked on, whatever its outcome (the run row records it).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

from bench.database import django_setup

DISCARD_WRITES = "BENCH_DISCARD_WRITES"
MEMORY_TRACE = "BENCH_MEMORY_TRACE"


def discard_writes() -> None:
    """Replace the PostgreSQL record writer's per-batch write by one that only takes the
    batch's COPY text (already parsed and encoded by the engine) and reports its rows written.

    The smallest seam of ingestion/engine/records.py: reading, parsing, encoding, the
    read-ahead thread, checkpoints and run bookkeeping all run as they do for real. When the
    write path is restructured, this is the one place to follow it; it fails loudly rather
    than measuring the real writer under the wrong name.
    """
    from ingestion.engine import records

    # Through the indexes (_PostgresWriter) and into a first load's table (_LoadWriter).
    writers = [getattr(records, name, None) for name in ("_PostgresWriter", "_LoadWriter")]
    if not all(writer and "_write_batch_pg" in vars(writer) for writer in writers):
        raise RuntimeError("bench.worker: the record writer's seam moved; update discard_writes")
    if "open" not in vars(getattr(records, "_CopyLanes", object)):
        raise RuntimeError("bench.worker: the load's COPY lanes moved; update discard_writes")

    def consume(self, cursor, batch) -> int:
        len(batch.text)  # the bytes the engine made; nothing goes to the database
        return batch.rows

    for writer in writers:
        writer._write_batch_pg = consume
    # A load's lanes write over connections of their own: none is opened, so every batch
    # comes to consume above.
    records._CopyLanes.open = classmethod(lambda cls, table, count: None)


def memory_trace(path: Path, every: float) -> threading.Event:
    """Sample this process's memory from a thread until the returned event is set: what grows
    between the first sample and each later one, by the line that allocated it."""
    tracemalloc.start(8)
    stop, started = threading.Event(), time.monotonic()

    def sample(first: tracemalloc.Snapshot) -> None:
        with path.open("a") as out:
            while not stop.wait(every):
                now = tracemalloc.take_snapshot()
                traced, peak = tracemalloc.get_traced_memory()
                grown = now.compare_to(first, "traceback")[:8]
                out.write(
                    f"{time.monotonic() - started:7.0f}s rss {_rss_mb():6.1f} MB, traced "
                    f"{traced / 2**20:6.1f} MB (peak {peak / 2**20:6.1f})\n"
                )
                for stat in grown:
                    innermost = list(stat.traceback)[::-1][:4]
                    where = " < ".join(
                        f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in innermost
                    )
                    out.write(
                        f"    {stat.size_diff / 2**20:+7.1f} MB {stat.count_diff:+8} {where}\n"
                    )
                out.flush()

    threading.Thread(target=sample, args=(tracemalloc.take_snapshot(),), daemon=True).start()
    return stop


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str]) -> int:
    run_id, base_url = int(argv[0]), argv[1]
    django_setup()
    from demo.story import salesforce_settings
    from ingestion.services.sync import sync_run_execute

    if os.environ.get(DISCARD_WRITES) == "1":
        discard_writes()
    if os.environ.get(MEMORY_TRACE):
        memory_trace(
            Path(os.environ[MEMORY_TRACE]), float(os.environ.get("BENCH_MEMORY_EVERY", 30))
        )
    with salesforce_settings(base_url):
        outcome = sync_run_execute(run_id=run_id, inline=True)
    print(json.dumps(outcome), flush=True)
    # "skipped": another process holds the run's lease, so nothing here was measured.
    return 1 if outcome["status"] == "skipped" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
