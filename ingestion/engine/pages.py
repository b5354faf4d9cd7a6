"""A completed Bulk job's result pages, fetched a few pages ahead while one is written.

On API 58.0 and later a completed job lists its pages' locators (``resultPages``), so the
pages after the one being written can be asked for at once. Each request is sent from the
engine's thread, outside any transaction, where every API call is budgeted and counted; only
the bodies are downloaded in threads, each into a spooled temporary file (see
``ResultPage.download``), so at most ``depth`` pages wait beside the one being written.

The checkpoint is untouched by this: it stays the locator of the next unwritten page, taken
from the written page's own ``Sforce-Locator``. A page fetched ahead and never written (the
worker died, a page failed) is read again from the checkpoint. Whenever the listed locators
and the checkpoint disagree, or the list cannot be had, the job is read one locator after
another, as before API 58.0.

Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-get-parallel-job-results.md
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from connections.salesforce.exceptions import SalesforceError, SalesforceUnavailable
from connections.salesforce.types import ResultPage

logger = logging.getLogger(__name__)

RESULT_PAGES_VERSION = 58.0
# Pages fetched ahead when a slice ends wait this long for the run's next slice in this
# process (the inline worker, a queue worker taking its own continuation); else dropped.
KEEP_SECONDS = 60.0
_kept: dict[int, tuple[float, PagesAhead]] = {}


class PagesAhead:
    """One object's Bulk result pages; ``page`` returns the page at a checkpoint's locator."""

    def __init__(self, client, *, depth: int, max_records: int) -> None:
        self.client = client
        self.depth = depth if _version(client) >= RESULT_PAGES_VERSION else 0
        self.max_records = max_records
        self._pool: ThreadPoolExecutor | None = None
        self._job_id = ""
        self._listing: Iterator[str | None] | None = None
        self._locators: list[str] = []  # listed so far, in order ("" for the first page)
        self._ahead: dict[str, Future[ResultPage]] = {}
        self._sequential = False

    @classmethod
    def of(cls, client, config, cursor_id: int | None = None) -> PagesAhead:
        """The pages a slice of this cursor's run left fetched ahead, if any, else new."""
        _drop_stale()
        kept = _kept.pop(cursor_id, None) if cursor_id is not None else None
        if kept is not None:
            kept[1].client = client
            return kept[1]
        return cls(client, depth=config.pages_ahead, max_records=config.page_max_records)

    def keep(self, cursor_id: int) -> None:
        """The slice ends: leave the pages fetched ahead to the next slice (see ``of``)
        instead of paying for them again."""
        if not self._ahead:
            self.close()
            return
        _drop_stale()
        previous = _kept.pop(cursor_id, None)
        if previous is not None and previous[1] is not self:
            previous[1].close()
        _kept[cursor_id] = (time.monotonic(), self)

    def page(self, job_id: str, locator: str) -> ResultPage:
        """The page at ``locator`` ("" for the first), streamed or already downloaded."""
        if job_id != self._job_id:
            self.close()
            self._job_id, self._sequential = job_id, not self.depth
        if self._sequential:
            return self._fetch(locator)
        try:
            return self._from_list(locator)
        except SalesforceUnavailable:
            self.close()  # a transient failure: the step's retry reads the checkpoint again
            raise

    def _from_list(self, locator: str) -> ResultPage:
        first = None
        if not locator and self._listing is None:
            # The first page says whether there are more: a one-page job (most incremental
            # windows) costs no list call.
            first = self._fetch(locator)
            if first.next_locator is None:
                return first
        try:
            self._ask_ahead_of(locator)
        except SalesforceUnavailable:
            if first is not None:
                first.close()
            raise
        except SalesforceError as error:
            logger.warning("job %s: resultPages refused (%s)", self._job_id, error)
            self._read_by_locator()
        if first is not None:
            return first
        future = self._ahead.pop(locator, None)
        return future.result() if future is not None else self._fetch(locator)

    def _ask_ahead_of(self, locator: str) -> None:
        """Have the ``depth`` pages after ``locator``'s asked for and downloading."""
        index = self._index_of(locator)
        if index is None:
            logger.warning("job %s: a locator its resultPages do not list", self._job_id)
            self._read_by_locator()
            return
        for following in range(index + 1, index + 1 + self.depth):
            if self._listed(following) and self._locators[following] not in self._ahead:
                self._ask_ahead(self._locators[following])

    def _index_of(self, locator: str) -> int | None:
        index = 0
        while self._listed(index):
            if self._locators[index] == locator:
                return index
            index += 1
        return None

    def _listed(self, index: int) -> bool:
        """Whether page ``index`` exists, asking for more of the list when needed."""
        if self._listing is None:
            self._listing = self.client.bulk_result_locators(
                self._job_id, max_records=self.max_records
            )
        while len(self._locators) <= index:
            locator = next(self._listing, False)
            if locator is False:
                return False
            # The first page's URL may name locator 0 or none; the checkpoint names it "".
            self._locators.append((locator or "") if self._locators else "")
        return True

    def _ask_ahead(self, locator: str) -> None:
        page = self._fetch(locator)  # sent from this thread: budgeted and counted here
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.depth, thread_name_prefix="bulk-page")
        self._ahead[locator] = self._pool.submit(page.download)

    def _fetch(self, locator: str) -> ResultPage:
        return self.client.bulk_result_page(
            self._job_id, locator=locator or None, max_records=self.max_records
        )

    def _read_by_locator(self) -> None:
        job_id = self._job_id
        self.close()
        self._job_id, self._sequential = job_id, True

    def close(self) -> None:
        """Drop every page fetched ahead (each is read again if it is needed)."""
        for future in self._ahead.values():
            future.add_done_callback(_close_page)
        self._ahead.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        self._job_id, self._listing, self._locators = "", None, []


def _drop_stale() -> None:
    now = time.monotonic()
    for cursor_id, (since, pages) in list(_kept.items()):
        if now - since > KEEP_SECONDS:
            del _kept[cursor_id]
            pages.close()


def _close_page(future: Future[ResultPage]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()


def _version(client) -> float:
    try:
        return float(getattr(client, "api_version", "") or 0)
    except ValueError:
        return 0.0
