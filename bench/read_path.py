"""The engine's Bulk read path alone, with writes discarded: CSV page -> records -> COPY text.

    python -m bench.read_path [--profile seed-example] [--object Contact] [--rows 100000]
                              [--repeat 3] [--cprofile]

An in-process emulator serves one real Bulk result page (the object's plan as the engine
builds it from describe, every Bulk field selected); it is read once into memory, then parsed
and turned into COPY lines ``--repeat`` times (best time reported), with nothing written. This
is the ceiling the read path puts on a load: compare it with a bare COPY into the table.
``--cprofile`` prints where the time goes. No database is needed. ``--page FILE`` keeps the
page, so two checkouts can be timed alternately on the same bytes. ``--helper`` parses as a
load does, partly in the helper process (readers.CsvPage.copy_lines; CPU time is then this
process's alone, the helper's beside it).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pickle
import pstats
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.database import django_setup

V = "62.0"


def fetch_page(profile: str, sobject: str, rows: int) -> tuple[bytes, dict]:
    """One Bulk result page of ``sobject`` (its first ``rows`` records) and its describe."""
    from emulator import EmulatorServer, Org

    server = EmulatorServer(Org.from_profile(profile, seed=42), host="127.0.0.1", port=0).start()
    try:
        token = server.org.issue_tokens("integration@example.com")["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        base = f"{server.base_url}/services/data/v{V}"
        describe = session.get(f"{base}/sobjects/{sobject}/describe", timeout=60).json()
        from ingestion.engine.plan import build_plan

        plan = build_plan(describe)
        soql = f"SELECT {', '.join(plan.bulk_fields)} FROM {sobject}"
        body = {"operation": "queryAll", "query": soql}
        job = session.post(f"{base}/jobs/query", json=body, timeout=60).json()
        while session.get(f"{base}/jobs/query/{job['id']}", timeout=60).json()["state"] != (
            "JobComplete"
        ):
            time.sleep(0.2)
        page = session.get(
            f"{base}/jobs/query/{job['id']}/results", params={"maxRecords": rows}, timeout=600
        )
        return page.content, describe
    finally:
        server.stop()


def read_path(csv_bytes: bytes, plan, sobject: str = "Contact", helper: bool = False) -> int:
    """Parse the page and build its COPY lines, as the writer's read-ahead thread does."""
    from ingestion.engine import records
    from ingestion.engine.readers import CsvPage, records_from_csv

    text = io.TextIOWrapper(io.BytesIO(csv_bytes), encoding="utf-8", newline="")
    maker = records.LineMaker(1, sobject, 1, datetime.now(UTC))
    size = 0
    if helper:
        made = CsvPage(text, plan).copy_lines(maker, BATCH)
    else:
        made = maker.lines(records.batches(records_from_csv(text, plan), BATCH))
    with getattr(records, "rare_collections", contextlib.nullcontext)():  # as write_records
        for lines in made:
            size += lines.rows
    return size


BATCH = 2000  # EngineConfig.write_batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="seed-example")
    parser.add_argument("--object", default="Contact")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--helper", action="store_true", help="parse partly in the helper")
    parser.add_argument(
        "--page", type=Path, help="keep the fetched page in this file and reuse it (A/B runs)"
    )
    args = parser.parse_args(argv)
    django_setup()
    from ingestion.engine.plan import build_plan

    started = time.monotonic()
    if args.page and args.page.exists():
        page, describe = pickle.loads(args.page.read_bytes())
    else:
        page, describe = fetch_page(args.profile, args.object, args.rows)
        if args.page:
            args.page.write_bytes(pickle.dumps((page, describe)))
    plan = build_plan(describe)
    print(
        f"{args.object} page: {len(page) / 1e6:.1f} MB, {len(plan.bulk_fields)} columns, "
        f"fetched in {time.monotonic() - started:.1f}s"
    )
    times, cpu = [], []
    for _ in range(args.repeat):
        started, used = time.perf_counter(), time.process_time()
        rows = read_path(page, plan, args.object, args.helper)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    best = min(times)
    # CPU time is the steadier figure on a shared machine: wall time counts others' work.
    print(
        f"read path: {rows:,} records, best {best:.2f}s = {rows / best:,.0f} records/s; "
        f"best CPU {min(cpu):.2f}s = {rows / min(cpu):,.0f} records per CPU second"
    )
    print("  every run: " + ", ".join(f"{rows / t:,.0f}/s" for t in times))
    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.runcall(read_path, page, plan, args.object, args.helper)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
