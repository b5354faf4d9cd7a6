"""Bulk API 2.0 query job endpoints.

Reference: https://developer.salesforce.com/docs/platform/api-asynch/guide/query-create-job.md
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from emulator.bulk import (
    DEFAULT_MAX_RECORDS,
    DELIMITERS,
    LINE_ENDINGS,
    STATE_NAMES,
    Job,
    csv_page,
    decode_locator,
    encode_locator,
)
from emulator.soql.parser import parse
from emulator.web.common import api_call, json_response, not_found, sf_error

MIN_BULK_VERSION = 47.0
MIN_RESULT_PAGES_VERSION = 58.0
LIST_PAGE = 1000


def _bad(message: str, code: str = "API_ERROR") -> Response:
    return sf_error(400, code, message)


def _check_query(org, username: str, soql: str):
    """Bulk-specific refusals, then the same SOQL checks as REST (errors keep REST codes)."""
    q = parse(soql)
    obj = org.view(username).object(q.sobject)
    if obj is not None and not obj.queryable:
        return None, _bad("API does not support query")
    if obj is not None and not obj.bulk_supported:
        return None, _bad(f"Entity '{obj.name}' is not supported by the Bulk API.", "INVALIDENTITY")
    plan = org.compile(soql, username)
    if plan.count is not None:
        # Unverified wording: Bulk 2.0 documents aggregate functions as unsupported.
        return None, _bad("Aggregate queries are not supported by Bulk API 2.0 query jobs.")
    if plan.offset is not None:
        return None, _bad("OFFSET is not supported by Bulk API 2.0 query jobs.")
    if any(c.field.is_compound for c in plan.columns):
        return None, _bad("Selecting compound data not supported in Bulk Query")
    if plan.uses_base64:
        # Bulk 1.0 said "FeatureNotEnabled : Binary field not supported"; 2.0's text is unverified.
        return None, _bad("Binary field not supported", "FEATURENOTENABLED")
    return plan, None


def create(org, request: Request, version: str) -> Response:
    def handler(session, state, v):
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _bad("Unable to parse the request body as JSON.", "JSON_PARSER_ERROR")
        if not isinstance(body, dict):
            return _bad("The request body must be a JSON object.", "JSON_PARSER_ERROR")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            return _bad(f"Invalid operation: {operation}. Use query or queryAll.", "INVALIDJOB")
        if not body.get("query"):
            return _bad("The query field is required.", "INVALIDJOB")
        if body.get("contentType", "CSV") != "CSV":
            return _bad("Only CSV is supported as contentType.", "INVALIDJOB")
        delim = body.get("columnDelimiter", "COMMA")
        ending = body.get("lineEnding", "LF")
        if delim not in DELIMITERS:
            return _bad(f"Invalid columnDelimiter: {delim}", "INVALIDJOB")
        if ending not in LINE_ENDINGS:
            return _bad(f"Invalid lineEnding: {ending}", "INVALIDJOB")
        now = org.clock.time()
        if org.job_usage.total(now) >= org.bulk_daily_jobs:
            # The message is real (matched by a production connector); the code is unverified.
            return _bad(
                f"Max bulk v2 query jobs ({org.bulk_daily_jobs}) per 24 hrs has been reached",
                "LIMIT_EXCEEDED",
            )
        plan, refusal = _check_query(org, session.username, body["query"])
        if refusal is not None:
            return refusal
        include_deleted = operation == "queryAll"
        with org.lock:
            # Matched now to count them (an unfiltered query too, which a count alone would
            # not match), and kept: a job made ahead is usually completed with nothing changed
            # meanwhile, and its completion would match them all again (Org.snapshot_job).
            counted = (
                org.engine,
                org.seq,
                org.engine.matching(plan, include_deleted=include_deleted, seq=org.seq),
            )
        job = Job(
            id=org.jobs.new_id(),
            operation=operation,
            sobject=plan.sobject.name,
            user_id=org.user_id(session.username),
            username=session.username,
            created=now,
            api_version=v,
            column_delimiter=delim,
            line_ending=ending,
            plan=plan,
            expected=len(counted[2]),
            rate=org.processing_rate,
            outcome=org.faults.job_outcome(plan.sobject.name),
            counted=counted,
        )
        job.modstamp = now
        org.jobs.add(job)
        org.job_usage.add(now)
        org.counters_state.jobs_created += 1
        # 200 as the recorded create response shows (some docs say 201; unverified).
        return json_response(job.info(now, full=False))

    return api_call(org, request, version, "bulk_create", handler, min_version=MIN_BULK_VERSION)


def _job(org, job_id: str) -> Job | None:
    return org.jobs.get(job_id)


def info(org, request: Request, version: str, job_id: str) -> Response:
    def handler(session, state, v):
        job = _job(org, job_id)
        if job is None:
            return not_found()
        return json_response(job.info(org.clock.time()))

    return api_call(org, request, version, "bulk_poll", handler, min_version=MIN_BULK_VERSION)


def abort(org, request: Request, version: str, job_id: str) -> Response:
    def handler(session, state, v):
        job = _job(org, job_id)
        if job is None:
            return not_found()
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _bad("Unable to parse the request body as JSON.", "JSON_PARSER_ERROR")
        if body.get("state") != "Aborted":
            return _bad("Query jobs can only be set to the Aborted state.", "INVALIDJOBSTATE")
        if not org.jobs.abort(job):
            # Unverified errorCode for aborting a finished job.
            return _bad(f"Aborting already {job.state} Job not allowed", "INVALIDJOBSTATE")
        return json_response(job.info(org.clock.time(), full=False))

    return api_call(org, request, version, "bulk_abort", handler, min_version=MIN_BULK_VERSION)


def delete(org, request: Request, version: str, job_id: str) -> Response:
    def handler(session, state, v):
        job = _job(org, job_id)
        if job is None:
            return not_found()
        if not org.jobs.delete(job):
            return _bad("Error encountered when deleting the job because the job is not terminated")
        return Response(status=204)

    return api_call(org, request, version, "bulk_delete", handler, min_version=MIN_BULK_VERSION)


def listing(org, request: Request, version: str) -> Response:
    def handler(session, state, v):
        org.jobs.settle()
        now = org.clock.time()
        jobs = sorted(org.jobs.jobs.values(), key=lambda j: j.created)
        job_type = request.args.get("jobType")
        if job_type and job_type != "V2Query":
            jobs = []
        mode = request.args.get("concurrencyMode")
        if mode and mode != "Parallel":
            jobs = []
        start = decode_locator(request.args.get("queryLocator", "")) or 0
        page = jobs[start : start + LIST_PAGE]
        done = start + LIST_PAGE >= len(jobs)
        body = {
            "done": done,
            "records": [{**j.info(now, full=False), "jobType": "V2Query"} for j in page],
            "nextRecordsUrl": None
            if done
            else f"/services/data/v{v}/jobs/query?queryLocator={encode_locator(start + LIST_PAGE)}",
        }
        return json_response(body)

    return api_call(org, request, version, "bulk_list", handler, min_version=MIN_BULK_VERSION)


def _completed(org, job_id: str, v: str):
    job = _job(org, job_id)
    if job is None:
        return None, not_found()
    if job.state != "JobComplete":
        # Unverified: an older doc shows this 412 body, another says 204; 412 is emulated.
        return None, sf_error(
            412,
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully completed bulk job with status: "
            f"JOB_COMPLETE. Current status: {STATE_NAMES[job.state]}",
        )
    if job.api_version != v:
        # 409 as documented; the errorCode and wording are unverified.
        return None, sf_error(
            409,
            "API_ERROR",
            f"The job was created with API version {job.api_version}; read its results with"
            " the same API version.",
        )
    return job, None


def _max_records(request: Request):
    """maxRecords, or the emulator's page size when absent (Salesforce then picks a size by
    volume; its exact default is not documented)."""
    raw = request.args.get("maxRecords")
    if raw is None or raw == "":
        return DEFAULT_MAX_RECORDS
    if not raw.isdigit() or int(raw) <= 0:
        return None
    return int(raw)


def results(org, request: Request, version: str, job_id: str) -> Response:
    def handler(session, state, v):
        job, error = _completed(org, job_id, v)
        if error is not None:
            return error
        max_records = _max_records(request)
        if max_records is None:
            return _bad("maxRecords must be a positive integer", "INVALIDPARAM")
        locator = request.args.get("locator")
        offset = 0
        if locator:
            offset = decode_locator(locator)
            if offset is None or offset > len(job.matches):
                return _bad(f"Invalid locator: {locator}", "INVALIDLOCATOR")
        total = len(job.matches)
        count = max(0, min(max_records, total - offset))
        nxt = offset + count
        gzip = "gzip" in request.headers.get("Accept-Encoding", "").lower()
        stream = csv_page(org, job, offset, count, gzip=gzip, cut_after=org.faults.cut_after())
        resp = Response(stream, status=200, content_type="text/csv", direct_passthrough=True)
        resp.headers["Sforce-Locator"] = encode_locator(nxt) if nxt < total else "null"
        resp.headers["Sforce-NumberOfRecords"] = str(count)
        if gzip:
            resp.headers["Content-Encoding"] = "gzip"
            resp.headers["Vary"] = "Accept-Encoding"
        return resp

    return api_call(org, request, version, "bulk_results", handler, min_version=MIN_BULK_VERSION)


def result_pages(org, request: Request, version: str, job_id: str) -> Response:
    def handler(session, state, v):
        job, error = _completed(org, job_id, v)
        if error is not None:
            return error
        size = _max_records(request)
        if size is None:
            return _bad("maxRecords must be a positive integer", "INVALIDPARAM")
        start = decode_locator(request.args.get("locator", "")) or 0
        total = len(job.matches)
        root = f"/services/data/v{v}/jobs/query/{job.id}"
        pages = []
        offset = start
        while offset < total and len(pages) < 5:
            pages.append(
                {"resultUrl": f"{root}/results?locator={encode_locator(offset)}&maxRecords={size}"}
            )
            offset += size
        if total == 0 and start == 0:
            pages.append({"resultUrl": f"{root}/results?maxRecords={size}"})
        done = offset >= total
        # Item key resultUrl and nextRecordsUrl as the doc prose spells them (unverified).
        return json_response(
            {
                "resultPages": pages,
                "nextRecordsUrl": None
                if done
                else f"{root}/resultPages?locator={encode_locator(offset)}&maxRecords={size}",
                "done": done,
            }
        )

    return api_call(
        org, request, version, "bulk_result_pages", handler, min_version=MIN_RESULT_PAGES_VERSION
    )
