"""Live progress of a sync run for management commands: bars in a terminal, lines otherwise.

Progress comes from ``ingestion.selectors.run_progress``, so a command and the connection page
agree: each run kind counts in its own unit, nothing shows 100% before it is done, and the
time left comes from this run's observed rate. While bars are drawn in a terminal, log records
(ours and django-q's) are printed above the bars instead of breaking them.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TextIO

from ingestion.models import SyncRun
from ingestion.selectors import COUNTING, DONE, FAILED, WAITING, ObjectRunProgress, run_progress

BAR = 24
_LOGGERS = ("", "django-q")  # the root logger and django-q's own, which may not propagate


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
        self._lines: list[str] = []

    def __call__(self, run: SyncRun, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self.interval:
            return
        self._last = now
        lines = self._render(run, now - self.started)
        self._erase()
        self._draw(lines)
        self._lines = lines

    def _erase(self) -> None:
        if self.live and self._lines:
            self.out.write(f"\x1b[{len(self._lines)}F\x1b[J")

    def _draw(self, lines: list[str]) -> None:
        if lines:
            self.out.write("\n".join(lines) + "\n")
        self.out.flush()

    def write_above(self, text: str) -> None:
        """Print ``text`` above the bars, then draw the bars again below it."""
        self._erase()
        self.out.write(text.rstrip("\n") + "\n")
        self._draw(self._lines)

    @contextlib.contextmanager
    def holding_logs(self) -> Iterator[None]:
        """While drawing live bars, send log records through ``write_above``."""
        if not self.live:
            yield
            return
        handler = _AboveBars(self)
        saved = []
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            streams = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
            for stream in streams:
                logger.removeHandler(stream)
            if streams:
                handler.setFormatter(streams[0].formatter)
                logger.addHandler(handler)
            saved.append((logger, streams))
        try:
            yield
        finally:
            for logger, streams in saved:
                if streams:
                    logger.removeHandler(handler)
                for stream in streams:
                    logger.addHandler(stream)

    def _render(self, run: SyncRun, elapsed: float) -> list[str]:
        progress = run_progress(run=run)
        lines = [self._line(o) for o in progress.objects]
        total = f" of {progress.total:,}" if progress.total is not None else ""
        counting = "" if progress.total is not None else " so far (still counting)"
        rate = f", {progress.rate:,.0f} records/s" if progress.rate else ""
        left = _eta(progress.eta_seconds) if run.status == SyncRun.Status.RUNNING else ""
        lines.append(
            f"  {run.get_kind_display()}: {progress.done:,}{total} {progress.unit}{counting}, "
            f"{progress.objects_done}/{len(progress.objects)} objects done, "
            f"{run.api_calls} API calls{rate}, {elapsed:.0f}s  {left}".rstrip()
        )
        return lines

    def _line(self, o: ObjectRunProgress) -> str:
        if o.state == FAILED:
            return f"  {o.sobject:<15} NOT READ: {o.error}"[:160]
        if o.state in (WAITING, COUNTING):
            word = "counting" if o.state == COUNTING else "waiting"
            return f"  {o.sobject:<15} [{_bar(0)}]   {word}"
        fraction = 1.0 if o.state == DONE else (o.percent or 0.0) / 100
        count = f"{o.done:,}/{o.total:,}" if o.total is not None else f"{o.done:,}"
        return f"  {o.sobject:<15} [{_bar(fraction)}] {fraction:4.0%} {count:>17}"


class _AboveBars(logging.Handler):
    """A log handler that prints records above a ProgressPrinter's bars."""

    def __init__(self, printer: ProgressPrinter) -> None:
        super().__init__()
        self.printer = printer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.printer.write_above(self.format(record))
        except Exception:
            self.handleError(record)
