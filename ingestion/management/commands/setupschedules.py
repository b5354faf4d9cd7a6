"""``manage.py setupschedules``: upsert the django-q2 schedules by name (run on every deploy)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

TICK = "ingestion.tasks.scheduler_tick"
FIRST_TICK = "primer_sf: scheduler tick"
# name -> (task, schedule_type, minutes, seconds after the first tick's next run of the first
# run, or 0: now). django-q2's schedule() refuses duplicate names, so the rows are upserted here
# instead.
SCHEDULES = {
    FIRST_TICK: (TICK, Schedule.MINUTES, 1, 0),
    # The same tick half a minute later: a django-q2 schedule runs at most once a minute, so
    # with one tick a sync that comes due just after it waits a minute for the next. Two ticks
    # halve the wait (bench/RESULTS-fleet.md: start lag p95 with one tick and with two).
    "primer_sf: scheduler tick (half past)": (TICK, Schedule.MINUTES, 1, 30),
    # Hourly check; each connection is reconciled once per INGESTION["RECONCILE_HOURS"].
    "primer_sf: reconcile": ("ingestion.tasks.reconcile_due", Schedule.MINUTES, 60, 0),
}


class Command(BaseCommand):
    help = "Create or update the periodic tasks (scheduler tick, reconciliation, refreshes)."

    def handle(self, *args, **options) -> None:
        for name, (func, schedule_type, minutes, offset) in SCHEDULES.items():
            defaults = {
                "func": func,
                "schedule_type": schedule_type,
                "minutes": minutes,
                "repeats": -1,
            }
            # The first run's time only when the row is new: an upsert keeps the phase.
            _, created = Schedule.objects.update_or_create(
                name=name,
                defaults=defaults,
                create_defaults={**defaults, "next_run": _first_run(offset)},
            )
            self.stdout.write(f"{'Created' if created else 'Updated'} schedule {name!r} ({func}).")


def _first_run(offset: int):
    """Now, or ``offset`` seconds after the first tick's next run: a deploy that adds the
    second tick to a running system puts it half a minute after the first, whatever its phase
    (django-q2 keeps a schedule on its minute grid, so the two stay apart)."""
    if not offset:
        return timezone.now()
    first = Schedule.objects.get(name=FIRST_TICK).next_run
    return first + timedelta(seconds=offset)
