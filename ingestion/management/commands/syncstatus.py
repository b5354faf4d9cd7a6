"""``manage.py syncstatus [CONNECTION]``: where each object of each connection stands."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from connections.models import Connection
from ingestion.management.commands._common import connection_from_argument
from ingestion.selectors import (
    connection_api_calls_today,
    connection_current_run,
    connection_object_status,
    connection_progress,
    run_progress,
)


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def _eta(seconds) -> str:
    if seconds is None:
        return "-"
    return "done" if seconds == 0 else f"{seconds / 60:.1f} min left"


def _current(run) -> str:
    """The run queued, running or paused, in its own unit (see ``run_progress``)."""
    p = run_progress(run=run)
    done = f"{p.done:,} of {p.total:,}" if p.total is not None else f"{p.done:,} (counting)"
    percent = f" ({p.percent:.0f}%)" if p.percent is not None else ""
    left = f", {_eta(p.eta_seconds)}" if p.eta_seconds is not None else ""
    return f"#{run.pk} {run.get_kind_display()} {run.status}: {done} {p.unit}{percent}{left}"


class Command(BaseCommand):
    help = "Show records, deletes, watermark, initial-load progress and API use per object."

    def add_arguments(self, parser) -> None:
        parser.add_argument("connection", nargs="?", help="id, org id or label (default: all)")

    def handle(self, *args, **options) -> None:
        if options["connection"]:
            connections = [connection_from_argument(options["connection"])]
        else:
            connections = list(Connection.objects.select_related("workspace"))
        if not connections:
            self.stdout.write("No connections.")
        for connection in connections:
            self._show(connection)

    def _show(self, connection: Connection) -> None:
        progress = connection_progress(connection=connection)
        run = progress.last_run
        self.stdout.write(
            self.style.MIGRATE_HEADING(
                f"#{connection.pk} {connection} [{connection.get_status_display()}] "
                f"org {connection.org_id or '-'} ({connection.workspace})"
            )
        )
        initial = (
            f"complete {_when(connection.initial_sync_completed_at)}"
            if progress.complete
            else "in progress"
        )
        self.stdout.write(
            f"  initial ingestion: {initial}"
            f"; last run: {f'#{run.pk} {run.kind} {run.status}' if run else '-'}"
            f"; next sync: {_when(connection.next_sync_at)}"
            f"; API calls (24 h): {connection_api_calls_today(connection=connection):,}"
        )
        current = connection_current_run(connection=connection)
        if current is not None:
            self.stdout.write(f"  now: {_current(current)}")
        self.stdout.write(
            f"  {'object':<15}{'records':>11}{'deleted':>9}  {'watermark':<20} "
            f"{'initial':<8} progress"
        )
        for row in connection_object_status(connection=connection):
            p = row.progress
            percent = "-" if p.percent is None else f"{p.percent:.0f}%"
            self.stdout.write(
                f"  {row.sobject:<15}{row.records:>11,}{row.deleted:>9,}  "
                f"{_when(row.watermark):<20} {'done' if row.initial_load_complete else 'no':<8} "
                f"{percent} ({_eta(p.eta_seconds)})"
                + (f"  ! {row.last_error}" if row.last_error else "")
            )
