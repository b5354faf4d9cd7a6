"""Time windows on the cursor field, and the SOQL that reads them.

Windows are half-open, ``>= start AND < end``; the end is frozen when the window is made (the
org's own clock, from the response ``Date`` header), and an incremental window starts a lookback
before the last committed end, because Salesforce can commit a row with a SystemModstamp earlier
than rows already visible (airbyte#27146). Overlap is harmless: writes are idempotent upserts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Window:
    """``[start, end)`` on the cursor field; ``start`` None means "from the beginning"."""

    start: datetime | None
    end: datetime

    def to_json(self) -> list[str | None]:
        return [self.start.isoformat() if self.start else None, self.end.isoformat()]

    @classmethod
    def from_json(cls, value: list[str | None]) -> Window:
        start, end = value
        return cls(datetime.fromisoformat(start) if start else None, datetime.fromisoformat(end))

    def split(self, lower_bound: datetime) -> tuple[Window, Window] | None:
        """Two halves by time, or None when the window is too narrow to split further."""
        start = self.start or lower_bound
        if self.end - start < timedelta(seconds=2):
            return None
        middle = start + (self.end - start) / 2
        middle = middle.replace(microsecond=0)
        return Window(self.start, middle), Window(middle, self.end)


def soql_literal(moment: datetime) -> str:
    """A SOQL datetime literal (whole seconds, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def window_where(window: Window, cursor_field: str) -> str:
    """The WHERE clause selecting a window."""
    # The start is floored to a whole second: reading a little more is harmless, less is not.
    end = f"{cursor_field} < {soql_literal(window.end)}"
    if window.start is None:
        return end
    return f"{cursor_field} >= {soql_literal(floor_second(window.start))} AND {end}"


def select_soql(
    sobject: str, fields: Sequence[str], window: Window | None, cursor_field: str | None
) -> str:
    """``SELECT fields FROM sobject [WHERE window]`` (no ORDER BY: it slows Bulk jobs)."""
    soql = f"SELECT {', '.join(fields)} FROM {sobject}"
    if window is not None and cursor_field:
        soql += f" WHERE {window_where(window, cursor_field)}"
    return soql


def count_soql(sobject: str, window: Window | None, cursor_field: str | None) -> str:
    soql = f"SELECT COUNT() FROM {sobject}"
    if window is not None and cursor_field:
        soql += f" WHERE {window_where(window, cursor_field)}"
    return soql


def split_evenly(window: Window, lower_bound: datetime, parts: int) -> list[Window]:
    """``parts`` windows of equal time span covering ``window`` (the first keeps its start)."""
    start = window.start or lower_bound
    step = (window.end - start) / parts
    bounds = [floor_second(start + step * i) for i in range(1, parts)]
    edges = [window.start, *bounds, window.end]
    return [Window(a, b) for a, b in itertools.pairwise(edges) if a is None or a < b]
