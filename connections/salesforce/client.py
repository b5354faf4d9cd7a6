"""The Salesforce client: the only code that sends data-API requests to an org.

Everything goes through ``SalesforceClient._request``: explicit timeout, bearer header, the API
budget check, ``Sforce-Limit-Info`` handed to the usage recorder, errors mapped to typed
exceptions, one token refresh and one retry on 401 ``INVALID_SESSION_ID``, and bounded, logged
tenacity retries around the transient class only. Read-only by construction: ``_request``
refuses every method but GET, except the Bulk API 2.0 *query job* calls.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_rest.htm
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from urllib3.util import parse_url

from connections.salesforce import errors
from connections.salesforce.bulk import BulkQueryMixin
from connections.salesforce.exceptions import SalesforceUnavailable
from connections.salesforce.hosts import origin_of, url_check
from connections.salesforce.retries import REQUEST_TRIES, TRIES_PER_PAGE
from connections.salesforce.types import ApiUsage, CallRecord, QueryPage, UsageRecorder

logger = logging.getLogger(__name__)

# Calls that do not count against the org's daily API allocation (no Sforce-Limit-Info).
# Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
UNCOUNTED_KINDS = frozenset({"versions", "identity", "userinfo", "oauth_token", "oauth_revoke"})

# Anything with a scheme ("https:", "ftp:") or a network path ("//host") names its own host.
_ABSOLUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_DATA = r"/services/data/v\d+\.\d+"
# The only writes that exist: create, abort and delete a Bulk API 2.0 *query* job.
_ALLOWED_WRITES = {
    "POST": re.compile(rf"^{_DATA}/jobs/query$"),
    "PATCH": re.compile(rf"^{_DATA}/jobs/query/[A-Za-z0-9]{{15,18}}$"),
    "DELETE": re.compile(rf"^{_DATA}/jobs/query/[A-Za-z0-9]{{15,18}}$"),
}
USER_PERMISSIONS_SOQL = (
    "SELECT PermissionsApiEnabled, PermissionsViewSetup FROM UserPermissionAccess"
)
# An sObject API name (Account, Lead_Score__c, ns__Thing__c): safe to put in a SOQL literal.
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """``Sforce-Limit-Info: api-usage=18/5000[; api-bursts=...]`` -> ``ApiUsage(18, 5000)``."""
    match = _LIMIT_INFO.search(header or "")
    return ApiUsage(int(match[1]), int(match[2])) if match else None


def strip_attributes(value: Any) -> Any:
    """A REST record without the ``attributes`` entries, nested parents included."""
    if isinstance(value, dict):
        return {k: strip_attributes(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [strip_attributes(v) for v in value]
    return value


def read_only_check(method: str, url: str) -> None:
    """Refuse anything but a read or a Bulk query-job call (invariant 1: never write)."""
    if method == "GET":
        return
    pattern = _ALLOWED_WRITES.get(method)
    if pattern is None or not pattern.match(urlsplit(url).path):
        raise ValueError(f"{method} {urlsplit(url).path} is not a read: the client never writes.")


class SalesforceClient(BulkQueryMixin):
    """A read-only REST and Bulk API 2.0 client for one org, with one access token."""

    def __init__(
        self,
        *,
        instance_url: str,
        access_token: str,
        api_version: str,
        timeout: float,
        refresh: Callable[[], str] | None = None,
        recorder: UsageRecorder | None = None,
        budget_check: Callable[[str], None] | None = None,
        budget_release: Callable[[], None] | None = None,
        session: requests.Session | None = None,
        retry_attempts: int = REQUEST_TRIES,
        retry_max_wait: float = 30.0,
        allowed_hosts: Sequence[str] | None = None,
        loopback_http: bool = False,
    ) -> None:
        self.api_version = api_version
        self.timeout = timeout
        self.refresh = refresh
        self.recorder = recorder
        self.budget_check = budget_check
        self.budget_release = budget_release
        self.session = session or requests.Session()
        self.retry_attempts = min(max(1, retry_attempts), TRIES_PER_PAGE)
        self.retry_max_wait = retry_max_wait
        self.retries = 0
        # The org's clock (response Date header): sync windows end in Salesforce time, so a
        # skewed local clock can never make a window close before rows stamped earlier.
        self.last_server_time: datetime | None = None
        self.loopback_http = loopback_http
        self.allowed_hosts = tuple(allowed_hosts) if allowed_hosts is not None else ()
        if allowed_hosts is None:
            self.allowed_hosts = (parse_url(instance_url).host or "",)
        # Everything this client requests starts here, so this one check covers every path.
        self.instance_url = origin_of(self._gate(instance_url))
        self._access_token = access_token

    def __repr__(self) -> str:
        return f"SalesforceClient(instance_url={self.instance_url!r}, api={self.api_version!r})"

    @property
    def base(self) -> str:
        """The versioned data API path, e.g. ``/services/data/v62.0``."""
        return f"/services/data/v{self.api_version}"

    # --- REST reads ---------------------------------------------------------------------------

    def versions(self) -> list[dict]:
        """The API versions the org serves (does not count against the daily limit).

        Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm
        """
        return self._request("GET", "/services/data/", kind="versions").json()

    def limits(self) -> dict:
        """The org's limits (``DailyApiRequests``, ``DailyBulkV2QueryJobs``, ...).

        Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
        """
        return self._request("GET", f"{self.base}/limits", kind="limits").json()

    def describe_global(self) -> dict:
        """Every sObject the user can see, with ``queryable`` and friends.

        Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_describeGlobal.htm
        """
        return self._request("GET", f"{self.base}/sobjects", kind="describe_global").json()

    def describe(self, sobject: str) -> dict:
        """One sObject's fields as the connected user can read them.

        Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
        """
        path = f"{self.base}/sobjects/{quote(sobject, safe='')}/describe"
        return self._request("GET", path, kind="describe").json()

    def query_pages(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        batch_size: int | None = None,
        next_records_url: str | None = None,
    ) -> Iterator[QueryPage]:
        """Pages of a REST query (or queryAll), following ``nextRecordsUrl``; resumable by
        passing the last page's ``next_records_url``.

        Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
        """
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        if next_records_url:
            response = self._request("GET", next_records_url, kind="query_more", headers=headers)
        else:
            endpoint = "queryAll" if include_deleted else "query"
            params = {"q": soql}
            response = self._request(
                "GET", f"{self.base}/{endpoint}", kind="query", params=params, headers=headers
            )
        while True:
            page = self._query_page(response.json())
            yield page
            if not page.next_records_url:
                return
            response = self._request(
                "GET", page.next_records_url, kind="query_more", headers=headers
            )

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict]:
        """Every record of a REST query, without ``attributes``."""
        for page in self.query_pages(soql, include_deleted=include_deleted):
            yield from page.records

    def count(self, soql: str, *, include_deleted: bool = False) -> int:
        """``totalSize`` of a ``SELECT COUNT() FROM ...`` query.

        Reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_count.htm
        """
        endpoint = "queryAll" if include_deleted else "query"
        response = self._request("GET", f"{self.base}/{endpoint}", kind="count", params={"q": soql})
        return int(response.json()["totalSize"])

    def identity(self, identity_url: str) -> dict:
        """The connected user's identity (username, org id, active...) from the identity URL.

        Reference: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_openid.htm
        """
        return self._request("GET", identity_url, kind="identity").json()

    def user_permissions(self) -> dict:
        """Whether the connected user has "API Enabled" and "View Setup and Configuration".

        Reference: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_userpermissionaccess.htm
        """
        records = list(self.query(USER_PERMISSIONS_SOQL))
        first = records[0] if records else {}
        return {
            "PermissionsApiEnabled": bool(first.get("PermissionsApiEnabled")),
            "PermissionsViewSetup": bool(first.get("PermissionsViewSetup")),
        }

    def field_definitions(self, sobject: str) -> list[dict]:
        """Every field of ``sobject`` in the org as {name, label}, whatever the connected user's
        field-level security (needs "View Setup and Configuration").

        Reference: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_fielddefinition.htm
        """
        if not _API_NAME.fullmatch(sobject):
            raise ValueError(f"not an object API name: {sobject!r}")
        soql = (
            "SELECT QualifiedApiName, Label FROM FieldDefinition "
            f"WHERE EntityDefinition.QualifiedApiName = '{sobject}'"
        )
        return [
            {"name": row["QualifiedApiName"], "label": row.get("Label") or row["QualifiedApiName"]}
            for row in self.query(soql)
        ]

    def get_blob(self, path: str) -> bytes:
        """The bytes of a base64 field, from the relative URL a REST query returns for it.

        Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_blob_retrieve.htm
        """
        return self._request("GET", path, kind="blob", headers={"Accept": "*/*"}).content

    # --- the choke point ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        params: dict | None = None,
        json: dict | None = None,
        headers: dict | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request (with refresh and transient retries); return a 2xx response."""
        url = self._url(path)
        read_only_check(method, url)
        refreshed: list[bool] = []
        retrying = Retrying(
            retry=retry_if_exception_type(SalesforceUnavailable),
            stop=stop_after_attempt(self.retry_attempts),
            wait=wait_exponential_jitter(initial=1, max=self.retry_max_wait),
            reraise=True,
            before_sleep=self._before_sleep,
        )
        request = {"params": params, "json": json, "headers": headers, "stream": stream}
        return retrying(self._attempt, method, url, kind, request, refreshed)

    def _attempt(
        self, method: str, url: str, kind: str, request: dict, refreshed: list[bool]
    ) -> requests.Response:
        response = self._send(method, url, kind, request)
        if self._session_expired(response) and self.refresh and not refreshed:
            response.close()
            self._access_token = self.refresh()
            refreshed.append(True)
            response = self._send(method, url, kind, request)
        if response.status_code >= 300:
            body = response.text
            response.close()
            raise errors.error_from_response(response.status_code, body, url=urlsplit(url).path)
        return response

    def _send(self, method: str, url: str, kind: str, request: dict) -> requests.Response:
        counted = kind not in UNCOUNTED_KINDS
        reserved = counted and self.budget_check is not None
        if reserved:
            self.budget_check(kind)  # reserves the call, or refuses it (budget, ceiling)
        path = urlsplit(url).path
        try:
            response = self._transport(method, url, path, request)
        except BaseException:
            if reserved and self.budget_release:
                self.budget_release()
            raise
        self._note_server_time(response)
        self._record(kind, method, path, response, counted)
        return response

    def _transport(self, method: str, url: str, path: str, request: dict) -> requests.Response:
        headers = {"Accept": "application/json", **(request["headers"] or {})}
        headers["Authorization"] = f"Bearer {self._access_token}"
        try:
            return self.session.request(
                method,
                url,
                params=request["params"],
                json=request["json"],
                headers=headers,
                timeout=self.timeout,
                stream=request["stream"],
                # A redirect would carry the bearer token past the gate: never followed.
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise SalesforceUnavailable(
                f"Salesforce did not answer within {self.timeout:g}s",
                error_code="TIMEOUT",
                url=path,
            ) from exc
        except requests.ConnectionError as exc:
            raise SalesforceUnavailable(
                "Could not reach Salesforce (connection refused, reset or dropped)",
                error_code="CONNECTION_ERROR",
                url=path,
            ) from exc

    def _note_server_time(self, response: requests.Response) -> None:
        stamp = response.headers.get("Date")
        if not stamp:
            return
        try:
            self.last_server_time = parsedate_to_datetime(stamp)
        except (TypeError, ValueError):
            logger.debug("unparseable Date header %r", stamp)

    def _session_expired(self, response: requests.Response) -> bool:
        if response.status_code not in (401, 403):
            return False
        code, message = errors.first_error(response.text)
        if code == "INVALID_SESSION_ID" and errors.HIGH_ASSURANCE_MESSAGE in message:
            # Refreshing only yields another session of the same (too low) level.
            return False
        return errors.is_session_invalid(response.status_code, code)

    def _record(
        self, kind: str, method: str, path: str, response: requests.Response, counted: bool
    ) -> None:
        if not self.recorder:
            return
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        self.recorder(CallRecord(kind, method, path, response.status_code, usage, counted))

    def _url(self, path: str) -> str:
        """The URL to request: absolute URLs (identity, ``nextRecordsUrl`` or any other URL a
        response named) and relative paths alike pass the credential gate, which returns the
        URL rebuilt from the parts urllib3 will connect to."""
        if not _ABSOLUTE.match(path):
            path = f"{self.instance_url}/{path.lstrip('/')}"
        return self._gate(path)

    def _gate(self, url: str) -> str:
        return url_check(url, self.allowed_hosts, loopback_http=self.loopback_http)

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "Salesforce %s failed (%s); retry %d of %d in %.1fs",
            getattr(error, "url", "") or "request",
            error,
            state.attempt_number,
            self.retry_attempts - 1,
            wait,
        )

    @staticmethod
    def _query_page(data: dict) -> QueryPage:
        return QueryPage(
            records=strip_attributes(data.get("records", [])),
            total_size=int(data.get("totalSize", 0)),
            done=bool(data.get("done", True)),
            next_records_url=data.get("nextRecordsUrl") or None,
        )
