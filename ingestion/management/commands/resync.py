"""``manage.py resync CONNECTION [--objects A,B] [--full] [--wait]``: reset cursors, reload."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ingestion.management.commands._common import connection_from_argument, objects_from_argument
from ingestion.management.commands.sync import run_and_report
from ingestion.models import SyncRun
from ingestion.services.cursors import connection_resync
from primer_sf.errors import ApplicationError


class Command(BaseCommand):
    help = "Reset the cursors of a connection (or some objects) and reload them from Salesforce."

    def add_arguments(self, parser) -> None:
        parser.add_argument("connection", help="connection id, Salesforce org id or label")
        parser.add_argument("--objects", help="comma-separated objects to reload")
        parser.add_argument("--full", action="store_true", help="reload every enabled object")
        parser.add_argument(
            "--wait", action="store_true", help="run it in this process, showing progress"
        )

    def handle(self, *args, **options) -> None:
        connection = connection_from_argument(options["connection"])
        sobjects = objects_from_argument(options["objects"], connection)
        if options["full"] and sobjects:
            raise CommandError("Give either --full or --objects, not both.")
        try:
            run = connection_resync(
                connection=connection,
                trigger=SyncRun.Trigger.COMMAND,
                sobjects=sobjects,
                full=options["full"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        scope = ", ".join(sobjects) if sobjects else "every enabled object"
        self.stdout.write(f"Cursors reset for {scope}; queued run #{run.pk} of {connection}.")
        if options["wait"]:
            run_and_report(self, run)
