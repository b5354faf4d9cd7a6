"""The ``scale`` part (issue 16): the engine against this machine's own limits, and the
10-million-record (``enterprise``) figures beside seed-example's, in one run.

    python -m bench --part scale [--profile seed-example|enterprise] [--copy-limit N]

For each profile (seed-example always, as the yardstick of the ratio targets; then the one
asked for), from an empty copy each time:

- ``read_path``: the real engine in the bench worker with its record writer replaced by one
  that only consumes the COPY text it made (``bench.worker.discard_writes``), against an
  emulated org of its own, so the initial sync below meets a freshly started org as every
  customer's first sync does (an emulator that has served 10M records is ~400 MB larger);
- ``engine``: the initial sync itself; for the yardstick, run three times, each followed by
  a bare COPY of the same rows into the indexed table (``copy`` below), so each ratio of the
  two compares runs a minute apart;
- for the profile asked for only: ``yardstick``, one initial sync of seed-example just before
  its own and one just after, each in a workspace of its own (the copy measured stays), so
  the 10M ÷ seed-example ratio brackets the 10M sync in time: a shared machine's speed moves
  by up to 1.5x in the half hour between seed-example's steps and the 10M sync;
- for the profile asked for only: ``incremental`` after 10,000 changes and the audience size
  estimates of ``audience_size.py``, on the copy as the sync left it;
- ``reconcile``: a reconciliation run on the copy;
- ``copy``: the stored rows exported once to a file (outside the timing), then a bare COPY of
  them into a table made ``LIKE ingestion_ingestedrecord INCLUDING ALL`` (its indexes, LZ4
  storage, and its foreign keys added), and into the same without secondary indexes (then
  building them, timed apart). After the org's own steps: at 10M it streams ~65 GB of export
  file and copy tables through the page cache, which no customer's database does between a
  sync and the next (measured after it: the incremental 13.3 s against 6.9 s, the estimates
  up to 1.5x slower, the reconciliation 226.8 s against 149.2 s on a machine that kept the
  10M copy cached, while seed-example's 800K stay cached either way);
- for the profile asked for only: disconnect with data deletion (the purge of
  bench/disconnect.py in a child process) while the site is probed over HTTP.

The sync worker's peak RSS on ``demo`` is measured too, for the memory target.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import psycopg
from django.db import connection as db

from bench import machine, site_load
from bench.org import BenchOrg, median_run
from bench.worker import DISCARD_WRITES
from demo import story
from demo.emulator import free_port
from ingestion.models import IngestedRecord, SyncRun

TABLE = IngestedRecord._meta.db_table
COLUMNS = (
    "connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, deleted_at, "
    "first_seen_at, last_seen_at, last_sync_run_id"
)
INDEXED, BARE = "bench_scale_copy_indexed", "bench_scale_copy_bare"
CHUNK = 1 << 20  # bytes handed to COPY at a time, as the engine hands it a batch
# In the order they run.
ALL_STEPS = ("read_path", "engine", "incremental", "audience", "reconcile", "copy", "disconnect")
BASELINE_STEPS = ("read_path", "engine", "reconcile", "copy")
PARTIAL = "scale-partial.json"
YARDSTICK = "bench-yardstick"  # the workspace of the yardstick's bracketing syncs


def scale_part(options) -> dict:
    """The figures of every profile, by profile name, and the demo's worker peak RSS."""
    results: dict = {"profile": options.profile, "load_average_at_start": _load()}

    def save() -> None:
        # After every step: an hour-long run that must be stopped still leaves its figures
        # (python -m bench --render-scale PARTIAL_JSON).
        partial = {**results, "load_average_at_end": _load()}
        (options.log_dir / PARTIAL).write_text(json.dumps(partial, indent=2) + "\n")

    skip = set(options.scale_skip)  # the profile asked for's: the yardstick runs whole
    small = options.small_profile  # demo; tiny in the quick mode
    print(f"\nScale: initial sync of {small}, for the worker's memory", flush=True)
    with BenchOrg(profile=small, log_dir=options.log_dir, tls=options.tls) as org:
        results["demo"] = asdict(org.execute(org.connect(), label=f"scale {small}"))
    baseline = options.scale_yardstick
    profiles = [baseline] + ([options.profile] if options.profile != baseline else [])
    results["baseline"], results["profiles"] = baseline, {}
    for profile in profiles:
        if profile == options.profile:
            steps = tuple(step for step in ALL_STEPS if step not in skip)
        else:
            steps = BASELINE_STEPS
        results["profiles"][profile] = {}
        runs = options.scale_yardstick_runs if profile == baseline else 1
        yardstick = baseline if profile != baseline else None
        measure_profile(
            profile, steps, options, results["profiles"][profile], save, runs, yardstick
        )
    results["load_average_at_end"] = _load()
    return results


def _load() -> float:
    return round(machine.load_average(), 2)


def measure_profile(
    profile: str,
    steps: tuple[str, ...],
    options,
    out: dict,
    save,
    runs: int = 1,
    yardstick: str | None = None,
) -> dict:
    """The steps asked for on ``profile``, their figures into ``out``; ``save`` after each.
    The initial sync runs ``runs`` times (initial_syncs), each followed by an indexed bare
    COPY when there are several; ``yardstick``'s initial sync runs just before it and just
    after (yardstick_sync)."""
    out.update(profile=profile, steps=list(steps))
    if "read_path" in steps:
        out["read_path"] = read_path(profile, options)
        save()
    if yardstick:
        out["yardstick"] = {"profile": yardstick, "before": yardstick_sync(yardstick, options)}
        save()
    paired = None
    with BenchOrg(profile=profile, log_dir=options.log_dir, tls=options.tls) as org:
        print(f"\nScale {profile}: the engine's initial sync", flush=True)
        if "copy" in steps and runs > 1:
            paired = PairedCopies(org, options.log_dir, options.copy_limit)
        out["engine"] = initial_syncs(org, profile, runs, paired)
        out["table"] = table_size()
        save()
        if yardstick:
            out["yardstick"]["after"] = yardstick_sync(yardstick, options)
            save()
        if "incremental" in steps:
            from bench.parts import _incremental

            out["incremental"] = _incremental(org, options.scale_changes)
            save()
        if "audience" in steps:
            from bench.parts import _audience

            out["audience"] = _audience(org, options.audience_runs)
            save()
        if "reconcile" in steps:
            print(f"\nScale {profile}: reconciliation", flush=True)
            run = story.enqueue(org.connection, SyncRun.Kind.RECONCILE)
            out["reconcile"] = asdict(org.execute(run, label=f"scale {profile} reconcile"))
            save()
        if "copy" in steps:
            # As many rows as the initial sync wrote: those an incremental added come last.
            limit = min(options.copy_limit or out["engine"]["records"], out["engine"]["records"])
            out["copy"] = bare_copies(org.connection.pk, options.log_dir, limit, paired)
            save()
        if "disconnect" in steps:
            out["disconnect"] = disconnect(org.connection, options.log_dir, options.purge_seconds)
            save()
    return out


def initial_syncs(org, profile: str, runs: int, paired: PairedCopies | None = None) -> dict:
    """The initial sync, each time from an empty copy: the median run's figures, and every
    run's wall time. Both ratio targets divide by the yardstick's, a half-minute run that one
    unlucky moment of a shared machine moves by a tenth (30.9 to 35.0 s in three scale parts
    on one machine, one run each); the steps after it use the last run's copy. ``paired``:
    its COPY timed after each run."""
    syncs = []
    for _ in range(runs):
        syncs.append(org.execute(org.connect(), label=f"scale {profile} initial"))
        if paired is not None:
            paired.after(syncs[-1])
    return {**asdict(median_run(syncs)), "seconds_of_each_run": [s.seconds for s in syncs]}


def yardstick_sync(profile: str, options) -> float:
    """The seconds of one initial sync of ``profile`` in the yardstick's workspace, against an
    emulated org of its own; its copy is deleted after (a dropped partition)."""
    print(f"\nScale: the yardstick, {profile}'s initial sync", flush=True)
    with BenchOrg(
        profile=profile, log_dir=options.log_dir, tls=options.tls, workspace=YARDSTICK
    ) as org:
        sync = org.execute(org.connect(), label=f"scale {profile} yardstick")
        story.start_over(org.connection)
    return sync.seconds


def read_path(profile: str, options) -> dict:
    """The initial sync with its writes discarded, against an emulated org of its own."""
    print(f"\nScale {profile}: the engine with writes discarded", flush=True)
    with BenchOrg(profile=profile, log_dir=options.log_dir, tls=options.tls) as org:
        sync = org.execute(
            org.connect(),
            label=f"scale {profile} read path",
            env={DISCARD_WRITES: "1"},
            check_copy=False,
        )
    return asdict(sync)


def table_size() -> dict:
    """The record table's heap (with TOAST) and index sizes, in MB."""
    with db.cursor() as cursor:
        # Summed over the partitions: a partitioned table has no storage of its own.
        cursor.execute(
            "SELECT coalesce(sum(pg_table_size(relid)), 0)::bigint, "
            "coalesce(sum(pg_indexes_size(relid)), 0)::bigint "
            "FROM pg_partition_tree(%s) WHERE isleaf",
            [TABLE],
        )
        heap, indexes = cursor.fetchone()
    return {"heap_mb": round(heap / 2**20, 1), "indexes_mb": round(indexes / 2**20, 1)}


# --- the machine's limits: a bare COPY of the same rows ------------------------------------


class PairedCopies:
    """A bare COPY into the indexed table right after each initial sync, of the rows the
    first one stored (exported once, outside the timing): each engine ÷ COPY ratio then
    compares runs a minute apart, where one COPY after every step compared runs up to ten
    minutes apart, on a machine whose speed drifts by up to 1.5x in that time."""

    def __init__(self, org, work_dir: Path, limit: int | None):
        self.org, self.limit = org, limit
        self.path = work_dir / "scale-copy.tsv"
        self.rows: int | None = None
        self.indexed: list[dict] = []

    def after(self, sync) -> None:
        if self.rows is None:
            print("  exporting the stored rows for the bare COPY ...", flush=True)
            limit = min(self.limit or sync.records, sync.records)
            self.rows = export(self.org.connection.pk, self.path, limit)
        self.indexed.append(timed_copy(self.path, self.rows, INDEXED, secondary_indexes=True))


def bare_copies(
    connection_id: int, work_dir: Path, limit: int | None, paired: PairedCopies | None = None
) -> dict:
    """The connection's stored rows, exported once, COPied into an identical table with its
    indexes and into one without its secondary indexes (then indexed), each timed. With
    ``paired``, its file and its COPYs into the indexed table: the median one's figures,
    and each one's rows/s."""
    path = work_dir / "scale-copy.tsv"
    try:
        if paired is None or paired.rows is None:
            print("  exporting the stored rows for the bare COPY ...", flush=True)
            rows = export(connection_id, path, limit)
            indexed = [timed_copy(path, rows, INDEXED, secondary_indexes=True)]
        else:
            rows, indexed = paired.rows, paired.indexed
        bare = timed_copy(path, rows, BARE, secondary_indexes=False)
    finally:
        path.unlink(missing_ok=True)
        drop_copy_tables()
    median = dict(sorted(indexed, key=lambda run: run["seconds"])[len(indexed) // 2])
    size = median.pop("bytes")
    if len(indexed) > 1:
        median["rows_per_second_of_each_run"] = [run["rows_per_second"] for run in indexed]
    return {"rows": rows, "bytes": size, "indexed": median, "bare": bare}


def export(connection_id: int, path: Path, limit: int | None) -> int:
    """COPY the connection's rows, in the order they were written, to ``path``."""
    sql = f"COPY (SELECT {COLUMNS} FROM {TABLE} WHERE connection_id = %s ORDER BY id"
    sql += f" LIMIT {int(limit)}) TO STDOUT" if limit else ") TO STDOUT"
    rows = 0
    with (
        db.cursor() as cursor,
        path.open("wb") as out,
        cursor.cursor.copy(sql, [connection_id]) as copy,
    ):
        for data in copy:
            out.write(data)
            rows += bytes(data).count(b"\n")
    return rows


def _create(cursor, name: str, *, secondary_indexes: bool) -> list[str]:
    """The table ``name`` like the record table (storage, compression, defaults, its foreign
    keys); with or without its secondary indexes. Returns the CREATE INDEX statements of
    the indexes left out."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    like = "INCLUDING ALL" + ("" if secondary_indexes else " EXCLUDING INDEXES")
    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} {like})")
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    for n, (_, definition) in enumerate(cursor.fetchall()):
        cursor.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_fk{n} {definition}")
    if secondary_indexes:
        return []
    cursor.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        [TABLE],
    )
    # On PostgreSQL the record table is partitioned: its indexes read "ON ONLY public.…", and
    # left so, the statement would index the parent instead of the copy.
    target = re.compile(rf" ON (?:ONLY )?(?:public\.)?{TABLE} ")
    return [
        target.sub(f" ON {name} ", definition, count=1).replace(
            f"INDEX {index} ", f"INDEX {name}_{n} "
        )
        for n, (index, definition) in enumerate(cursor.fetchall())
    ]


def timed_copy(path: Path, rows: int, name: str, *, secondary_indexes: bool) -> dict:
    """COPY the file into a fresh table ``name`` in one transaction on a connection of its own,
    streamed in 1 MB chunks; then (without secondary indexes) build them, timed apart."""
    url = db.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        host=url["HOST"], port=url["PORT"] or 5432, dbname=url["NAME"], user=url["USER"],
        password=url["PASSWORD"] or None,
    )  # fmt: skip
    label = "with its indexes" if secondary_indexes else "without secondary indexes"
    print(f"  bare COPY of {rows:,} rows {label} ...", flush=True)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        deferred = _create(cursor, name, secondary_indexes=secondary_indexes)
        conn.commit()
        backend = conn.info.backend_pid
        before = _cpu(backend)
        started, size = time.monotonic(), 0
        with cursor.copy(f"COPY {name} ({COLUMNS}) FROM STDIN") as copy, path.open("rb") as src:
            while chunk := src.read(CHUNK):
                copy.write(chunk)
                size += len(chunk)
        conn.commit()
        seconds = time.monotonic() - started
        after = _cpu(backend)
        started = time.monotonic()
        for statement in deferred:
            cursor.execute(statement)
        conn.commit()
        indexing = time.monotonic() - started
        cursor.execute(f"DROP TABLE {name}")  # at 10M, gigabytes the next COPY needs
        conn.commit()
    result = {
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if seconds else 0,
        "backend_cpu_seconds": round(after[0] - before[0], 2),
        "postgres_cpu_seconds": _delta(after[1], before[1]),
        "client_cpu_seconds": round(after[2] - before[2], 2),
        "bytes": size,
    }
    if deferred:
        result["index_build_seconds"] = round(indexing, 2)
        result["with_index_build_rows_per_second"] = round(rows / (seconds + indexing))
    print(f"    {result['rows_per_second']:,} rows/s in {seconds:.1f} s", flush=True)
    return result


def _cpu(backend: int) -> tuple[float, float | None, float]:
    return machine.cpu_seconds(backend), machine.postgres_cpu_seconds(backend), time.process_time()


def _delta(after: float | None, before: float | None) -> float | None:
    return None if None in (after, before) else round(after - before, 2)


def drop_copy_tables() -> None:
    with db.cursor() as cursor:
        for name in (INDEXED, BARE):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


# --- disconnect with data deletion, while the site is used -----------------------------------


def _purge_env(purge_seconds: float | None) -> dict[str, str]:
    from bench.disconnect import PURGE_SECONDS

    env = {k: v for k, v in os.environ.items() if k != PURGE_SECONDS}
    return {**env, PURGE_SECONDS: str(purge_seconds)} if purge_seconds else env


def disconnect(connection, log_dir: Path, purge_seconds: float | None = None) -> dict:
    """The batched purge of the connection's records in a child process (bench/disconnect.py),
    with the site served (waitress) and probed by a signed-in member of the workspace."""
    print(f"\nDisconnect with data deletion of {connection}, the site probed", flush=True)
    _member(connection.workspace)
    records = IngestedRecord.objects.filter(connection=connection).count()
    port = free_port(0)
    server = site_load._server(_database_url(), port, log_dir / "scale-site-server.log")
    timings = site_load.Timings()
    prober = site_load.Prober(f"http://127.0.0.1:{port}", timings)
    try:
        site_load._wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        prober.start()
        time.sleep(8)
        prober.phase = "during the purge"
        child = subprocess.run(
            [sys.executable, str(Path(__file__).parent / "disconnect.py"), "--child", "purge",
             str(connection.pk)],
            capture_output=True, text=True, check=True, env=_purge_env(purge_seconds),
        )  # fmt: skip
        prober.phase = "after"
        time.sleep(3)
    finally:
        prober.stopped.set()
        prober.join(timeout=70)
        server.terminate()
        server.wait(timeout=30)
    purged = json.loads(child.stdout.strip().splitlines()[-1])
    purged["deleted"] = purged.get("deleted", records - purged["left"])
    purged["records_per_second"] = round(purged["deleted"] / purged["seconds"])
    requests = timings.summary()
    during = requests.get("during the purge audiences page", {})
    print(
        f"    purged {purged['deleted']:,} in {purged['seconds']:.0f} s, peak "
        f"{purged['rss_peak_mb']} MB; audiences page p95 {during.get('p95_ms')} ms during it",
        flush=True,
    )
    return {**purged, "records": records, "requests": requests, "error_count": len(timings.errors),
            "errors": timings.errors[:10]}  # fmt: skip


def _database_url() -> str:
    from bench.database import database_url

    return database_url()


def _member(workspace) -> None:
    """The site bench's user, a member of ``workspace`` (the prober signs in as it)."""
    from django.contrib.auth import get_user_model

    from connections.models import Membership

    user, _ = get_user_model().objects.get_or_create(
        username=site_load.EMAIL, defaults={"email": site_load.EMAIL}
    )
    user.set_password(site_load.PASSWORD)
    user.save()
    Membership.objects.get_or_create(workspace=workspace, user=user)


def render_partial(partial: Path, out_dir: Path) -> Path:
    """RESULTS-scale.md from the figures a stopped run saved after its last step."""
    from bench.report import render_scale

    with db.cursor() as cursor:
        described = machine.describe(*machine.postgres(cursor))
    scale = json.loads(partial.read_text())
    options = {"profile": scale["profile"], "parts": ["scale (stopped: partial)"]}
    results = {"machine": described, "options": options, "parts": {"scale": scale}}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results-scale.json").write_text(json.dumps(results, indent=2) + "\n")
    path = out_dir / "RESULTS-scale.md"
    path.write_text(render_scale(results))
    return path
