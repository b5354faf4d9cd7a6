"""``manage.py sync CONNECTION [--objects A,B] [--wait]``: an incremental sync now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ingestion.management.commands._common import connection_from_argument, objects_from_argument
from ingestion.management.progress import ProgressPrinter
from ingestion.models import SyncRun
from ingestion.services.runs import sync_run_enqueue
from ingestion.services.sync import sync_run_execute
from primer_sf.errors import ApplicationError


class Command(BaseCommand):
    help = "Queue an incremental sync of a connection (or run it here with --wait)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("connection", help="connection id, Salesforce org id or label")
        parser.add_argument("--objects", help="comma-separated objects (default: all enabled)")
        parser.add_argument(
            "--wait", action="store_true", help="run it in this process, showing progress"
        )

    def handle(self, *args, **options) -> None:
        connection = connection_from_argument(options["connection"])
        sobjects = objects_from_argument(options["objects"], connection)
        kind = (
            SyncRun.Kind.INCREMENTAL if connection.initial_sync_complete else SyncRun.Kind.INITIAL
        )
        try:
            run = sync_run_enqueue(
                connection=connection, kind=kind, trigger=SyncRun.Trigger.COMMAND, sobjects=sobjects
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Queued {run.get_kind_display().lower()} run #{run.pk} of {connection}.")
        if options["wait"]:
            run_and_report(self, run)


def run_and_report(command: BaseCommand, run: SyncRun) -> SyncRun:
    """Execute ``run`` in this process with live progress, then print how it ended."""
    printer = ProgressPrinter(command.stdout, live=command.stdout.isatty())
    with printer.holding_logs():
        sync_run_execute(run_id=run.pk, inline=True, on_progress=printer)
        run.refresh_from_db()
        printer(run, final=True)
    style = (
        command.style.SUCCESS if run.status == SyncRun.Status.SUCCEEDED else command.style.WARNING
    )
    command.stdout.write(style(f"Run #{run.pk} {run.status}. {run.error_message}".strip()))
    if run.status == SyncRun.Status.FAILED:
        raise CommandError(run.error_message or "the sync failed")
    return run
