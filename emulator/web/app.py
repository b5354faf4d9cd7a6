"""The WSGI application: URL map and dispatch (werkzeug does the HTTP)."""

from __future__ import annotations

import logging

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import http_date
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from emulator.web import bulk, control, oauth, request_size, rest
from emulator.web.common import not_found, sf_error

log = logging.getLogger(__name__)

D = "/services/data/<version>"
RULES = [
    Rule("/services/oauth2/authorize", endpoint="authorize", methods=["GET", "POST"]),
    Rule("/services/oauth2/token", endpoint="token", methods=["POST"]),
    Rule("/services/oauth2/revoke", endpoint="revoke", methods=["GET", "POST"]),
    Rule("/services/oauth2/userinfo", endpoint="userinfo", methods=["GET", "POST"]),
    Rule("/id/<org_id>/<user_id>", endpoint="identity", methods=["GET", "POST"]),
    Rule("/services/data", endpoint="versions", methods=["GET"], strict_slashes=False),
    Rule(f"{D}/", endpoint="resources", methods=["GET"]),
    Rule(f"{D}/limits", endpoint="limits", methods=["GET"], strict_slashes=False),
    Rule(f"{D}/sobjects", endpoint="describe_global", methods=["GET"], strict_slashes=False),
    Rule(f"{D}/sobjects/<sobject>", endpoint="sobject_basic", methods=["GET"]),
    Rule(
        f"{D}/sobjects/<sobject>/describe",
        endpoint="describe",
        methods=["GET"],
        strict_slashes=False,
    ),
    Rule(f"{D}/sobjects/<sobject>/<record_id>", endpoint="record", methods=["GET"]),
    Rule(f"{D}/sobjects/<sobject>/<record_id>/<field>", endpoint="blob", methods=["GET"]),
    Rule(f"{D}/query", endpoint="query", methods=["GET"], strict_slashes=False),
    Rule(f"{D}/queryAll", endpoint="query_all", methods=["GET"], strict_slashes=False),
    Rule(f"{D}/query/<locator>", endpoint="query_more", methods=["GET"]),
    Rule(f"{D}/queryAll/<locator>", endpoint="query_all_more", methods=["GET"]),
    Rule(f"{D}/jobs/query", endpoint="bulk_jobs", methods=["GET", "POST"], strict_slashes=False),
    Rule(f"{D}/jobs/query/<job_id>", endpoint="bulk_job", methods=["GET", "PATCH", "DELETE"]),
    Rule(f"{D}/jobs/query/<job_id>/results", endpoint="bulk_results", methods=["GET"]),
    Rule(f"{D}/jobs/query/<job_id>/resultPages", endpoint="bulk_pages", methods=["GET"]),
    Rule(
        "/__emulator__/",
        endpoint="control",
        defaults={"path": ""},
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    ),
    Rule(
        "/__emulator__/<path:path>",
        endpoint="control",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    ),
]


class EmulatorApp:
    """A WSGI callable serving one Org."""

    def __init__(self, org):
        self.org = org
        self.url_map = Map([rule.empty() for rule in RULES])

    def dispatch(self, request: Request) -> Response:
        org = self.org
        if not org.base_url_known:
            org.base_url = request.host_url
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except MethodNotAllowed as err:
            allowed = ",".join(sorted(err.valid_methods or []))
            return sf_error(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
            )
        except NotFound:
            if request.path.startswith("/services/"):
                return not_found()
            return Response("Not Found", status=404, content_type="text/plain")
        handler = HANDLERS[endpoint]
        return handler(org, request, **args)

    def respond(self, request: Request) -> Response:
        """The response to ``request`` (a multi-org emulator hands each org its requests)."""
        try:
            response = request_size.refusal(self.org, request.environ) or self.dispatch(request)
        except HTTPException as err:
            response = err.get_response(request.environ)
        # Salesforce's Date header is its own clock; here that is the emulated clock, so a
        # client that dates its windows by the server sees advanced time too.
        response.headers["Date"] = http_date(self.org.clock.time())
        return response

    def __call__(self, environ, start_response):
        return self.respond(Request(environ))(environ, start_response)


def _bulk_jobs(org, request, version):
    return (
        bulk.create(org, request, version)
        if request.method == "POST"
        else bulk.listing(org, request, version)
    )


def _bulk_job(org, request, version, job_id):
    if request.method == "PATCH":
        return bulk.abort(org, request, version, job_id)
    if request.method == "DELETE":
        return bulk.delete(org, request, version, job_id)
    return bulk.info(org, request, version, job_id)


HANDLERS = {
    "authorize": oauth.authorize,
    "token": oauth.token,
    "revoke": oauth.revoke,
    "userinfo": oauth.userinfo,
    "identity": oauth.identity,
    "versions": rest.versions,
    "resources": rest.resources,
    "limits": rest.limits,
    "describe_global": rest.describe_global,
    "sobject_basic": rest.sobject_basic,
    "describe": rest.describe,
    "record": rest.record,
    "blob": rest.blob,
    "query": lambda org, request, version: rest.query(org, request, version, False),
    "query_all": lambda org, request, version: rest.query(org, request, version, True),
    "query_more": lambda org, request, version, locator: rest.query_more(
        org, request, version, locator, False
    ),
    "query_all_more": lambda org, request, version, locator: rest.query_more(
        org, request, version, locator, True
    ),
    "bulk_jobs": _bulk_jobs,
    "bulk_job": _bulk_job,
    "bulk_results": bulk.results,
    "bulk_pages": bulk.result_pages,
    "control": lambda org, request, path: control.handle(org, request, path),
}


def make_wsgi_app(org) -> EmulatorApp:
    """The bare WSGI application serving org."""
    return EmulatorApp(org)
