"""Emulated time, and the two ways Salesforce writes a datetime.

Emulated time is wall time plus an offset that only grows (`advance`), so tokens, codes and Bulk
jobs age as they would, and tests can jump days ahead. Record timestamps are kept as integer
epoch seconds (Salesforce datetimes have whole seconds, shown with `.000` milliseconds).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

EPOCH_DATE = date(1970, 1, 1)


class Clock:
    """Wall clock plus a forward-only offset."""

    def __init__(self):
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Emulated now as epoch seconds (float)."""
        return time.time() + self._offset

    def now(self) -> datetime:
        """Emulated now, UTC, timezone-aware."""
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> datetime:
        """Move emulated time forward; returns the new now."""
        if seconds < 0:
            raise ValueError("the emulated clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        return self._offset

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


class TimeFormats:
    """Fast formatting of epoch seconds, with per-day caches (CSV rendering calls it per row)."""

    def __init__(self):
        self._days: dict[int, str] = {}
        self._hm = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
        self._ss = [f"{s:02d}.000" for s in range(60)]
        self._tod: list[str] | None = None  # "HH:MM:SS.000Z\"" for each second of a day

    def day(self, day_number: int) -> str:
        """ISO date of a day number (days since 1970-01-01)."""
        s = self._days.get(day_number)
        if s is None:
            s = (EPOCH_DATE + timedelta(days=day_number)).isoformat()
            self._days[day_number] = s
        return s

    def _split(self, epoch: int) -> str:
        d, sod = divmod(epoch, 86400)
        return self.day(d) + "T" + self._hm[sod // 60] + self._ss[sod % 60]

    def rest(self, epoch: int | None) -> str | None:
        """REST JSON form: 2024-04-16T19:00:00.000+0000."""
        return None if epoch is None else self._split(epoch) + "+0000"

    def bulk(self, epoch: int) -> str:
        """Bulk CSV form: 2024-04-16T19:00:00.000Z."""
        return self._split(epoch) + "Z"

    def _quoted_days(self, epochs) -> dict[int, str]:
        """'"YYYY-MM-DDT' for every day the epochs fall on."""
        out = {}
        for e in epochs:
            if e is not None:
                d = e // 86400
                if d not in out:
                    out[d] = '"' + self.day(d) + "T"
        return out

    def bulk_column(self, epochs: list) -> list[str]:
        """Quoted Bulk CSV cells for a column of epochs (None → empty quoted cell)."""
        if self._tod is None:
            self._tod = [h + s + 'Z"' for h in self._hm for s in self._ss]
        tod = self._tod
        days = self._quoted_days(epochs)
        if None in epochs:
            return ['""' if e is None else days[e // 86400] + tod[e % 86400] for e in epochs]
        return [days[e // 86400] + tod[e % 86400] for e in epochs]


FORMATS = TimeFormats()


def epoch_of(value) -> int | None:
    """Epoch seconds from a datetime, an ISO string (Z, +0000 or +00:00 offsets) or a number."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("not a datetime")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        elif len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp())
    raise TypeError(f"not a datetime: {value!r}")
