"""REST resources: versions, resources, limits, describe global, describe, records, query.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_list.htm
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from werkzeug.wrappers import Request, Response

from emulator import queries
from emulator.soql.errors import SoqlError
from emulator.web.common import (
    MAX_VERSION,
    MIN_VERSION,
    api_call,
    json_response,
    not_found,
    sf_error,
)

RELEASES = ("Winter", "Spring", "Summer")


def release_label(version: int) -> str:
    """Winter '11 for 20, Spring '11 for 21, … Spring '26 for 66: three releases a year."""
    k = version - 20
    return f"{RELEASES[k % 3]} '{11 + k // 3:02d}"


def versions(org, request: Request) -> Response:
    """GET /services/data/ — not counted, no Sforce-Limit-Info."""
    org.counters_state.call("versions", counted=False)
    out = [
        {"label": release_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(int(MIN_VERSION), int(MAX_VERSION) + 1)
    ]
    return json_response(out)


# The resources a version's root lists, with the version each first appeared in. Verified:
# queryAll and limits (29.0), jobs (41.0, Bulk API 2.0); the others are the release in which
# the REST API guide first documents them, as best known (unverified), and 20.0 for those
# older than the guide's history.
# Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_list.htm
RESOURCES_SINCE = {
    "sobjects": 20,
    "query": 20,
    "search": 20,
    "recent": 20,
    "identity": 20,
    "chatter": 24,
    "connect": 24,
    "tooling": 27,
    "quickActions": 28,
    "analytics": 28,
    "queryAll": 29,
    "limits": 29,
    "appMenu": 29,
    "compactLayouts": 29,
    "theme": 29,
    "flexiPage": 29,
    "process": 30,
    "tabs": 31,
    "actions": 32,
    "support": 32,
    "knowledgeManagement": 32,
    "composite": 34,
    "licensing": 34,
    "wave": 36,
    "async-queries": 37,
    "emailConnect": 37,
    "event": 38,
    "dedupe": 39,
    "nouns": 39,
    "folders": 40,
    "parameterizedSearch": 40,
    "jobs": 41,
    "match": 42,
    "metadata": 42,
    "prechatForms": 42,
    "serviceTemplates": 43,
    "iot": 44,
    "jsonxform": 45,
    "commerce": 46,
    "domino": 47,
    "eclair": 48,
    "fingerprint": 49,
    "contact-tracing": 50,
    "consent": 50,
    "scheduling": 45,
    "smartdatadiscovery": 47,
    "sites": 53,
    "graphql": 56,
}


def resources(org, request: Request, version: str) -> Response:
    def handler(session, state, v):
        root = f"/services/data/v{v}"
        major = int(float(v))
        body = {n: f"{root}/{n}" for n, since in RESOURCES_SINCE.items() if since <= major}
        body["identity"] = org.identity_url(session.username)
        return json_response(body)

    return api_call(org, request, version, "resources", handler)


def limits(org, request: Request, version: str) -> Response:
    def handler(session, state, v):
        if not state.user.view_setup:
            # Unverified: the error a user without "View Setup and Configuration" gets.
            return sf_error(
                403,
                "INSUFFICIENT_ACCESS",
                "You don't have the View Setup and Configuration permission needed for this"
                " resource.",
            )
        now = org.clock.time()
        used, limit = org.api_usage()
        jobs = org.job_usage.total(now)
        result_mb = org.result_usage.total(now) // 1_000_000
        records = sum(s.count(True) for s in org.stores.values())
        storage = max(1024, (records * 2 // 1024) * 2)
        entries = {
            "ActiveScratchOrgs": (3, 3),
            "AnalyticsExternalDataSizeMB": (40960, 40960),
            "ConcurrentAsyncGetReportInstances": (200, 200),
            "ConcurrentSyncReportRuns": (20, 20),
            "DailyAnalyticsDataflowJobExecutions": (60, 60),
            "DailyApiRequests": (limit, max(0, limit - used)),
            "DailyAsyncApexExecutions": (250000, 250000),
            "DailyBulkApiBatches": (15000, 15000),
            "DailyBulkV2QueryFileStorageMB": (976562, max(0, 976562 - result_mb)),
            "DailyBulkV2QueryJobs": (org.bulk_daily_jobs, max(0, org.bulk_daily_jobs - jobs)),
            "DailyDurableGenericStreamingApiEvents": (10000, 10000),
            "DailyDurableStreamingApiEvents": (10000, 10000),
            "DailyGenericStreamingApiEvents": (10000, 10000),
            "DailyStandardVolumePlatformEvents": (10000, 10000),
            "DailyStreamingApiEvents": (10000, 10000),
            "DailyWorkflowEmails": (1000, 1000),
            "DataStorageMB": (storage, max(0, storage - records * 2 // 1024)),
            "FileStorageMB": (20480, 20470),
            "HourlyAsyncReportRuns": (1200, 1200),
            "HourlyDashboardRefreshes": (200, 200),
            "HourlyDashboardResults": (5000, 5000),
            "HourlyDashboardStatuses": (999999999, 999999999),
            "HourlyLongTermIdMapping": (100000, 100000),
            "HourlyManagedContentPublicRequests": (50000, 50000),
            "HourlyODataCallout": (10000, 10000),
            "HourlyPublishedPlatformEvents": (50000, 50000),
            "HourlyPublishedStandardVolumePlatformEvents": (50000, 50000),
            "HourlyShortTermIdMapping": (100000, 100000),
            "HourlySyncReportRuns": (500, 500),
            "HourlyTimeBasedWorkflow": (50, 50),
            "MassEmail": (5000, 5000),
            "MonthlyPlatformEventsUsageEntitlement": (300000, 300000),
            "Package2VersionCreates": (6, 6),
            "PermissionSets": (1500, 1491),
            "PrivateConnectOutboundCalloutHourlyLimitMB": (0, 0),
            "SingleEmail": (5000, 5000),
            "StreamingApiConcurrentClients": (2000, 2000),
        }
        body = {k: {"Max": m, "Remaining": r} for k, (m, r) in sorted(entries.items())}
        body["PermissionSets"]["CreateCustom"] = {"Max": 1000, "Remaining": 992}
        return json_response(body)

    return api_call(org, request, version, "limits", handler, min_version=29.0)


def describe_global(org, request: Request, version: str) -> Response:
    def handler(session, state, v):
        last = datetime.fromtimestamp(org.schema_changed, tz=UTC).replace(microsecond=0)
        since = request.headers.get("If-Modified-Since")
        if since:
            try:
                if parsedate_to_datetime(since) >= last:
                    return Response(status=304)
            except (TypeError, ValueError):
                pass
        resp = json_response(org.describe_global(session.username, v))
        resp.headers["Last-Modified"] = format_datetime(last, usegmt=True)
        return resp

    return api_call(org, request, version, "describe_global", handler)


def describe(org, request: Request, version: str, sobject: str) -> Response:
    def handler(session, state, v):
        try:
            return json_response(org.describe(sobject, session.username, version=v))
        except KeyError:
            return not_found()

    return api_call(org, request, version, "describe", handler)


def sobject_basic(org, request: Request, version: str, sobject: str) -> Response:
    def handler(session, state, v):
        obj = org.view(session.username).object(sobject)
        if obj is None:
            return not_found()
        from emulator.schema.describe import global_entry

        return json_response({"objectDescribe": global_entry(obj, v), "recentItems": []})

    return api_call(org, request, version, "sobject", handler)


def record(org, request: Request, version: str, sobject: str, record_id: str) -> Response:
    def handler(session, state, v):
        view = org.view(session.username)
        obj = view.object(sobject)
        if obj is None or obj.name not in org.stores:
            return not_found()
        wanted = request.args.get("fields")
        names = wanted.split(",") if wanted else [f.name for f in view.field_list(obj)]
        try:
            plan = org.compile(f"SELECT {', '.join(names)} FROM {obj.name}", session.username)
        except SoqlError as err:
            return sf_error(400, err.error_code, err.message)
        store = org.stores[obj.name]
        index = store.gen.codec.decode(record_id)
        if index is None or not store.exists(index, include_deleted=False):
            return not_found()
        rec = org.engine.rest_records(plan, [index], org.seq, v)[0]
        return json_response(rec)

    return api_call(org, request, version, "retrieve", handler)


def blob(org, request: Request, version: str, sobject: str, record_id: str, field: str) -> Response:
    def handler(session, state, v):
        view = org.view(session.username)
        obj = view.object(sobject)
        f = view.fields(obj).get(field.lower()) if obj is not None else None
        if obj is None or f is None or f.type != "base64" or obj.name not in org.stores:
            return not_found()
        store = org.stores[obj.name]
        index = store.gen.codec.decode(record_id)
        if index is None or not store.exists(index, include_deleted=False):
            return not_found()
        data = store.blob(index, org.seq)
        if data is None:
            return not_found()
        return Response(data, content_type="application/octetstream")

    return api_call(org, request, version, "blob", handler)


def query(org, request: Request, version: str, include_deleted: bool) -> Response:
    kind = "query_all" if include_deleted else "query"

    def handler(session, state, v):
        soql = request.args.get("q")
        if not soql:
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        body = queries.run(
            org,
            session.username,
            soql,
            include_deleted=include_deleted,
            options=request.headers.get("Sforce-Query-Options"),
            version=v,
        )
        return json_response(body)

    return api_call(
        org, request, version, kind, handler, min_version=29.0 if include_deleted else None
    )


def query_more(
    org, request: Request, version: str, locator: str, include_deleted: bool
) -> Response:
    def handler(session, state, v):
        cursor_id, _, offset = locator.rpartition("-")
        if not cursor_id or not offset.isdigit():
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        path = "queryAll" if include_deleted else "query"
        body = queries.more(org, session.username, cursor_id, int(offset), v, path)
        if body is None:
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return json_response(body)

    return api_call(org, request, version, "query_more", handler)
