"""Live progress of a sync run for management commands: bars in a terminal, lines otherwise."""

from __future__ import annotations

import time
from typing import TextIO

from ingestion.models import ObjectCursor, SyncRun

BAR = 24


def _bar(fraction: float) -> str:
    filled = round(fraction * BAR)
    return "#" * filled + "-" * (BAR - filled)


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f"~{seconds:.0f}s left"
    return f"~{seconds / 60:.0f}m left"


class ProgressPrinter:
    """Called after every committed page; redraws at most a few times a second."""

    def __init__(self, out: TextIO, *, live: bool, interval: float = 0.25) -> None:
        self.out = out
        self.live = live
        self.interval = interval if live else 5.0
        self.started = time.monotonic()
        self._last = 0.0
        self._lines = 0

    def __call__(self, run: SyncRun, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self.interval:
            return
        self._last = now
        lines = self._render(run, now - self.started)
        if self.live and self._lines:
            self.out.write(f"\x1b[{self._lines}F")
        self.out.write("\n".join(f"{line}\x1b[K" if self.live else line for line in lines) + "\n")
        self.out.flush()
        self._lines = len(lines)

    def _render(self, run: SyncRun, elapsed: float) -> list[str]:
        cursors = {
            c.sobject: c for c in ObjectCursor.objects.filter(connection_id=run.connection_id)
        }
        lines = []
        for sobject in run.connection.enabled_objects:
            lines.append(self._line(sobject, cursors.get(sobject), run, elapsed))
        rate = run.records_written / elapsed if elapsed > 0 else 0
        lines.append(
            f"  {run.records_written:,} records written, {run.api_calls} API calls, "
            f"{rate:,.0f} records/s, {elapsed:.0f}s"
        )
        return lines

    def _line(self, sobject: str, cursor: ObjectCursor | None, run: SyncRun, elapsed: float):
        stats = run.object_stats.get(sobject, {})
        status = stats.get("status", "pending")
        written = stats.get("records_written", 0)
        total = cursor.estimated_total if cursor else None
        if status in ("failed", "unreadable"):
            return f"  {sobject:<15} {status.upper()}: {stats.get('error', '')}"[:160]
        if status == "done" or (cursor and cursor.initial_load_complete and not total):
            fraction = 1.0
        else:
            fraction = min(written / total, 1.0) if total else 0.0
        rate = written / elapsed if elapsed > 0 else 0
        eta = (total - written) / rate if total and rate and fraction < 1 else None
        count = f"{written:,}/{total:,}" if total else f"{written:,}"
        return f"  {sobject:<15} [{_bar(fraction)}] {fraction:4.0%} {count:>17}  {_eta(eta)}"
