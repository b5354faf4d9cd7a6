"""REST resources: versions, resources, limits, describe global, describe, records, query.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_list.htm
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from werkzeug.wrappers import Request, Response

from emulator import queries
from emulator.soql.errors import SoqlError
from emulator.web.common import api_call, json_response, not_found, sf_error

RELEASES = ("Winter", "Spring", "Summer")


def versions(org, request: Request) -> Response:
    """GET /services/data/ — not counted, no Sforce-Limit-Info."""
    org.counters_state.call("versions", counted=False)
    out = []
    for v in range(20, 63):
        k = v - 20
        label = f"{RELEASES[k % 3]} '{11 + k // 3:02d}"
        out.append({"label": label, "url": f"/services/data/v{v}.0", "version": f"{v}.0"})
    return json_response(out)


def resources(org, request: Request, version: str) -> Response:
    def handler(session, state, v):
        root = f"/services/data/v{v}"
        names = [
            "tooling",
            "metadata",
            "eclair",
            "folders",
            "prechatForms",
            "contact-tracing",
            "jsonxform",
            "chatter",
            "tabs",
            "appMenu",
            "quickActions",
            "queryAll",
            "commerce",
            "wave",
            "iot",
            "analytics",
            "search",
            "identity",
            "composite",
            "parameterizedSearch",
            "fingerprint",
            "theme",
            "nouns",
            "domino",
            "event",
            "serviceTemplates",
            "recent",
            "connect",
            "licensing",
            "limits",
            "process",
            "dedupe",
            "async-queries",
            "query",
            "jobs",
            "match",
            "emailConnect",
            "compactLayouts",
            "knowledgeManagement",
            "sobjects",
            "actions",
            "support",
        ]
        body = {n: f"{root}/{n}" for n in names}
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
        jobs = org.jobs.created_since(now - 86400)
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
            "DailyBulkV2QueryJobs": (10000, max(0, 10000 - jobs)),
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

    return api_call(org, request, version, "limits", handler)


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

    return api_call(org, request, version, kind, handler)


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
