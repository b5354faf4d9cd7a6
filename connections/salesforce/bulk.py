"""Bulk API 2.0 query jobs: create, poll, stream result pages, abort, delete.

Mixed into ``SalesforceClient``, so every call goes through its ``_request``. Result pages are
streamed off the socket (gzip requested and undone on the fly), never held whole in memory, and
a connection cut mid-page surfaces as ``SalesforceUnavailable`` so the caller re-reads the page
from the same locator.

Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-create-job.md
"""

from __future__ import annotations

import http.client
import io
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import urllib3.exceptions
from isal import igzip, isal_zlib

from connections.salesforce.exceptions import SalesforceUnavailable
from connections.salesforce.types import SPOOL_BYTES, BulkJob, ResultPage

if TYPE_CHECKING:
    import requests

_READ_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


def _interrupted(path: str) -> SalesforceUnavailable:
    return SalesforceUnavailable(
        "The download of a Bulk result page was cut off; read the page again.",
        error_code="DOWNLOAD_INTERRUPTED",
        url=path,
    )


def _gunzipped(body: io.BufferedIOBase, response: requests.Response, path: str) -> io.IOBase:
    """The body with its gzip undone, if it has one. ISA-L's inflate (``isal``, the same
    ``GzipFile`` interface) takes 1.0 µs per row of a 65-column Contact page against 2.6 µs
    for zlib's, which the gzip module and urllib3 use: 16 s of the worker's CPU at 10M
    records (bench/README.md, "A load's planning without a scan, result pages inflated by
    ISA-L")."""
    if response.headers.get("Content-Encoding", "").lower() not in ("gzip", "x-gzip"):
        return body
    return io.BufferedReader(_Inflated(body, path), buffer_size=256 * 1024)


class _Inflated(io.RawIOBase):
    """A gzipped body, inflated as it is read. One that ends before its gzip stream does (a
    connection closed early without an error, or a spool cut short) is a broken download, to
    be read again, not a short page."""

    def __init__(self, body: io.BufferedIOBase, path: str) -> None:
        self._gzip = igzip.IGzipFile(fileobj=body, mode="rb")
        self._path = path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            return self._gzip.readinto(buffer)
        except (EOFError, igzip.BadGzipFile, isal_zlib.error) as exc:
            raise _interrupted(self._path) from exc

    def close(self) -> None:
        self._gzip.close()  # not the body: its owner closes it
        super().close()


def bulk_job_from_json(data: dict[str, Any]) -> BulkJob:
    """A ``BulkJob`` from a job-info body (``apiVersion`` is a JSON number such as 57.0)."""
    version = data.get("apiVersion", "")
    return BulkJob(
        id=data["id"],
        state=data.get("state", ""),
        operation=data.get("operation", ""),
        object=data.get("object", ""),
        api_version=f"{float(version):.1f}" if version != "" else "",
        created_date=data.get("createdDate", ""),
        system_modstamp=data.get("systemModstamp", ""),
        number_records_processed=int(data.get("numberRecordsProcessed") or 0),
        retries=int(data.get("retries") or 0),
        total_processing_time_ms=int(data.get("totalProcessingTime") or 0),
        error_message=data.get("errorMessage") or "",
        raw=data,
    )


class _GuardedRaw(io.RawIOBase):
    """The body of a streamed response as it came (``_gunzipped`` undoes its gzip); a broken
    connection becomes ``SalesforceUnavailable`` instead of a urllib3/http.client/socket
    error."""

    def __init__(self, response: requests.Response, path: str) -> None:
        self._raw = response.raw
        self._path = path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._raw.read(len(buffer), decode_content=False)
        except _READ_ERRORS as exc:
            raise _interrupted(self._path) from exc
        buffer[: len(data)] = data
        return len(data)


def result_page(response: requests.Response, *, locator: str | None, path: str) -> ResultPage:
    """Wrap a streamed results response as a ``ResultPage`` (``Sforce-Locator: null`` = last)."""
    next_locator = response.headers.get("Sforce-Locator") or None
    if next_locator == "null":
        next_locator = None
    count = response.headers.get("Sforce-NumberOfRecords")
    buffered = io.BufferedReader(_GuardedRaw(response, path), buffer_size=256 * 1024)
    text = io.TextIOWrapper(_gunzipped(buffered, response, path), encoding="utf-8", newline="")
    return ResultPage(
        locator=locator,
        next_locator=next_locator,
        number_of_records=int(count) if count and count.isdigit() else None,
        text=text,
        close=response.close,
        download=lambda: _downloaded(response, path),
    )


def _downloaded(response: requests.Response, path: str) -> tuple[io.TextIOBase, Any]:
    """The body as it came (still gzipped: several times smaller) in a spooled temporary
    file, and a text stream that undoes the gzip as it is read."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    try:
        for chunk in response.raw.stream(256 * 1024, decode_content=False):
            spool.write(chunk)
    except _READ_ERRORS as exc:
        spool.close()
        raise _interrupted(path) from exc
    finally:
        response.close()
    spool.seek(0)
    text = io.TextIOWrapper(_gunzipped(spool, response, path), encoding="utf-8", newline="")

    def close() -> None:
        text.close()
        spool.close()

    return text, close


class BulkQueryMixin:
    """Bulk API 2.0 query-job methods; the host class supplies ``_request`` and ``base``."""

    def _job_path(self, job_id: str) -> str:
        return f"{self.base}/jobs/query/{quote(job_id, safe='')}"

    def bulk_create_query_job(self, soql: str, *, include_deleted: bool = True) -> BulkJob:
        """Start a query job (``queryAll`` when ``include_deleted``: deleted rows come too).

        Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-create-job.md
        """
        body = {
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        path = f"{self.base}/jobs/query"
        response = self._request("POST", path, kind="bulk_create", json=body)
        return bulk_job_from_json(response.json())

    def bulk_get_job(self, job_id: str) -> BulkJob:
        """A job's state; ``Failed`` jobs come back as a normal ``BulkJob`` with the message.

        Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-get-one-job.md
        """
        response = self._request("GET", self._job_path(job_id), kind="bulk_poll")
        return bulk_job_from_json(response.json())

    def bulk_result_page(
        self, job_id: str, *, locator: str | None = None, max_records: int | None = None
    ) -> ResultPage:
        """One page of a completed job's CSV, streamed; use it as a context manager.

        Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-get-job-results.md
        """
        params: dict[str, Any] = {}
        if locator:
            params["locator"] = locator
        if max_records:
            params["maxRecords"] = max_records
        path = f"{self._job_path(job_id)}/results"
        headers = {"Accept": "text/csv", "Accept-Encoding": "gzip"}
        response = self._request(
            "GET", path, kind="bulk_results", params=params, headers=headers, stream=True
        )
        return result_page(response, locator=locator, path=path)

    def bulk_result_locators(
        self, job_id: str, *, max_records: int | None = None
    ) -> Iterator[str | None]:
        """The locator of each result page of a completed job, in order, from its
        ``resultPages`` list (API 58.0 and later; one call per five pages). The first page's
        URL may carry no locator: it yields None.

        Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-get-parallel-job-results.md
        """
        path: str | None = f"{self._job_path(job_id)}/resultPages"
        params: dict[str, Any] | None = {"maxRecords": max_records} if max_records else None
        while path:
            data = self._request("GET", path, kind="bulk_result_pages", params=params).json()
            for page in data.get("resultPages") or ():
                # The doc's prose names the item key resultUrl (a Postman schema resultLink).
                url = page.get("resultUrl") or page.get("resultLink") or ""
                yield parse_qs(urlsplit(url).query).get("locator", [None])[0]
            # The doc's table spells nextRecordUrl, its prose nextRecordsUrl.
            more = data.get("nextRecordsUrl") or data.get("nextRecordUrl")
            path = None if data.get("done", True) or not more else more
            params = None  # the next list's URL carries its own

    def bulk_abort_job(self, job_id: str) -> BulkJob:
        """Abort a job that is still queued or running.

        Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-abort-job.md
        """
        response = self._request(
            "PATCH", self._job_path(job_id), kind="bulk_abort", json={"state": "Aborted"}
        )
        return bulk_job_from_json(response.json())

    def bulk_delete_job(self, job_id: str) -> None:
        """Delete a finished, failed or aborted job and its results (the job, never records).

        Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-delete-job.md
        """
        self._request("DELETE", self._job_path(job_id), kind="bulk_delete").close()

    def bulk_list_jobs(self) -> Iterator[BulkJob]:
        """The org's Bulk API 2.0 query jobs still kept (deleted ones are not listed), page by
        page through ``nextRecordsUrl``; in no particular order.

        Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-get-all-jobs.md
        """
        path: str | None = f"{self.base}/jobs/query"
        params: dict[str, Any] | None = {"jobType": "V2Query"}
        while path:
            data = self._request("GET", path, kind="bulk_list", params=params).json()
            yield from (bulk_job_from_json(job) for job in data.get("records") or ())
            path = None if data.get("done", True) else data.get("nextRecordsUrl")
            params = None  # the next page's URL carries its own
