"""``manage.py demo``: the whole story against a local emulated Salesforce org.

Starts the emulator (``python -m emulator``, ``demo`` profile: 80,000 records) on a free
loopback port, creates the demo users and workspace, connects through the real OAuth flow,
runs the initial sync with live progress, changes and deletes records in the org, runs an
incremental sync and a reconciliation, prints a summary, and stops the emulator.

``manage.py demo --reconnect --emulator-url URL`` (what ``make run`` calls) only re-authorizes
the demo connection against an emulator already running at URL: a fresh emulator does not
know the tokens an earlier one issued.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections.models import DEFAULT_OBJECTS, Connection
from connections.salesforce.exceptions import SalesforceError
from demo import story, summary
from demo.browser import ConsentError
from demo.emulator import (
    EmulatorControl,
    EmulatorError,
    EmulatorProcess,
    free_port,
)
from emulator.data.profiles import PROFILES
from ingestion.management.progress import ProgressPrinter
from ingestion.models import SyncRun

STEPS = 7
FAILURES = (story.DemoError, EmulatorError, ConsentError, SalesforceError)


class Command(BaseCommand):
    help = "Run the demo: emulated org, OAuth, initial and incremental sync, summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--profile", default="demo", choices=sorted(PROFILES))
        parser.add_argument("--seed", type=int, default=42, help="the emulated org's seed")
        parser.add_argument(
            "--port", type=int, default=8765, help="emulator port (another if it is busy)"
        )
        parser.add_argument(
            "--changes", type=int, default=1000, help="random changes made in the org"
        )
        parser.add_argument(
            "--reconnect",
            action="store_true",
            help="only re-authorize the demo connection against a running emulator",
        )
        parser.add_argument("--emulator-url", help="with --reconnect (default: EMULATOR_URL)")

    def handle(self, *args, **options) -> None:
        # The workers' INFO lines (tasks enqueued, audiences refreshed) would break up the
        # progress bars; -v 2 shows them.
        level = logging.INFO if options["verbosity"] < 2 else logging.NOTSET
        try:
            with story.quiet_logs(level):
                if options["reconnect"]:
                    self.reconnect(options["emulator_url"] or settings.EMULATOR_URL)
                else:
                    self.story(options)
        except FAILURES as error:
            raise CommandError(f"The demo stopped: {error}") from error

    # --- output ---------------------------------------------------------------------------

    def step(self, number: int, title: str) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"[{number}/{STEPS}] {title}"))

    def say(self, text: str) -> None:
        self.stdout.write(f"      {text}")

    def lines(self, lines: list[str]) -> None:
        for line in lines:
            self.stdout.write(line)

    # --- the story --------------------------------------------------------------------------

    def story(self, options: dict) -> None:
        started = time.monotonic()
        self.stdout.write(
            self.style.SUCCESS("primer_sf demo")
            + ": a Salesforce org, connected over OAuth, ingested with Bulk API 2.0"
        )
        port = free_port(options["port"])
        log = Path(settings.BASE_DIR) / "var" / "log" / "demo-emulator.log"
        emulator = EmulatorProcess(
            profile=options["profile"], port=port, seed=options["seed"], log_path=log
        )
        self.step(1, "Start the Salesforce org emulator")
        with emulator, story.salesforce_settings(emulator.base_url):
            control = EmulatorControl(emulator.base_url)
            self.show_emulator(control, emulator, options["port"], time.monotonic() - started)
            connection = self.connect(control, emulator.base_url)
            measured = self.syncs_and_changes(control, connection, options)
            self.summary(control, connection, measured)
        self.stdout.write("")
        self.say(f"The emulator has stopped. The demo took {time.monotonic() - started:.0f}s.")
        self.browse(connection)

    def show_emulator(self, control, emulator, preferred: int, seconds: float) -> None:
        org = control.summary()
        records = sum(org["counts"].get(name, 0) for name in DEFAULT_OBJECTS)
        self.say(
            f"python -m emulator --profile {org['profile']}: {records:,} records in the six "
            f"objects, org {org['org_id']}"
        )
        busy = "" if emulator.port == preferred else f" (port {preferred} was busy)"
        self.say(f"listening on {emulator.base_url}{busy}, ready in {seconds:.1f}s")
        self.say(f"its output: {emulator.log_path}")
        self.say(
            "this process's Salesforce settings (login host, client id and secret, allowed "
            "hosts) now point at it"
        )

    def connect(self, control: EmulatorControl, base_url: str) -> Connection:
        self.step(2, "Demo users and workspace")
        workspace = story.demo_workspace()
        self.say(
            f"{story.STAFF_EMAIL} (staff) and {story.CUSTOMER_EMAIL} (customer), "
            f'workspace "{workspace.name}"'
        )
        existing = story.demo_connection(workspace, control.summary()["org_id"])
        if existing is not None:
            dropped = story.start_over(existing)
            self.say(
                f"an earlier demo left connection #{existing.pk} with {dropped:,} records: "
                "disconnected it and deleted its data (the emulator starts from its seed each "
                "time, so the demo starts over on the same connection)"
            )
        self.step(3, "Connect over OAuth 2.0 (web server flow with PKCE)")
        outcome = story.connect(workspace=workspace, login_url=base_url, connection=existing)
        return self.show_connected(outcome)

    def show_connected(self, outcome) -> Connection:
        connection = outcome.connection
        self.say(
            "authorize URL -> consent page: signed in as "
            f"{story.INTEGRATION_USER}, allowed -> redirect with code -> token exchange"
        )
        verb = "created" if outcome.created else "reconnected"
        self.say(
            f'connection #{connection.pk} "{connection.label}" {verb}: '
            f"{connection.get_status_display().lower()}, org {connection.org_id}, "
            f"user {connection.sf_username}"
        )
        items = (connection.preflight or {}).get("items", [])
        passed = sum(item["status"] == "pass" for item in items)
        self.say(f"permission checks: {passed} of {len(items)} passed")
        for notice in outcome.notices:
            self.say(self.style.WARNING(notice))
        return connection

    def syncs_and_changes(self, control, connection, options) -> list[summary.Measured]:
        self.step(4, "Initial sync: Bulk API 2.0 query jobs")
        measured = [self.measure(control, story.queued_run(connection))]
        self.step(5, "Changes in the org: updates, creates, soft and hard deletes")
        changes = story.change_org(control, connection, n=options["changes"], seed=7)
        self.show_changes(changes)
        self.step(6, "Incremental sync: what changed since the watermark")
        measured.append(self.measure(control, story.enqueue(connection, SyncRun.Kind.INCREMENTAL)))
        self.step(7, "Reconciliation: every Id once, to find hard deletes")
        measured.append(self.measure(control, story.enqueue(connection, SyncRun.Kind.RECONCILE)))
        return measured

    def measure(self, control: EmulatorControl, run: SyncRun) -> summary.Measured:
        before = control.counters()
        printer = ProgressPrinter(self.stdout, live=self.stdout.isatty())
        with printer.holding_logs():
            run = story.execute(run, printer)
        calls, counted, jobs = summary.counters_between(before, control.counters())
        seconds = run.duration_seconds or 0.0
        self.say(
            self.style.SUCCESS(f"run #{run.pk} {run.status}")
            + f" in {seconds:.1f}s: {run.records_written:,} records written, "
            f"{run.records_deleted:,} marked deleted, {run.api_calls} API calls, "
            f"{run.bulk_jobs} Bulk jobs"
        )
        return summary.Measured(run=run, calls=calls, counted=counted, jobs=jobs)

    def show_changes(self, changes: story.Changes) -> None:
        random = ", ".join(
            f"{name} {sum(kinds.values())}" for name, kinds in sorted(changes.random.items())
        )
        self.say(
            f"{changes.total('update'):,} updates, {changes.total('create'):,} creates and "
            f"{changes.total('delete'):,} deletes at random ({random or 'none'})"
        )
        soft = {name: len(ids) for name, ids in changes.soft_deleted.items() if ids}
        purged = {name: len(ids) for name, ids in changes.purged.items() if ids}
        self.say(f"soft-deleted (recycle bin): {_counts(soft)}")
        self.say(f"purged (hard-deleted, invisible even to queryAll): {_counts(purged)}")

    # --- summary ----------------------------------------------------------------------------

    def summary(self, control, connection, measured: list[summary.Measured]) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Summary"))
        rows, records_match = summary.record_rows(connection, control)
        self.stdout.write("  Records per object (here, and live in the emulated org)")
        headers = ["object", "stored", "deleted", "live", "live in org", ""]
        self.lines(summary.table(headers, rows))
        self.stdout.write("")
        self.stdout.write("  Runs")
        self.lines(summary.table(summary.RUN_HEADERS, summary.run_rows(measured)))
        self.stdout.write("")
        self.stdout.write("  API calls by kind: each run's own count, and the emulator's counters")
        rows, calls_match = summary.call_rows(measured)
        self.lines(summary.table(summary.call_headers(measured), rows))
        self.stdout.write("  " + summary.soql_note(measured))
        self.verdict(records_match, calls_match)

    def verdict(self, records_match: bool, calls_match: bool) -> None:
        self.stdout.write("")
        if records_match and calls_match:
            self.say(
                self.style.SUCCESS("The copy equals the org, and every API call is accounted for.")
            )
            return
        problems = [] if records_match else ["the copy differs from the org"]
        problems += [] if calls_match else ["API call counts differ from the emulator's"]
        raise story.DemoError("; ".join(problems) + " (see the tables above)")

    def browse(self, connection: Connection) -> None:
        site = story.SITE_URL
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Browse the result"))
        self.lines(
            [
                "  make run   starts the site, a worker and a fresh emulator (and reconnects this",
                "             connection to it: see 'Browsing the result' in the README)",
                f"  ops:      {story.STAFF_EMAIL} / {story.PASSWORD}  {site}/admin/"
                "  (sync runs, records, cursors)",
                f"  customer: {story.CUSTOMER_EMAIL} / {story.PASSWORD}  "
                f"{site}/connections/{connection.pk}/  and  {site}/audiences/",
                f"  here:     manage.py syncstatus {connection.pk}",
            ]
        )

    # --- make run: reconnect to a fresh emulator ----------------------------------------------

    def reconnect(self, base_url: str) -> None:
        """Re-authorize the demo connection against the emulator at ``base_url``."""
        control = EmulatorControl(base_url)
        org = control.summary()
        with story.salesforce_settings(base_url):
            workspace = story.demo_workspace()
            connection = story.demo_connection(workspace, org["org_id"])
            if connection is None:
                self.stdout.write(
                    "No demo connection yet: run `make demo`, or connect the emulated org from "
                    f"{story.SITE_URL}/connections/w/{workspace.slug}/ (user "
                    f"{story.INTEGRATION_USER}, password emulator)."
                )
                return
            outcome = story.connect(workspace=workspace, login_url=base_url, connection=connection)
        queued = outcome.connection.sync_runs.filter(status=SyncRun.Status.QUEUED).first()
        self.stdout.write(
            f"Reconnected demo connection #{connection.pk} to the emulator at {base_url} "
            f"(OAuth as {story.INTEGRATION_USER})"
            + (f"; queued {queued.get_kind_display().lower()} run #{queued.pk}." if queued else ".")
        )
        for notice in outcome.notices:
            self.stdout.write(self.style.WARNING(notice))


def _counts(counts: dict[str, int]) -> str:
    if not counts:
        return "none"
    total = sum(counts.values())
    return f"{total:,} (" + ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) + ")"
