"""The demo's closing tables: records per object against the org, the runs, and API calls by
kind as our runs counted them next to the emulator's own counters.

Plain text with aligned columns (readable when piped); colour only through the command's
style, which Django switches off when the output is not a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q

from connections.models import Connection
from demo.emulator import EmulatorControl
from ingestion.models import IngestedRecord, SyncRun


@dataclass
class Measured:
    """A run and what the emulator counted while it ran (the difference of its counters)."""

    run: SyncRun
    calls: dict[str, int] = field(default_factory=dict)
    counted: int = 0
    jobs: int = 0


def counters_between(before: dict, after: dict) -> tuple[dict[str, int], int, int]:
    """API calls by kind, calls counted against the limit, and Bulk jobs created in between."""
    kinds = set(before["api_calls"]) | set(after["api_calls"])
    calls = {k: after["api_calls"].get(k, 0) - before["api_calls"].get(k, 0) for k in kinds}
    return (
        {k: n for k, n in calls.items() if n},
        after["limit_counted_total"] - before["limit_counted_total"],
        after["jobs_created"] - before["jobs_created"],
    )


def table(headers: Sequence[str], rows: Sequence[Sequence], indent: str = "  ") -> list[str]:
    """Aligned columns: the first left-aligned, the rest right-aligned; numbers with commas."""
    cells = [[_cell(v) for v in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        return indent + "  ".join([first, *rest]).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return [line(cells[0]), rule, *(line(row) for row in cells[1:])]


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def record_rows(connection: Connection, control: EmulatorControl) -> tuple[list[list], bool]:
    """Per enabled object: stored, deleted, live here, live in the org; and whether all match."""
    counts = {
        row["sobject"]: row
        for row in IngestedRecord.objects.filter(connection=connection)
        .values("sobject")
        .annotate(total=Count("id"), deleted=Count("id", filter=Q(is_deleted=True)))
    }
    rows, all_match = [], True
    for sobject in connection.enabled_objects:
        stored = counts.get(sobject, {}).get("total", 0)
        deleted = counts.get(sobject, {}).get("deleted", 0)
        in_org = control.count(sobject)
        match = stored - deleted == in_org
        all_match &= match
        rows.append([sobject, stored, deleted, stored - deleted, in_org, _ok(match)])
    totals = [sum(row[i] for row in rows) for i in range(1, 5)]
    rows.append(["total", *totals, ""])
    return rows, all_match


def run_rows(measured: list[Measured]) -> list[list]:
    """Per run: status, wall time, records read, written and marked deleted, records/s,
    API calls and Bulk jobs (ours, and the jobs the emulator saw created)."""
    rows = []
    for m in measured:
        run = m.run
        seconds = run.duration_seconds or 0.0
        moved = max(run.records_read, run.records_written)
        rows.append(
            [
                f"#{run.pk} {run.get_kind_display().lower()}",
                run.status,
                f"{seconds:.1f}s",
                run.records_read,
                run.records_written,
                run.records_deleted,
                round(moved / seconds) if seconds else 0,
                run.api_calls,
                run.bulk_jobs,
                m.jobs,
            ]
        )
    return rows


RUN_HEADERS = (
    "run",
    "status",
    "time",
    "read",
    "written",
    "deleted",
    "records/s",
    "API calls",
    "Bulk jobs",
    "jobs at org",
)


# Our client names SOQL calls by purpose (``count`` for SELECT COUNT(), ``query`` and
# ``query_more`` for records, on either endpoint); the emulator by endpoint (``query``,
# ``query_all``, ``query_more``). They are compared as one family.
OURS_SOQL = ("count", "query", "query_more")
THEIRS_SOQL = ("query", "query_all", "query_more")
SOQL = "query (SOQL)"


def _family(calls: dict[str, int], soql: tuple[str, ...]) -> dict[str, int]:
    grouped = {k: n for k, n in calls.items() if k not in soql}
    total = sum(calls.get(k, 0) for k in soql)
    return {**grouped, SOQL: total} if total else grouped


def call_rows(measured: list[Measured]) -> tuple[list[list], bool]:
    """API calls by kind: each run's own count, their sum, and the emulator's count."""
    ours = [_family(m.run.api_calls_by_kind, OURS_SOQL) for m in measured]
    theirs = [_family(m.calls, THEIRS_SOQL) for m in measured]
    kinds = sorted({k for calls in ours + theirs for k in calls})
    rows, all_match = [], True
    for kind in kinds:
        per_run = [calls.get(kind, 0) for calls in ours]
        counted = sum(calls.get(kind, 0) for calls in theirs)
        all_match &= sum(per_run) == counted
        rows.append([kind, *per_run, sum(per_run), counted, _ok(sum(per_run) == counted)])
    per_run = [m.run.api_calls for m in measured]
    counted = sum(m.counted for m in measured)
    all_match &= sum(per_run) == counted
    rows.append(["total counted", *per_run, sum(per_run), counted, _ok(sum(per_run) == counted)])
    return rows, all_match


def soql_note(measured: list[Measured]) -> str:
    """How the SOQL family splits on each side."""
    ours = {k: sum(m.run.api_calls_by_kind.get(k, 0) for m in measured) for k in OURS_SOQL}
    theirs = {k: sum(m.calls.get(k, 0) for m in measured) for k in THEIRS_SOQL}

    def parts(calls: dict[str, int]) -> str:
        return ", ".join(f"{k} {n}" for k, n in calls.items())

    return f"{SOQL}: ours by purpose ({parts(ours)}), the emulator's by endpoint ({parts(theirs)})"


def _ok(match: bool) -> str:
    return "ok" if match else "DIFF"


def call_headers(measured: list[Measured]) -> list[str]:
    return ["kind", *(m.run.get_kind_display().lower() for m in measured), "ours", "emulator", ""]
