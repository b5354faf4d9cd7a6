"""Plain values the Salesforce client hands out. No Django imports here."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiUsage:
    """Org-wide usage from ``Sforce-Limit-Info: api-usage=USED/MAX``."""

    used: int
    max: int


@dataclass(frozen=True)
class CallRecord:
    """One API call as the usage recorder sees it. ``kind`` is one of: ``versions``,
    ``limits``, ``describe_global``, ``describe``, ``query``, ``query_more``, ``count``,
    ``identity``, ``userinfo``, ``blob``, ``bulk_create``, ``bulk_poll``, ``bulk_results``,
    ``bulk_abort``, ``bulk_delete``, ``oauth_token``, ``oauth_revoke``."""

    kind: str
    method: str
    path: str
    status: int | None
    usage: ApiUsage | None
    counts_against_limit: bool


UsageRecorder = Callable[[CallRecord], None]


@dataclass(frozen=True)
class TokenSet:
    """A token response: ``refresh_token`` only when Salesforce returned one (first grant,
    or rotation)."""

    access_token: str
    instance_url: str
    identity_url: str
    issued_at_ms: int | None = None
    refresh_token: str | None = None
    scope: str = ""
    token_type: str = "Bearer"

    def __repr__(self) -> str:
        return f"TokenSet(instance_url={self.instance_url!r}, scope={self.scope!r})"


@dataclass(frozen=True)
class QueryPage:
    """One page of a REST query: records without ``attributes``, plus paging state."""

    records: list[dict[str, Any]]
    total_size: int
    done: bool
    next_records_url: str | None


@dataclass(frozen=True)
class BulkJob:
    """A Bulk API 2.0 query job's info (``GET /jobs/query/{id}``)."""

    id: str
    state: str
    operation: str
    object: str
    api_version: str
    created_date: str = ""
    system_modstamp: str = ""  # when the job last changed state: its completion, once complete
    number_records_processed: int = 0
    retries: int = 0
    total_processing_time_ms: int = 0
    error_message: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    TERMINAL_STATES = ("JobComplete", "Failed", "Aborted")

    @property
    def is_terminal(self) -> bool:
        return self.state in self.TERMINAL_STATES


# A downloaded result page is held in memory up to this size, then on disk (the page cache):
# pages fetched ahead for several objects at once must not add to the worker's memory (at
# 16 MB the latency bench's worker peaked at 341 MB instead of 193).
SPOOL_BYTES = 1024 * 1024


class ResultPage:
    """One page of a Bulk query job's CSV results, streamed.

    Use as a context manager; ``text()`` is a text stream (gzip already undone, ``newline=""``
    so ``csv.reader`` sees embedded newlines) read straight off the socket: the page is never
    held whole in memory. Reading a page whose connection breaks raises
    ``SalesforceUnavailable``; the caller re-fetches the page from the same ``locator``.
    """

    def __init__(
        self,
        *,
        locator: str | None,
        next_locator: str | None,
        number_of_records: int | None,
        text: io.TextIOBase,
        close: Callable[[], None],
        download: Callable[[], tuple[io.TextIOBase, Callable[[], None]]] | None = None,
    ) -> None:
        self.locator = locator
        self.next_locator = next_locator
        self.number_of_records = number_of_records
        self._text = text
        self._close = close
        self._download = download

    def text(self) -> io.TextIOBase:
        return self._text

    def close(self) -> None:
        self._close()

    def download(self) -> ResultPage:
        """Read the whole body now, into a spooled temporary file (memory up to a bound, then
        disk), so the page can wait for its turn without holding a connection's data in
        memory. Raises ``SalesforceUnavailable`` as reading the stream would."""
        if self._download is not None:
            self._text, self._close = self._download()
            return self
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (kept open)
        try:
            for line in self._text:
                spool.write(line.encode())
        finally:
            self._close()
        spool.seek(0)
        self._text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        self._close = self._text.close
        return self

    def __enter__(self) -> ResultPage:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        return iter(self._text)
