"""Shared HTTP plumbing: JSON responses, Salesforce error bodies, and the API call pipeline.

Every counted call goes through `api_call`: version check, injected latency, session check,
user-level refusals, the daily limit, counting, injected failures, then the handler; the
response carries `Sforce-Limit-Info: api-usage=N/M`.
"""

from __future__ import annotations

import json
import random
import re
import time

from werkzeug.wrappers import Request, Response

from emulator.auth import SessionError
from emulator.soql.errors import SoqlError

JSON_TYPE = "application/json;charset=UTF-8"
MIN_VERSION = 20.0
# Spring '26 (v66.0) is the newest release served; every release adds one major version, three a
# year (Winter '11 was v20.0).
# Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_versions.htm
MAX_VERSION = 66.0
NOT_FOUND_MESSAGE = "The requested resource does not exist"
_VERSION = re.compile(r"^v(\d{2})\.(\d)$")


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    resp = Response(data, status=status, content_type=JSON_TYPE)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def sf_error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """Salesforce's REST error body: a JSON array of {message, errorCode}."""
    return json_response([{"message": message, "errorCode": code}], status, headers)


def not_found() -> Response:
    return sf_error(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def parse_version(text: str) -> str | None:
    """'v60.0' → '60.0' when the version is served (20.0 … 66.0), else None."""
    m = _VERSION.match(text or "")
    if not m:
        return None
    value = float(f"{m.group(1)}.{m.group(2)}")
    if value < MIN_VERSION or value > MAX_VERSION or m.group(2) != "0":
        return None
    return f"{m.group(1)}.0"


def bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    for scheme in ("Bearer ", "OAuth "):
        if header.startswith(scheme):
            return header[len(scheme) :].strip()
    return None


def limit_header(org) -> dict:
    used, limit = org.api_usage()
    return {"Sforce-Limit-Info": f"api-usage={used}/{limit}"}


def _error_id() -> str:
    r = random.Random()
    return (
        f"{r.randrange(10**9, 2 * 10**9)}-{r.randrange(1000, 99999)} ({-r.randrange(10**8, 10**9)})"
    )


def injected_failure(name: str) -> Response:
    if name == "http_500":
        return sf_error(
            500,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: "
            + _error_id(),
        )
    if name == "unavailable_503":
        return sf_error(503, "SERVER_UNAVAILABLE", "Server Unavailable")
    if name == "concurrent_limit":
        return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
    return sf_error(
        400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records"
    )


def api_call(org, request: Request, version_text: str, kind: str, handler, *, min_version=None):
    """Run a counted data API call through the Salesforce request pipeline."""
    version = parse_version(version_text)
    if version is None or (min_version is not None and float(version) < min_version):
        return not_found()
    delay = org.faults.latency(kind)
    if delay:
        time.sleep(delay)
    try:
        session = org.auth.session(bearer(request))
    except SessionError:
        return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    state = org.user_state(session.username)
    if state.user.high_assurance:
        return sf_error(
            401, "INVALID_SESSION_ID", "This session is not valid for use with the REST API"
        )
    if not state.user.api_enabled:
        # 403 is how connectors report it; the status itself is unverified.
        return sf_error(403, "API_CURRENTLY_DISABLED", "API is disabled for this User")
    used, limit = org.api_usage()
    if used >= limit:
        return sf_error(
            403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", limit_header(org)
        )
    org.record_call(kind)
    failure = org.faults.call_failure(kind)
    if failure is not None:
        resp = injected_failure(failure)
    else:
        try:
            resp = handler(session, state, version)
        except SoqlError as err:
            resp = sf_error(400, err.error_code, err.message)
    resp.headers.update(limit_header(org))
    return resp
