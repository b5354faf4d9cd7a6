"""Bulk API 2.0 query jobs: lifecycle, snapshot, and CSV result pages.

A job moves UploadComplete → InProgress → JobComplete (or Failed / Aborted) as emulated time
passes, at the org's processing rate. When it completes, the matching record indexes and the
org's change sequence number are frozen: every result page is then rendered lazily, a chunk of
rows at a time, as of that sequence number.
Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-create-job.md
"""

from __future__ import annotations

import base64
import binascii
import threading
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime

from isal import isal_zlib as GZIP  # ISA-L's deflate: about 3.5x zlib's speed at level 1

from emulator.soql.plan import Plan

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
TERMINAL = {"JobComplete", "Failed", "Aborted"}
RETENTION = 7 * 86400
DEFAULT_MAX_RECORDS = 50_000
ROWS_PER_CHUNK = 2000
# A timed-out job's errorMessage (unverified text; REST's QUERY_TIMEOUT message with its code).
QUERY_TIMEOUT_MESSAGE = "QUERY_TIMEOUT: Your query request was running for too long."
STATE_NAMES = {
    "UploadComplete": "UPLOAD_COMPLETE",
    "InProgress": "IN_PROGRESS",
    "Aborted": "ABORTED",
    "Failed": "FAILED",
    "JobComplete": "JOB_COMPLETE",
}


def sf_datetime(epoch: float) -> str:
    """Job timestamps: 2024-04-25T15:50:37.000+0000."""
    dt = datetime.fromtimestamp(epoch, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(dt.microsecond / 1000):03d}+0000"


def encode_locator(offset: int) -> str:
    """Locators as API ≥ 49.0 shows them: base64 of the row offset, unpadded (MTAwMDA)."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
        offset = int(text)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return offset if offset >= 0 else None


@dataclass
class Job:
    id: str
    operation: str
    sobject: str
    user_id: str
    username: str
    created: float
    api_version: str
    column_delimiter: str
    line_ending: str
    plan: Plan
    expected: int
    rate: float | None
    outcome: tuple[str, str | None] | None = None
    state: str = "UploadComplete"
    modstamp: float = 0.0
    started: float | None = None
    finished: float | None = None
    error_message: str | None = None
    snapshot_seq: int | None = None
    matches: array = field(default_factory=lambda: array("I"))
    # (engine, seq, matches) as counted when the job was created: its snapshot if nothing has
    # changed by its completion (Org.snapshot_job); dropped when it ends any other way.
    counted: tuple[object, int, array] | None = None

    @property
    def include_deleted(self) -> bool:
        return self.operation == "queryAll"

    def due_in_progress(self) -> float:
        return self.created + (0.0 if self.rate is None else 0.5)

    def due_complete(self) -> float:
        if self.rate is None:
            return self.created
        return self.due_in_progress() + self.expected / self.rate

    def processed(self, now: float) -> int:
        if self.state == "JobComplete":
            return len(self.matches)
        if self.state != "InProgress" or self.started is None or self.rate is None:
            return 0
        return min(self.expected, int((now - self.started) * self.rate))

    def info(self, now: float, *, full: bool = True) -> dict:
        body = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.user_id,
            "createdDate": sf_datetime(self.created),
            "systemModstamp": sf_datetime(self.modstamp or self.created),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
        }
        if not full:
            body["lineEnding"] = self.line_ending
            body["columnDelimiter"] = self.column_delimiter
            return body
        end = self.finished if self.finished is not None else now
        body.update(
            {
                "jobType": "V2Query",
                "lineEnding": self.line_ending,
                "columnDelimiter": self.column_delimiter,
                "numberRecordsProcessed": self.processed(now),
                "retries": 0,
                "totalProcessingTime": int(max(0.0, end - self.started) * 1000)
                if self.started is not None
                else 0,
                "isPkChunkingSupported": True,
            }
        )
        if self.error_message is not None:
            body["errorMessage"] = self.error_message
        return body


class BulkJobs:
    """All query jobs of an org."""

    def __init__(self, org):
        self.org = org
        self.jobs: dict[str, Job] = {}
        self.active: dict[str, Job] = {}  # jobs not yet in a terminal state
        self.counter = 0
        self.lock = threading.RLock()
        self._swept = 0.0

    def new_id(self) -> str:
        with self.lock:
            self.counter += 1
            return self.org.data.codec("750").encode(self.counter)

    def add(self, job: Job) -> None:
        with self.lock:
            self.jobs[job.id] = job
            self.active[job.id] = job

    def get(self, job_id: str) -> Job | None:
        """The job, unless unknown, deleted or past its 7-day retention."""
        self.settle()
        job = self.jobs.get(job_id)
        expired = job is not None and job.state in TERMINAL and self._expired(job)
        return None if expired else job

    def _expired(self, job: Job) -> bool:
        return self.org.clock.time() - (job.modstamp or job.created) > RETENTION

    def created_since(self, since: float) -> int:
        return sum(1 for j in self.jobs.values() if j.created >= since)

    def settle(self) -> None:
        """Move unfinished jobs to the state their timing says they have reached (called before
        every data change, so completions snapshot first); drop expired jobs now and then."""
        now = self.org.clock.time()
        with self.lock:
            for job in list(self.active.values()):
                self._advance(job, now)
                if job.state in TERMINAL:
                    self.active.pop(job.id, None)
            if now - self._swept > 60:
                self._swept = now
                for job in list(self.jobs.values()):
                    if job.state in TERMINAL and now - (job.modstamp or job.created) > RETENTION:
                        del self.jobs[job.id]

    def _advance(self, job: Job, now: float) -> None:
        if job.state in TERMINAL:
            return
        if job.state == "UploadComplete" and now >= job.due_in_progress():
            job.state = "InProgress"
            job.started = job.due_in_progress()
            job.modstamp = job.started
        if job.state != "InProgress" or (job.outcome and job.outcome[0] == "stuck"):
            return
        due = job.due_complete()
        if now < due:
            return
        job.finished = due
        job.modstamp = due
        if job.outcome and job.outcome[0] == "fail":
            job.counted = None
            job.state = "Failed"
            job.error_message = job.outcome[1]
            return
        self.org.snapshot_job(job)
        limit = self.org.faults.query_timeout_rows()
        if limit is not None and len(job.matches) > limit:
            job.state = "Failed"
            job.error_message = QUERY_TIMEOUT_MESSAGE
            job.matches = array("I")
            return
        job.state = "JobComplete"

    def abort(self, job: Job) -> bool:
        with self.lock:
            self._advance(job, self.org.clock.time())
            if job.state not in ("UploadComplete", "InProgress"):
                return False
            self.active.pop(job.id, None)
            job.state = "Aborted"
            job.counted = None
            job.modstamp = self.org.clock.time()
            job.finished = job.modstamp
            return True

    def delete(self, job: Job) -> bool:
        with self.lock:
            if job.state not in TERMINAL:
                return False
            self.jobs.pop(job.id, None)
            return True

    def clear(self) -> None:
        with self.lock:
            self.jobs.clear()
            self.active.clear()


def _texts(org, job: Job, offset: int, count: int, cut_after: int | None):
    """The page's text in chunks of ROWS_PER_CHUNK rows (header first); stops early (and
    yields CUT) when cut_after rows have gone out."""
    delim = DELIMITERS[job.column_delimiter]
    newline = LINE_ENDINGS[job.line_ending]
    plan = job.plan
    idxs = job.matches[offset : offset + count]
    yield delim.join('"' + c.header.replace('"', '""') + '"' for c in plan.columns) + newline
    sent = 0
    for start in range(0, len(idxs), ROWS_PER_CHUNK):
        part = idxs[start : start + ROWS_PER_CHUNK]
        if cut_after is not None and sent + len(part) > cut_after:
            part = part[: max(0, cut_after - sent)]
            if len(part):
                yield (
                    newline.join(org.engine.csv_lines(plan, part, job.snapshot_seq, delim))
                    + newline
                )
            yield CUT
            return
        yield newline.join(org.engine.csv_lines(plan, part, job.snapshot_seq, delim)) + newline
        sent += len(part)


CUT = object()


def csv_page(org, job: Job, offset: int, count: int, *, gzip: bool, cut_after: int | None):
    """Generate one result page as bytes chunks (header + rows), lazily, optionally gzipped.

    With cut_after set, the stream stops after that many rows and raises, so the server drops
    the connection mid-body and the client sees a broken chunked transfer."""
    compressor = GZIP.compressobj(1, GZIP.DEFLATED, 31) if gzip else None
    for text in _texts(org, job, offset, count, cut_after):
        if text is CUT:
            if compressor is not None:
                yield compressor.flush(GZIP.Z_SYNC_FLUSH)
            raise ConnectionAbortedError("emulator fault: result stream cut")
        data = text.encode("utf-8")
        org.note_result_bytes(len(data))
        if compressor is not None:
            data = compressor.compress(data)
        if data:
            yield data
    if compressor is not None:
        yield compressor.flush()
