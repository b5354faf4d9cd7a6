"""Disconnect with data deletion: the ORM cascade against the batched background purge.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/primer_sf_purge \
        .venv/bin/python bench/disconnect.py [--records 80000] [--mode orm purge]

For each mode it COPYs a synthetic org (the shape of ``audience_size.py``, scaled to
``--records``) into a fresh connection, or with ``--copy-of ID`` copies the records a real sync
wrote for connection ID (e.g. the demo's, after ``manage.py demo``), then deletes them in a
child process and prints the child's wall time and memory: RSS once Django is set up, and peak
RSS (VmHWM).
``orm`` is what the disconnect did before (``connection.records.all().delete()``), ``purge``
what the worker does now (``data_purge_execute``, batches of ``PURGE_BATCH_RECORDS``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "primer_sf.settings")

import django
from django.apps import apps

if not apps.ready:  # run as a script
    django.setup()

from django.core.management import call_command
from django.db import connection as db
from django.db import transaction

from bench import audience_size as synthetic
from connections.models import Connection, Workspace
from ingestion.models import DataPurge, IngestedRecord
from ingestion.services.purge import data_purge_execute

# Seconds after which the purge child stops (the scale part's --purge-seconds); unset: all.
PURGE_SECONDS = "BENCH_PURGE_SECONDS"


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries the parent's high-water mark into ru_maxrss across
    # fork and exec, and the parent has just generated the copy.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def load(connection: Connection, records: int) -> int:
    """COPY ``records`` synthetic records (the seed-example mix) into ``connection``."""
    scale = records / sum(synthetic.COUNTS.values())
    rng = random.Random(20261129)
    table = IngestedRecord._meta.db_table
    columns = "connection_id, sobject, sf_id, data, facets, system_modstamp, is_deleted, "
    columns += "first_seen_at, last_seen_at"
    written = 0
    now = synthetic.NOW
    with db.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for sobject, full in synthetic.COUNTS.items():
            for n in range(round(full * scale)):
                data = synthetic._data(rng, sobject, n)
                copy.write_row(
                    (
                        connection.pk,
                        sobject,
                        data["Id"],
                        json.dumps(data),
                        "{}",
                        now,
                        False,
                        now,
                        now,
                    )
                )
                written += 1
    with db.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    return written


def copy(connection: Connection, source_id: int) -> int:
    """Copy the records of connection ``source_id`` into ``connection`` (one INSERT ... SELECT)."""
    table = IngestedRecord._meta.db_table
    columns = "sobject, sf_id, data, facets, system_modstamp, is_deleted, deleted_at, "
    columns += "first_seen_at, last_seen_at"
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (connection_id, {columns}) "
            f"SELECT %s, {columns} FROM {table} WHERE connection_id = %s",
            [connection.pk, source_id],
        )
        written = cursor.rowcount
        cursor.execute(f"ANALYZE {table}")
    return written


def child(mode: str, connection_id: int) -> dict:
    """Delete the connection's records the ``mode`` way; time and memory of this process."""
    connection = Connection.objects.get(pk=connection_id)
    start_rss = _rss_mb()
    started = time.monotonic()
    deleted = None
    if mode == "orm":
        with transaction.atomic():
            connection.records.all().delete()
    elif os.environ.get(PURGE_SECONDS):
        # A bounded sample of a purge too long to wait for (10M records): one slice of that
        # many seconds; memory is per batch, so its peak is the whole purge's.
        purge = DataPurge.objects.create(connection=connection)
        seconds = float(os.environ[PURGE_SECONDS])
        deleted = data_purge_execute(purge_id=purge.pk, slice_seconds=seconds)["deleted"]
    else:
        purge = DataPurge.objects.create(connection=connection)
        data_purge_execute(purge_id=purge.pk, inline=True)
    seconds = time.monotonic() - started
    peak = _peak_rss_mb()
    left = IngestedRecord.objects.filter(connection_id=connection_id).count()
    result = {
        "seconds": round(seconds, 2),
        "rss_start_mb": round(start_rss),
        "rss_peak_mb": round(peak),
        "left": left,
    }
    return result if deleted is None else {**result, "deleted": deleted}


def measure(mode: str, records: int, source_id: int | None) -> dict:
    workspace, _ = Workspace.objects.get_or_create(slug="bench-purge", defaults={"name": "Purge"})
    Connection.objects.filter(workspace=workspace).delete()
    connection = Connection.objects.create(
        workspace=workspace,
        label=f"purge {mode}",
        login_host="https://login.salesforce.com",
        org_id="00DPURGE00000AAAA",
        status=Connection.Status.DISCONNECTED,
    )
    loaded = copy(connection, source_id) if source_id else load(connection, records)
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(connection.pk)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {"mode": mode, "records": loaded, **json.loads(result.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=80_000)
    parser.add_argument("--mode", nargs="+", default=["orm", "purge"], choices=["orm", "purge"])
    parser.add_argument("--copy-of", type=int, metavar="ID", help="copy this connection's records")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "CONNECTION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if db.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: this measures the production path.")
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    call_command("migrate", verbosity=0)
    for mode in args.mode:
        print(json.dumps(measure(mode, args.records, args.copy_of)), flush=True)


if __name__ == "__main__":
    main()
