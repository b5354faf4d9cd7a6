"""Time windows on the cursor field, and the SOQL that reads them.

Windows are half-open, ``>= start AND < end``; the end is frozen when the window is made (the
org's own clock, from the response ``Date`` header), and an incremental window starts a lookback
before the last committed end, because Salesforce can commit a row with a SystemModstamp earlier
than rows already visible (airbyte#27146). Overlap is harmless: writes are idempotent upserts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus, urlencode

from connections.salesforce.exceptions import SalesforceRequestTooLarge

# A REST query travels in the request line (``GET /services/data/vNN.N/queryAll?q=...``), and
# Salesforce refuses a line over 16,384 bytes (414), or line and headers together over it
# (431). The SOQL's encoded form gets what is left after the path, the protocol and our
# headers (Authorization, Accept, Host, User-Agent...: under 600 bytes), with room to spare.
# (The 414 body is quoted in connections/salesforce/errors.py.)
QUERY_BUDGET = SalesforceRequestTooLarge.limit - 2_048


@dataclass(frozen=True)
class Window:
    """``[start, end)`` on the cursor field; ``start`` None means "from the beginning"."""

    start: datetime | None
    end: datetime

    def to_json(self) -> list[str | None]:
        return [self.start.isoformat() if self.start else None, self.end.isoformat()]

    @classmethod
    def from_json(cls, value: list[str | None]) -> Window:
        start, end = value[:2]  # a pending window may carry its job made ahead (state.py)
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
    sobject: str,
    fields: Sequence[str],
    window: Window | None,
    cursor_field: str | None,
    *,
    ids: tuple[str, str] | None = None,
    by_id: bool = False,
) -> str:
    """``SELECT fields FROM sobject [WHERE window [AND Id in ids]] [ORDER BY Id]``.

    Bulk jobs never get ORDER BY (it slows them); a wide object's REST reads do, so each page
    is a range of Ids that the queries of its other field groups can select (``ids``).
    """
    soql = f"SELECT {', '.join(fields)} FROM {sobject}"
    conditions = [window_where(window, cursor_field)] if window is not None and cursor_field else []
    if ids is not None:
        conditions.append(f"Id >= '{ids[0]}' AND Id <= '{ids[1]}'")
    if conditions:
        soql += f" WHERE {' AND '.join(conditions)}"
    return soql + (" ORDER BY Id" if by_id else "")


def encoded_length(soql: str) -> int:
    """Bytes the SOQL takes in a query URL (``q=`` and its form encoding)."""
    return len(urlencode({"q": soql}))


def field_groups(
    sobject: str, fields: Sequence[str], cursor_field: str, budget: int = QUERY_BUDGET
) -> list[list[str]]:
    """The fields of a REST window read, split so that no query exceeds ``budget`` encoded.

    One group (the fields as given) when they fit. Otherwise every group starts with ``Id``
    and the cursor field, to merge the groups' rows by Id and see that they are the same
    version of the record; the size is that of the longest query a group makes (a window with
    both ends, an Id range and ORDER BY), so every query of the group fits.
    """
    keys = ["Id", cursor_field]
    sample = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC))
    widest = ("0" * 18, "0" * 18)
    overhead = encoded_length(
        select_soql(sobject, keys, sample, cursor_field, ids=widest, by_id=True)
    )
    others = [name for name in fields if name not in keys]
    costs = [len(quote_plus(f", {name}")) for name in others]
    if overhead + sum(costs) <= budget:
        return [list(fields)]
    groups: list[list[str]] = [[]]
    size = overhead
    for name, cost in zip(others, costs, strict=True):
        if groups[-1] and size + cost > budget:
            groups.append([])
            size = overhead
        groups[-1].append(name)
        size += cost
    return [[*keys, *group] for group in groups]


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


def with_probe(windows: list[Window], lower_bound: datetime, parts: int) -> list[Window]:
    """The first window's first ``parts``-th of time span as a window of its own (the probe),
    then the rest of it, then the other windows."""
    first, *others = windows
    probe = split_evenly(first, lower_bound, parts)[0]
    if probe.end >= first.end:
        return windows  # too narrow to split
    return [probe, Window(probe.end, first.end), *others]


def paced_cut(
    windows: list[Window],
    density: float,
    seconds_per_record: float,
    window_seconds: float,
    min_records: int,
) -> list[Window]:
    """The windows still to read (contiguous), as the next one, sized to run about
    ``window_seconds`` at Salesforce and to hold ``min_records``, then everything after it,
    cut in its turn when the next one's job completes (so each cut uses the density of the
    window read last: recent records are often denser). ``density``: records per second of
    the cursor field's span; ``seconds_per_record``: Salesforce's pace. Unchanged when either
    is unknown (0). The next window is the rest's first of as many equal ones as it takes
    (a last window half again as long would lengthen the load's tail by as much)."""
    if not windows or windows[0].start is None or density <= 0 or seconds_per_record <= 0:
        return windows
    start, end = windows[0].start, windows[-1].end
    records = max(window_seconds / seconds_per_record, min_records)
    span = (end - start).total_seconds()
    parts = math.ceil(span * density / records)  # windows of that size or less, equal
    if parts <= 1:
        return [Window(start, end)]
    cut = floor_second(start + timedelta(seconds=span / parts))
    return [Window(start, end)] if cut <= start else [Window(start, cut), Window(cut, end)]
