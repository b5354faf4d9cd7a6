"""Reads for a connection's sync history: its recent runs and what it ingested per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from connections.models import Connection
from ingestion.models import SyncRun
from ingestion.wording import RunWords, run_words


@dataclass(frozen=True)
class RunRow:
    """One run as the history table shows it."""

    run: SyncRun
    duration_seconds: float | None
    problem: RunWords | None


def connection_run_history(*, connection: Connection, limit: int = 20) -> list[RunRow]:
    """The latest ``limit`` runs, newest first, with their problems in words."""
    runs = connection.sync_runs.order_by("-created_at")[:limit]
    return [RunRow(run, run.duration_seconds, run_words(run)) for run in runs]


def last_days(days: int) -> list[date]:
    """The last ``days`` dates (UTC), oldest first, ending today."""
    today = timezone.now().date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def connection_daily_records(*, connection: Connection, days: int = 30) -> dict[date, int]:
    """Records written per day over the last ``days`` days, by the day each run started."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        SyncRun.objects.filter(connection=connection, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Sum("records_written"))
    )
    found = {row["day"]: row["n"] or 0 for row in rows}
    return {day: found.get(day, 0) for day in last_days(days)}
