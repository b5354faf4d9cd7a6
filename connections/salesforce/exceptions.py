"""Typed Salesforce errors. Each says what Salesforce condition it means and whether it is
worth retrying (``permanent``), so callers decide by class, never by parsing messages.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
"""

from __future__ import annotations

import re
from datetime import datetime


class SalesforceError(Exception):
    """Any failure talking to Salesforce. Never carries a token in its message."""

    permanent = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.url = url

    def __str__(self) -> str:
        code = f"{self.error_code}: " if self.error_code else ""
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{code}{self.message}{status}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, error_code={self.error_code!r})"


class SalesforceAuthError(SalesforceError):
    """The connection's authorisation is unusable: a refresh failed (``invalid_grant``:
    expired or revoked token, the sixth approval, an inactive user), the session stays invalid
    after one refresh, or the org demands a high-assurance session. Only the customer
    reconnecting fixes it.

    ``reason`` is one of: ``token_revoked``, ``inactive_user``, ``high_assurance``,
    ``app_blocked``, ``invalid_client``, ``session_invalid``, ``authentication_failure``,
    ``ip_restricted``, ``not_approved`` (the app needs admin pre-approval), ``expired_code``
    (the authorization code was already used or is too old: start connecting again).
    """

    def __init__(self, message: str, *, reason: str = "session_invalid", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class SalesforcePermissionError(SalesforceError):
    """The user may not do this: API not enabled for the user (``API_CURRENTLY_DISABLED``) or
    org (``API_DISABLED_FOR_ORG``), insufficient access, or a missing permission.

    ``reason`` is one of: ``api_disabled`` (the user lacks "API Enabled"), ``org_api_disabled``
    (the org's edition has no API access), ``insufficient_access``.
    """

    def __init__(self, message: str, *, reason: str = "insufficient_access", **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class SalesforceNotFound(SalesforceError):
    """``NOT_FOUND``: the object, record or Bulk job does not exist for this user (an object
    the user cannot read is reported this way by describe)."""


class SalesforceQueryError(SalesforceError):
    """The query was refused: ``MALFORMED_QUERY``, ``INVALID_FIELD``, ``INVALID_TYPE``,
    ``QUERY_TIMEOUT``, or a Bulk-specific refusal such as compound fields (``API_ERROR``) or an
    object Bulk does not support (``INVALIDENTITY``)."""


class SalesforceRateLimited(SalesforceError):
    """The org's daily allocation is spent (403 ``REQUEST_LIMIT_EXCEEDED`` ``TotalRequests``,
    or Bulk ``LIMIT_EXCEEDED``). Not retried now: the run pauses and resumes at ``resume_at``."""

    permanent = False

    def __init__(self, message: str, *, resume_at: datetime | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.resume_at = resume_at


class SalesforceBulkJobCapReached(SalesforceRateLimited):
    """Bulk API 2.0's daily query-job cap: 400 ``LIMIT_EXCEEDED`` "Max bulk v2 query jobs
    (10000) per 24 hrs has been reached". The count is over a rolling 24 hours, so the cap
    lifts as the oldest jobs turn a day old; ``resume_at`` is when it has surely lifted (a day
    after the refusal) unless the caller narrowed it with ``bulk_job_cap_resets_at``.

    Reference: https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_bulkapi.htm
    """

    @property
    def cap(self) -> int | None:
        """The cap the message names (``10000`` in "Max bulk v2 query jobs (10000) ...")."""
        match = re.search(r"\((\d+)\)", self.message)
        return int(match[1]) if match else None


class SalesforceBudgetExceeded(SalesforceRateLimited):
    """Our own guard: the org's usage passed the connection's ceiling, or this connection's
    usage today passed its share. Raised before the request is sent."""


class SalesforceRequestTooLarge(SalesforceError):
    """Salesforce's front door refused the request before the API saw it: ``414`` when the
    request line is over 16,384 bytes (a REST query with hundreds of fields), ``431`` when the
    request line and headers together are too large. The body is HTML, not an API error.
    Sending the same request again fails the same way: the caller must make it smaller (split
    the field list, or move the query into a Bulk job's POST body).

    ``limit`` is the documented ceiling in bytes.
    """

    limit = 16_384


class SalesforceUnavailable(SalesforceError):
    """A transient failure worth retrying with backoff: 5xx, ``SERVER_UNAVAILABLE``, timeouts,
    connection resets, a download cut mid-stream, ``UNABLE_TO_LOCK_ROW``, and the
    concurrent-long-request variant of ``REQUEST_LIMIT_EXCEEDED``."""

    permanent = False


class SalesforceInstanceNotAllowed(SalesforceError):
    """Salesforce (or a stored row) named an instance or identity host that is not in
    ``SALESFORCE_ALLOWED_INSTANCE_HOSTS``, or one reached over plain http. Raised before any
    token is sent there. ``grant_revoked`` says, after a refused code exchange, whether the
    grant Salesforce had just issued was revoked (None: no grant was involved)."""

    grant_revoked: bool | None = None
