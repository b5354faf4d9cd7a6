"""A small in-memory Salesforce behind the client contract, for engine unit tests.

It understands only the query shapes the engine sends (field lists, COUNT(), a window on the
cursor field, ORDER BY ... LIMIT 1) and makes faults easy to place exactly. End-to-end tests use
the real client against the emulator instead.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connections.salesforce.exceptions import (
    SalesforceNotFound,
    SalesforceQueryError,
    SalesforceRateLimited,
    SalesforceUnavailable,
)
from connections.salesforce.types import BulkJob, CallRecord, QueryPage, ResultPage

_SOQL = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<obj>\w+)(?: WHERE (?P<where>.+?))?"
    r"(?: ORDER BY (?P<order>\w+) ASC)?(?: LIMIT (?P<limit>\d+))?$"
)
_CLAUSE = re.compile(r"^(\w+) (>=|<) (\S+)$")

TEXT, DATETIME = "string", "datetime"


def sf_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def field_def(name: str, type_: str = TEXT, **extra) -> dict:
    return {
        "name": name,
        "type": type_,
        "label": name,
        "calculated": False,
        "filterable": True,
        "nillable": True,
        "picklistValues": [],
        "referenceTo": [],
        "compoundFieldName": None,
        **extra,
    }


BASE_FIELDS = [
    field_def("Id", "id"),
    field_def("IsDeleted", "boolean"),
    field_def("Name"),
    field_def("SystemModstamp", DATETIME),
]


@dataclass
class FakeJob:
    id: str
    sobject: str
    columns: list[str]
    rows: list[dict]
    polls_left: int
    state: str = "UploadComplete"
    error: str = ""


@dataclass
class FakeOrg:
    """Records, schema, a clock and fault switches."""

    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    schema: dict[str, list[dict]] = field(default_factory=dict)
    records: dict[str, dict[str, dict]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    # Fields the org has but field-level security hides from the user (not in the describe).
    hidden_fields: dict[str, list[dict]] = field(default_factory=dict)
    polls_to_complete: int = 1
    rest_page_size: int = 2000
    fail_jobs: int = 0
    cut_pages: int = 0
    rate_limited_after: int | None = None
    # 58.0 and later list a job's result pages (resultPages), so the engine fetches ahead;
    # the engine's tests read one page after another unless they ask for that.
    api_version: str = "57.0"
    result_pages_fail: bool = False  # resultPages answers with an error
    result_pages_skew: bool = False  # its locators are not those the pages name
    calls: list[str] = field(default_factory=list)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_object(self, sobject: str, extra_fields: list[dict] = ()) -> None:
        self.schema[sobject] = [*BASE_FIELDS, *extra_fields]
        self.records.setdefault(sobject, {})

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def upsert(self, sobject: str, sf_id: str | None = None, **values) -> str:
        sf_id = sf_id or f"{sobject[:3].upper()}{next(self._ids):015d}"
        record = self.records[sobject].setdefault(sf_id, {"Id": sf_id, "IsDeleted": False})
        record.update(values, SystemModstamp=sf_datetime(self.tick()))
        return sf_id

    def delete(self, sobject: str, sf_id: str) -> None:
        self.upsert(sobject, sf_id, IsDeleted=True)

    def purge(self, sobject: str, sf_id: str) -> None:
        del self.records[sobject][sf_id]


def _stamp(record: dict) -> datetime:
    return datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.000+0000").replace(
        tzinfo=UTC
    )


class FakeClient:
    """Implements the SalesforceClient methods the engine uses."""

    retry_attempts = 1  # it never retries a request itself: the engine's retries are all

    def __init__(self, org: FakeOrg, recorder=None, on_call=None) -> None:
        self.org = org
        self.recorder = recorder
        self.on_call = on_call
        self.retries = 0

    @property
    def last_server_time(self) -> datetime:
        return self.org.now

    @property
    def api_version(self) -> str:
        return self.org.api_version

    def _call(self, kind: str) -> None:
        if (
            self.org.rate_limited_after is not None
            and len(self.org.calls) >= self.org.rate_limited_after
        ):
            raise SalesforceRateLimited(
                "TotalRequests Limit exceeded.", status=403, error_code="REQUEST_LIMIT_EXCEEDED"
            )
        if self.on_call:
            self.on_call(kind)  # like the real client: counted as it is made
        self.org.calls.append(kind)
        self.org.tick()  # time passes at Salesforce while we work
        if self.recorder:
            self.recorder(CallRecord(kind, "GET", "/", 200, None, True))

    # -- REST ----------------------------------------------------------------------------------
    def describe(self, sobject: str) -> dict:
        self._call("describe")
        if sobject in self.org.unreadable or sobject not in self.org.schema:
            raise SalesforceNotFound("The requested resource does not exist", status=404)
        return {"name": sobject, "queryable": True, "fields": self.org.schema[sobject]}

    def field_definitions(self, sobject: str) -> list[dict]:
        self._call("query")
        fields = [*self.org.schema.get(sobject, []), *self.org.hidden_fields.get(sobject, [])]
        return [{"name": f["name"], "label": f["label"]} for f in fields]

    def _select(self, soql: str, include_deleted: bool) -> tuple[str, list[str], list[dict]]:
        match = _SOQL.match(soql)
        assert match, soql
        sobject = match["obj"]
        if sobject in self.org.unreadable:
            raise SalesforceQueryError("sObject type not supported", error_code="INVALID_TYPE")
        known = {f["name"] for f in self.org.schema[sobject]}
        columns = [c.strip() for c in match["fields"].split(",")]
        missing = [c for c in columns if c != "COUNT()" and c not in known]
        if missing:
            raise SalesforceQueryError(f"No such column '{missing[0]}'", error_code="INVALID_FIELD")
        rows = [
            r for r in self.org.records[sobject].values() if include_deleted or not r["IsDeleted"]
        ]
        for clause in (match["where"] or "").split(" AND ") if match["where"] else ():
            _name, op, literal = _CLAUSE.match(clause).groups()
            bound = datetime.strptime(literal, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            rows = [r for r in rows if (_stamp(r) >= bound if op == ">=" else _stamp(r) < bound)]
        if match["order"]:
            rows.sort(key=_stamp)
        if match["limit"]:
            rows = rows[: int(match["limit"])]
        return sobject, columns, rows

    def count(self, soql: str, *, include_deleted: bool = False) -> int:
        self._call("count")
        return len(self._select(soql, include_deleted)[2])

    def query_pages(self, soql, *, include_deleted=False, batch_size=None, next_records_url=None):
        if next_records_url:
            soql, offset = next_records_url.rsplit("|", 1)
            offset = int(offset)
        else:
            offset = 0
        _, columns, rows = self._select(soql, include_deleted)
        size = self.org.rest_page_size
        while True:
            self._call("query_more" if offset else "query")
            chunk = rows[offset : offset + size]
            offset += size
            done = offset >= len(rows)
            yield QueryPage(
                records=[{c: r.get(c) for c in columns} for r in chunk],
                total_size=len(rows),
                done=done,
                next_records_url=None if done else f"{soql}|{offset}",
            )
            if done:
                return

    def query(self, soql: str, *, include_deleted: bool = False):
        for page in self.query_pages(soql, include_deleted=include_deleted):
            yield from page.records

    def get_blob(self, path: str) -> bytes:
        self._call("blob")
        return path.encode()

    # -- Bulk API 2.0 ----------------------------------------------------------------------
    def bulk_create_query_job(self, soql: str, *, include_deleted: bool = True) -> BulkJob:
        self._call("bulk_create")
        sobject, columns, rows = self._select(soql, include_deleted)
        job = FakeJob(
            f"750{len(self.org.jobs) + 1:015d}", sobject, columns, rows, self.org.polls_to_complete
        )
        if self.org.fail_jobs:
            self.org.fail_jobs -= 1
            job.error = "InternalServerError"
        self.org.jobs[job.id] = job
        return self._info(job)

    def _info(self, job: FakeJob) -> BulkJob:
        return BulkJob(job.id, job.state, "queryAll", job.sobject, "62.0", error_message=job.error)

    def bulk_get_job(self, job_id: str) -> BulkJob:
        self._call("bulk_poll")
        job = self.org.jobs.get(job_id)
        if job is None:
            raise SalesforceNotFound("job not found", status=404)
        if job.state in ("UploadComplete", "InProgress"):
            job.polls_left -= 1
            job.state = (
                "InProgress" if job.polls_left > 0 else ("Failed" if job.error else "JobComplete")
            )
        return self._info(job)

    def bulk_abort_job(self, job_id: str) -> BulkJob:
        self._call("bulk_abort")
        self.org.jobs[job_id].state = "Aborted"
        return self._info(self.org.jobs[job_id])

    def bulk_result_page(self, job_id: str, *, locator=None, max_records=None) -> ResultPage:
        self._call("bulk_results")
        job = self.org.jobs[job_id]
        start = int((locator or "0").rstrip("x"))  # "x": see result_pages_skew
        size = max_records or 50_000
        chunk = job.rows[start : start + size]
        nxt = start + size
        text = _csv(job.columns, chunk)
        if self.org.cut_pages:
            self.org.cut_pages -= 1
            text = _CutStream(text)
        else:
            text = io.StringIO(text, newline="")
        return ResultPage(
            locator=locator,
            next_locator=str(nxt) if nxt < len(job.rows) else None,
            number_of_records=len(chunk),
            text=text,
            close=lambda: None,
        )

    def bulk_result_locators(self, job_id: str, *, max_records=None):
        rows = len(self.org.jobs[job_id].rows)
        size = max_records or 50_000
        starts = list(range(0, max(rows, 1), size))
        for first in range(0, len(starts), 5):  # five pages per response, as Salesforce
            self._call("bulk_result_pages")
            if self.org.result_pages_fail:
                raise SalesforceQueryError("resultPages refused", error_code="API_ERROR")
            for start in starts[first : first + 5]:
                skew = "x" if self.org.result_pages_skew else ""
                yield f"{start}{skew}" if start else None


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.endswith("+0000"):
        return value.replace("+0000", "Z")
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def _csv(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])
    return out.getvalue()


class _CutStream(io.StringIO):
    """Yields the header and a couple of rows, then breaks like a cut connection."""

    def __iter__(self):
        for n, line in enumerate(io.StringIO(self.getvalue(), newline="")):
            if n == 3:
                raise SalesforceUnavailable("Connection broken: IncompleteRead", status=200)
            yield line
