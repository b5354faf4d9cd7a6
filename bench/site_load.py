"""The site stays responsive while long audience work runs (issue 12).

    python -m bench.site_load [--database sqlite|postgres] [--rows 120000] [--out-dir DIR]
    python -m bench --part site                  # the same, as a part, on the bench database

A 20 MB, 120,000-row People list is imported and matched (one worker process), then an
audience including it is re-evaluated (another), while this process signs in and opens the
audiences page over HTTP against the real site (waitress, as in production) and times each
request. Reported: p50/p95/max of both requests while idle and under load, errors, and the
import, matching and evaluation times. Targets: p95 under 1 s under load; import under 60 s.

On SQLite the database is a fresh file of its own (WAL, busy timeout: the settings' defaults);
on PostgreSQL it is DATABASE_URL, else the bench's own database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import machine
from demo.emulator import free_port

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "site-bench@example.com"
PASSWORD = "site-bench-password-1"
WORKSPACE = "site-bench"
MATCHED_SHARE = 2  # one CSV row in two is a contact of the org
# A queue worker's CPU priority (nice); 0 runs it as the web server runs. With 10 the kernel
# serves the site first, as `nice -n 10 manage.py qcluster` would on a shared machine.
WORKER_NICE = 0
SIGN_IN_EVERY = 2.2  # seconds: allauth allows 30 sign-ins a minute from one address
FIELDS = {
    "Contact": ["Id", "FirstName", "LastName", "Email", "Title", "AccountId"],
    "Account": ["Id", "Name", "Website"],
}


@dataclass
class Timings:
    """Request latencies (seconds) by phase and request."""

    samples: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, phase: str, request: str, seconds: float) -> None:
        self.samples.setdefault((phase, request), []).append(seconds)

    def summary(self) -> dict:
        return {
            f"{phase} {request}": _stats(values)
            for (phase, request), values in sorted(self.samples.items())
        }


def _stats(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(ordered) * 1000),
        "p95_ms": round(p95 * 1000),
        "max_ms": round(ordered[-1] * 1000),
    }


# --- data ------------------------------------------------------------------------------------


def csv_file(path: Path, rows: int) -> int:
    """A People CSV of ``rows`` rows, about 170 bytes each (20 MB for 120,000)."""
    notes = "Met at the spring conference; asked for a demo of the reporting module. " * 1
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("First Name,Last Name,Company Name,Company Domain,Person LinkedIn URL,Email,")
        out.write("Notes\r\n")
        for i in range(rows):
            domain = f"corp{i % 997}.example"
            out.write(
                f"First{i},Last{i},Company {i % 997},{domain},"
                f"https://www.linkedin.com/in/person-{i},p{i}@{domain},{notes}{i}\r\n"
            )
    return path.stat().st_size


def setup(rows: int, path: Path) -> dict:
    """A workspace, a user, a connection with contacts, the list (mapped) and an audience."""
    from django.contrib.auth import get_user_model
    from django.core.files import File
    from django.utils import timezone

    from audiences import services
    from audiences.models import Audience, CsvList
    from connections.models import Connection, Workspace
    from connections.services import workspace_create

    # An earlier run's copy: audiences (they protect the lists they use), then the lists.
    Audience.objects.filter(workspace__name=WORKSPACE).delete()
    for old in CsvList.objects.filter(workspace__name=WORKSPACE):
        services.csv_list_delete(csv_list=old)
    Workspace.objects.filter(name=WORKSPACE).delete()
    get_user_model().objects.filter(email=EMAIL).delete()
    user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
    workspace = workspace_create(name=WORKSPACE, owner=user)
    connection = Connection.objects.create(
        workspace=workspace, label="Site bench", org_id="00D5g0000SITEBNCH",
        status=Connection.Status.ACTIVE, initial_sync_completed_at=timezone.now(),
        login_host="https://login.salesforce.com", instance_url="https://example.my.salesforce.com",
    )  # fmt: skip
    _describe(connection)
    _contacts(connection, rows // MATCHED_SHARE)
    size = csv_file(path, rows)
    with path.open("rb") as stream:
        csv_list = services.csv_list_upload(
            workspace=workspace, name="Big list", kind="people", file=File(stream, path.name),
            user=user,
        )  # fmt: skip
    CsvList.objects.filter(pk=csv_list.pk).update(status=CsvList.Status.IMPORTING)
    audience = services.audience_create(
        workspace=workspace, connection=connection, name="Big list VPs", include=[csv_list],
        criteria={"type": "group", "children": [{"type": "condition", "object": "Contact",
                  "field": "Title", "operator": "contains", "value": "VP"}]},
    )  # fmt: skip
    return {"list": csv_list.pk, "audience": audience.pk, "bytes": size, "rows": rows}


def _describe(connection) -> None:
    from ingestion.models import ObjectCursor

    for sobject, names in FIELDS.items():
        kinds = {"Id": "id", "AccountId": "reference", "Email": "email", "Website": "url"}
        plan = {"fields": {n: {"type": kinds.get(n, "string"), "label": n, "picklist_values": [],
                               "filterable": True} for n in names}}  # fmt: skip
        ObjectCursor.objects.create(
            connection=connection, sobject=sobject, field_plan=plan, initial_load_complete=True
        )


def _contacts(connection, count: int) -> None:
    from django.utils import timezone

    from ingestion.models import IngestedRecord

    now = timezone.now()
    for start in range(0, count, 5000):
        IngestedRecord.objects.bulk_create(
            [
                IngestedRecord(
                    connection=connection,
                    sobject="Contact",
                    sf_id=f"0035g{i:013d}"[:18],
                    data={
                        "Id": f"0035g{i:013d}"[:18],
                        "FirstName": f"First{i}",
                        "LastName": f"Last{i}",
                        "Email": f"P{i}@corp{i % 997}.example",
                        "Title": "VP Sales" if i % 3 == 0 else "Engineer",
                    },
                    system_modstamp=now,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                for i in range(start, min(start + 5000, count))
            ]
        )


def _contact(connection, i: int, now):
    from ingestion.models import IngestedRecord

    sf_id = f"0035g{i:013d}"[:18]
    data = {"Id": sf_id, "FirstName": f"First{i}", "LastName": f"Last{i}",
            "Email": f"P{i}@corp{i % 997}.example",
            "Title": "VP Sales" if i % 3 == 0 else "Engineer"}  # fmt: skip
    return IngestedRecord(
        connection=connection, sobject="Contact", sf_id=sf_id, data=data,
        system_modstamp=now, first_seen_at=now, last_seen_at=now,
    )  # fmt: skip


# --- processes -------------------------------------------------------------------------------


def _env(database_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "DEBUG": "true"}


def _server(database_url: str, port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4",
               "primer_sf.wsgi:application"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=_env(database_url), stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def _task(database_url: str, what: str, pk: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "bench.site_load", "task", what, str(pk)]
    if WORKER_NICE:
        command = ["nice", "-n", str(WORKER_NICE), *command]
    return subprocess.Popen(
        command, cwd=ROOT, env=_env(database_url), stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def run_task(what: str, pk: int) -> None:
    """One unit of work as a queue worker runs it (this process is the worker)."""
    from audiences import tasks

    if what == "import":
        print(json.dumps(tasks.csv_list_import(pk)), flush=True)
    else:
        print(json.dumps(tasks.audience_evaluate(pk, "sync")), flush=True)


# --- probing the site ------------------------------------------------------------------------


class Prober(threading.Thread):
    """Signs in (every SIGN_IN_EVERY seconds) and opens the audiences page, timing both."""

    def __init__(self, base: str, timings: Timings) -> None:
        from django.contrib.auth.hashers import make_password

        super().__init__(daemon=True)
        self.base, self.timings, self.phase = base, timings, "idle"
        self.stopped = threading.Event()
        self.hashed = make_password(PASSWORD)

    def run(self) -> None:
        import requests

        last_sign_in = 0.0
        session = None
        while not self.stopped.is_set():
            if session is None or time.monotonic() - last_sign_in >= SIGN_IN_EVERY:
                session, last_sign_in = requests.Session(), time.monotonic()
                self._sign_in(session)
            self._timed(session, "audiences page", "GET", "/audiences/")
            time.sleep(0.25)

    def _sign_in(self, session) -> None:
        page = session.get(f"{self.base}/accounts/login/", timeout=60)
        token = session.cookies.get("csrftoken", "")
        data = {"login": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": token}
        self._timed(session, "sign-in", "POST", "/accounts/login/", data=data, ok=(302,))
        del page
        self._hash_check()

    def _hash_check(self) -> None:
        """The password check a sign-in does, alone, here: how much of a sign-in is CPU."""
        from django.contrib.auth.hashers import check_password

        started = time.monotonic()
        check_password(PASSWORD, self.hashed)
        self.timings.add(self.phase, "password check alone", time.monotonic() - started)

    def _timed(self, session, name, method, path, data=None, ok=(200,)) -> None:
        started = time.monotonic()
        try:
            response = session.request(method, f"{self.base}{path}", data=data, timeout=60,
                                       allow_redirects=False)  # fmt: skip
            status = response.status_code
        except OSError as error:
            status = f"{type(error).__name__}"
        self.timings.add(self.phase, name, time.monotonic() - started)
        if status not in ok:
            self.timings.errors.append(f"{self.phase} {name}: {status}")


def measure(database_url: str, rows: int, log_dir: Path) -> dict:
    """Set up, start the site, probe idle, then under the import+match and the evaluation."""
    work = Path(tempfile.mkdtemp(prefix="site-bench-"))
    load_start = machine.load_average()
    print(f"Site responsiveness: {rows:,}-row list on {database_url.split(':')[0]}", flush=True)
    prepared = setup(rows, work / "big-list.csv")
    port = free_port(0)
    server = _server(database_url, port, log_dir / "site-server.log")
    timings = Timings()
    prober = Prober(f"http://127.0.0.1:{port}", timings)
    try:
        _wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        prober.start()
        time.sleep(10)
        result = _under_load(database_url, prepared, prober, log_dir)
    finally:
        prober.stopped.set()
        prober.join(timeout=70)
        server.terminate()
        server.wait(timeout=30)
    return {
        "database": database_url.split(":")[0],
        "list_bytes": prepared["bytes"],
        "list_rows": rows,
        **result,
        "requests": timings.summary(),
        "errors": timings.errors[:20],
        "error_count": len(timings.errors),
        "load_average_at_start": round(load_start, 2),
        "load_average_at_end": round(machine.load_average(), 2),
    }


def _under_load(database_url: str, prepared: dict, prober: Prober, log_dir: Path) -> dict:
    from audiences.models import Audience, CsvList

    log = log_dir / "site-tasks.log"
    prober.phase = "import+match"
    started = time.monotonic()
    _task(database_url, "import", prepared["list"], log).wait()
    imported = time.monotonic() - started
    csv_list = CsvList.objects.get(pk=prepared["list"])
    prober.phase = "evaluation"
    started = time.monotonic()
    _task(database_url, "evaluate", prepared["audience"], log).wait()
    evaluated = time.monotonic() - started
    prober.phase = "after"
    time.sleep(5)
    audience = Audience.objects.get(pk=prepared["audience"])
    return {
        "import_and_match_seconds": round(imported, 1),
        "list_status": csv_list.status,
        "valid_rows": csv_list.valid_rows,
        "matched_rows": sum(csv_list.matched_rows.values()),
        "evaluation_seconds": round(evaluated, 1),
        "audience_status": audience.status,
        "audience_size": audience.size,
    }


def _wait_for(url: str) -> None:
    import requests

    for _ in range(120):
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"The site did not start at {url}")


def render(results: dict) -> str:
    """A Markdown section of the figures."""
    lines = [
        f"### Site responsiveness on {results['database']}",
        "",
        f"{results['list_rows']:,}-row list of {results['list_bytes'] / 2**20:.1f} MB: imported "
        f"and matched in {results['import_and_match_seconds']} s ({results['list_status']}, "
        f"{results['matched_rows']:,} of {results['valid_rows']:,} valid rows matched); the "
        f"audience over it evaluated in {results['evaluation_seconds']} s "
        f"({results['audience_status']}, {results['audience_size']:,} members). Load average "
        f"{results['load_average_at_start']} at start, {results['load_average_at_end']} at end; "
        f"{results['error_count']} failed requests. Worker tasks at nice "
        f"{results.get('worker_nice', 0)}.",
        "",
        "| phase and request | n | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for name, s in results["requests"].items():
        lines.append(f"| {name} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['max_ms']} |")
    return "\n".join(lines) + "\n"


def run_part(log_dir: Path, rows: int = 120_000) -> dict:
    """The bench part "site", on the database Django is set up with (the bench's)."""
    from django.db import connection

    settings = connection.settings_dict
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{settings['NAME']}"
    return measure(url, rows, log_dir)


def main(argv: list[str]) -> int:
    if argv[:1] == ["task"]:
        _django(os.environ["DATABASE_URL"])
        run_task(argv[1], int(argv[2]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.site_load")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--worker-nice", type=int, default=0, help="nice of the worker tasks")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    global WORKER_NICE  # one setting for the whole run of this command
    WORKER_NICE = args.worker_nice
    url = _database(args.database, args.out_dir)
    _django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = measure(url, args.rows, args.out_dir)
    results["worker_nice"] = WORKER_NICE
    name = f"site-{args.database}" + (f"-nice{WORKER_NICE}" if WORKER_NICE else "")
    (args.out_dir / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out_dir / f"{name}.md").write_text(render(results))
    print(render(results))
    return 0


def _database(kind: str, out_dir: Path) -> str:
    if kind == "sqlite":
        path = out_dir / "site-bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from bench.database import create_database, database_url

    url = database_url()
    create_database(url, drop=False)
    return url


def _django(url: str) -> None:
    import django

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "primer_sf.settings")
    os.environ.setdefault("DEBUG", "true")
    django.setup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
