"""API request accounting: the rolling 24-hour count behind Sforce-Limit-Info and /limits."""

from __future__ import annotations

import threading
from collections import Counter, deque

WINDOW = 86400
BUCKET = 60


class RollingCounter:
    """Events in the last 24 hours of emulated time, in one-minute buckets."""

    def __init__(self):
        self._buckets: deque[list] = deque()  # [bucket_start, count]
        self._total = 0
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        cutoff = now - WINDOW
        while self._buckets and self._buckets[0][0] + BUCKET <= cutoff:
            self._total -= self._buckets.popleft()[1]

    def add(self, now: float, n: int = 1) -> None:
        start = int(now // BUCKET) * BUCKET
        with self._lock:
            self._expire(now)
            if self._buckets and self._buckets[-1][0] == start:
                self._buckets[-1][1] += n
            else:
                self._buckets.append([start, n])
            self._total += n

    def total(self, now: float) -> int:
        with self._lock:
            self._expire(now)
            return self._total

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._total = 0


class Counters:
    """API calls by kind, calls not counted against the limit, OAuth grants, result bytes."""

    def __init__(self):
        self.api_calls: Counter = Counter()
        self.uncounted: Counter = Counter()
        self.oauth: Counter = Counter()
        self.jobs_created = 0
        self.result_bytes = 0
        self.largest_request_line = 0
        self.largest_request_headers = 0
        self.refused: Counter = Counter()
        self.lock = threading.Lock()

    def note_request_size(self, line: int, headers: int) -> None:
        with self.lock:
            self.largest_request_line = max(self.largest_request_line, line)
            self.largest_request_headers = max(self.largest_request_headers, headers)

    def refuse(self, status: int) -> None:
        with self.lock:
            self.refused[str(status)] += 1

    def call(self, kind: str, counted: bool) -> None:
        with self.lock:
            (self.api_calls if counted else self.uncounted)[kind] += 1

    def grant(self, kind: str) -> None:
        with self.lock:
            self.oauth[kind] += 1

    def clear(self) -> None:
        with self.lock:
            self.api_calls.clear()
            self.uncounted.clear()
            self.oauth.clear()
            self.jobs_created = 0
            self.result_bytes = 0
            self.largest_request_line = 0
            self.largest_request_headers = 0
            self.refused.clear()
