"""``manage.py setupschedules``: upsert the django-q2 schedules by name (run on every deploy)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_q.models import Schedule

# name -> (task, schedule_type, minutes). django-q2's schedule() refuses duplicate names, so
# the rows are upserted here instead.
SCHEDULES = {
    "primer_sf: scheduler tick": ("ingestion.tasks.scheduler_tick", Schedule.MINUTES, 1),
    # Hourly check; each connection is reconciled once per INGESTION["RECONCILE_HOURS"].
    "primer_sf: reconcile": ("ingestion.tasks.reconcile_due", Schedule.MINUTES, 60),
}


class Command(BaseCommand):
    help = "Create or update the periodic tasks (scheduler tick, reconciliation, refreshes)."

    def handle(self, *args, **options) -> None:
        for name, (func, schedule_type, minutes) in SCHEDULES.items():
            _, created = Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "schedule_type": schedule_type,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
            self.stdout.write(f"{'Created' if created else 'Updated'} schedule {name!r} ({func}).")
