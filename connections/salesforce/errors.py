"""Turning Salesforce error responses into our typed exceptions (pure: no HTTP, no Django).

REST and Bulk 2.0 errors are a JSON array of ``{"errorCode", "message"}``; the token endpoint
answers ``{"error", "error_description"}``; the identity URL answers plain text such as
``Bad_OAuth_Token``. Decisions are made on status and code, never on a message alone, except
where Salesforce gives nothing else (the high-assurance 401 and the concurrent-request 403).

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceBulkJobCapReached,
    SalesforceError,
    SalesforceNotFound,
    SalesforcePermissionError,
    SalesforceQueryError,
    SalesforceRateLimited,
    SalesforceRequestTooLarge,
    SalesforceUnavailable,
)

# The 401 a high-assurance session requirement produces (also an IP-locked session).
# Reference: https://help.salesforce.com/s/articleView?id=sf.security_require_2fa_api.htm
HIGH_ASSURANCE_MESSAGE = "not valid for use with the REST API"

QUERY_CODES = {
    "MALFORMED_QUERY",
    "INVALID_FIELD",
    "INVALID_TYPE",
    "QUERY_TIMEOUT",
    "INVALID_QUERY_FILTER_OPERATOR",
    "INVALID_QUERY_LOCATOR",
    "API_ERROR",
    "INVALIDENTITY",
    "FeatureNotEnabled",
    "FUNCTIONALITY_NOT_ENABLED",
}
TRANSIENT_CODES = {"SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW", "TXN_SECURITY_METERING_ERROR"}
PERMISSION_REASONS = {
    "API_CURRENTLY_DISABLED": "api_disabled",
    "API_DISABLED_FOR_ORG": "org_api_disabled",
    "INSUFFICIENT_ACCESS": "insufficient_access",
    "INSUFFICIENT_ACCESS_OR_READONLY": "insufficient_access",
}
# invalid_grant descriptions -> SalesforceAuthError.reason
GRANT_REASONS = {
    "expired access/refresh token": "token_revoked",
    "inactive user": "inactive_user",
    "user hasn't approved this consumer": "not_approved",
    "ip restricted": "ip_restricted",
    "expired authorization code": "expired_code",
    "invalid authorization code": "expired_code",
}


def first_error(body: str) -> tuple[str, str]:
    """``(errorCode, message)`` of the first error in a response body, whatever its shape."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return body.strip()[:200], body.strip()[:500]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return str(data[0].get("errorCode", "")), str(data[0].get("message", ""))
    if isinstance(data, dict):
        if "error" in data:
            return str(data["error"]), str(data.get("error_description", ""))
        return str(data.get("errorCode", "")), str(data.get("message", ""))
    return "", ""


def daily_limit_resume_at(now: datetime | None = None) -> datetime:
    """When a spent daily allocation is worth trying again.

    The allocation is a rolling 24 hours, so calls made an hour ago free up an hour from now;
    an hour is the honest estimate without the org's call history.
    """
    return (now or datetime.now(UTC)) + timedelta(hours=1)


# Bulk API 2.0's rolling-24-hour query-job cap; the only sign is the message (same code as
# the result-storage cap). Quoted as a production connector matches it (estuary
# source-salesforce-native).
BULK_JOB_CAP_MESSAGE = "Max bulk v2 query jobs"
BULK_JOB_CAP_WINDOW = timedelta(hours=24)
# Jetty's refusals of an oversized request: HTML bodies, no errorCode.
# 414: "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>" (simple-salesforce issue #271).
TOO_LARGE = {414: "URI_TOO_LONG", 431: "REQUEST_HEADER_FIELDS_TOO_LARGE"}


def bulk_job_cap_resets_at(created: list[datetime], cap: int, now: datetime) -> datetime:
    """When the rolling-24-hour Bulk query-job count drops below ``cap`` again, from the
    creation times of the org's jobs (``GET /jobs/query`` lists them with ``createdDate``).

    The cap counts jobs created in the last 24 hours; the count falls below it once all but
    ``cap - 1`` of them are older than that, i.e. a day after the ``(n - cap + 1)``-th oldest.
    Jobs deleted since are not listed but still count, so this is a lower bound."""
    recent = sorted(t for t in created if t > now - BULK_JOB_CAP_WINDOW)
    if len(recent) < cap:
        return now
    return recent[len(recent) - cap] + BULK_JOB_CAP_WINDOW


def too_large_error(status: int, *, url: str = "") -> SalesforceRequestTooLarge:
    what = "request line exceeds" if status == 414 else "request line and headers exceed"
    return SalesforceRequestTooLarge(
        f"Salesforce refused the request: its {what} {SalesforceRequestTooLarge.limit:,} bytes",
        status=status,
        error_code=TOO_LARGE[status],
        url=url,
    )


def is_session_invalid(status: int, code: str) -> bool:
    """A 401 ``INVALID_SESSION_ID`` (or the identity URL's 403 ``Bad_OAuth_Token``): refresh."""
    return (status == 401 and code == "INVALID_SESSION_ID") or (
        status == 403 and code == "Bad_OAuth_Token"
    )


def error_from_response(status: int, body: str, *, url: str = "") -> SalesforceError:
    """The exception for a REST, Bulk or identity error response."""
    if status in TOO_LARGE:
        return too_large_error(status, url=url)
    code, message = first_error(body)
    kwargs = {"status": status, "error_code": code, "url": url}
    message = message or f"Salesforce answered HTTP {status}"
    if code == "REQUEST_LIMIT_EXCEEDED" and "ConcurrentPerOrgLongTxn" in message:
        return SalesforceUnavailable(message, **kwargs)
    if code == "LIMIT_EXCEEDED" and BULK_JOB_CAP_MESSAGE in message:
        resets = datetime.now(UTC) + BULK_JOB_CAP_WINDOW
        return SalesforceBulkJobCapReached(message, resume_at=resets, **kwargs)
    if code in ("REQUEST_LIMIT_EXCEEDED", "LIMIT_EXCEEDED"):
        return SalesforceRateLimited(message, resume_at=daily_limit_resume_at(), **kwargs)
    if status >= 500 or code in TRANSIENT_CODES:
        return SalesforceUnavailable(message, **kwargs)
    if code == "OAUTH_APP_BLOCKED":
        return SalesforceAuthError(message, reason="app_blocked", **kwargs)
    if status == 401 or is_session_invalid(status, code):
        reason = "high_assurance" if HIGH_ASSURANCE_MESSAGE in message else "session_invalid"
        return SalesforceAuthError(message, reason=reason, **kwargs)
    if code in PERMISSION_REASONS:
        return SalesforcePermissionError(message, reason=PERMISSION_REASONS[code], **kwargs)
    if status == 404 or code == "NOT_FOUND":
        return SalesforceNotFound(message, **kwargs)
    if code in QUERY_CODES:
        return SalesforceQueryError(message, **kwargs)
    if status == 403:
        return SalesforcePermissionError(message, **kwargs)
    return SalesforceError(message, **kwargs)


def error_from_token_response(status: int, body: str, *, url: str = "") -> SalesforceError:
    """The exception for an error from ``/services/oauth2/token`` or ``/revoke``."""
    code, description = first_error(body)
    kwargs = {"status": status, "error_code": code, "url": url}
    text = description or code or f"HTTP {status}"
    if status >= 500:
        return SalesforceUnavailable(f"Salesforce's login service failed: {text}", **kwargs)
    if code == "invalid_grant":
        reason = GRANT_REASONS.get(description.strip().lower(), "authentication_failure")
        return SalesforceAuthError(text, reason=reason, **kwargs)
    if code in ("invalid_client_id", "invalid_client"):
        return SalesforceAuthError(text, reason="invalid_client", **kwargs)
    if code in ("OAUTH_APP_BLOCKED", "invalid_app_access"):
        return SalesforceAuthError(text, reason="app_blocked", **kwargs)
    if code == "inactive_user":
        return SalesforceAuthError(text, reason="inactive_user", **kwargs)
    if code == "rate_limit_exceeded":
        return SalesforceUnavailable(text, **kwargs)
    return SalesforceError(text, **kwargs)
