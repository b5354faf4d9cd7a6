"""The emulator's own control API under /__emulator__/ (JSON in and out; not Salesforce,
not counted against the API limit)."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from emulator.data.store import RecordError
from emulator.faults import FaultError
from emulator.web.common import json_response


def _body(request: Request) -> dict:
    data = request.get_data()
    if not data:
        return {}
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("the request body must be a JSON object")
    return value


def _error(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def handle(org, request: Request, path: str) -> Response:
    """Dispatch one control request; errors come back as {"error": ...} with 400/404."""
    parts = [p for p in path.split("/") if p]
    try:
        body = _body(request) if request.method in ("POST", "PUT", "PATCH") else {}
        return _dispatch(org, request, request.method, parts, body)
    except (RecordError, FaultError, ValueError, TypeError) as err:
        return _error(400, str(err))
    except KeyError as err:
        return _error(404, f"not found: {err.args[0] if err.args else ''}")


def _dispatch(org, request: Request, method: str, parts: list[str], body: dict) -> Response:
    head = parts[0] if parts else ""
    if not parts and method == "GET":
        return json_response(_summary(org))
    if head == "records" and len(parts) >= 2:
        return _records(org, request, method, parts[1:], body)
    if head == "count" and len(parts) == 2 and method == "GET":
        deleted = request.args.get("include_deleted", "false").lower() == "true"
        return json_response({"count": org.count(parts[1], include_deleted=deleted)})
    if head == "describe" and len(parts) == 2 and method == "GET":
        username = request.args.get("username", org.integration_username)
        return json_response(org.describe(parts[1], username))
    if head == "changes" and method == "POST":
        return json_response(org.apply_random_changes(int(body.get("n", 100)), body.get("seed")))
    if head == "clock":
        if method == "POST" and parts[1:] == ["advance"]:
            org.clock.advance(float(body.get("seconds", 0)))
        return json_response({"now": org.clock.now().isoformat(), "offset": org.clock.offset})
    if head == "faults":
        return _faults(org, method, parts[1:], body)
    if head == "counters" and method == "GET":
        return json_response(org.counters())
    if head == "api-usage" and method == "GET":
        used, limit = org.api_usage()
        return json_response({"used": used, "max": limit})
    if head == "reset" and method == "POST":
        org.reset()
        return json_response({"reset": True})
    if head == "tokens" and method == "POST":
        return json_response(
            org.issue_tokens(body["username"], body.get("scope", "api refresh_token"))
        )
    if head == "schema" and len(parts) >= 3 and parts[2] == "fields":
        if method == "POST":
            spec = dict(body)
            name = spec.pop("name")
            org.add_field(parts[1], name, spec.pop("type", "string"), **spec)
            return json_response({"added": name}, 201)
        if method == "DELETE" and len(parts) == 4:
            org.remove_field(parts[1], parts[3])
            return Response(status=204)
    if head == "access" and method == "PUT":
        org.set_object_access(body["username"], body["sobject"], bool(body["readable"]))
        return Response(status=204)
    if head == "users" and len(parts) == 2 and method == "PATCH":
        org.set_user_active(parts[1], bool(body["active"]))
        return Response(status=204)
    return _error(404, f"no control endpoint {method} /__emulator__/{'/'.join(parts)}")


def _records(org, request: Request, method: str, parts: list[str], body: dict) -> Response:
    sobject = parts[0]
    if len(parts) == 1 and method == "POST":
        return json_response({"id": org.create(sobject, body)}, 201)
    if len(parts) == 1 and method == "GET":
        deleted = request.args.get("include_deleted", "true").lower() == "true"
        username = request.args.get("username", org.integration_username)

        def lines():
            for rec in org.iter_records(sobject, include_deleted=deleted, username=username):
                yield (json.dumps(rec) + "\n").encode()

        return Response(lines(), content_type="application/x-ndjson")
    sf_id = parts[1]
    if len(parts) == 2 and method == "PATCH":
        org.update(sobject, sf_id, body)
        return Response(status=204)
    if len(parts) == 2 and method == "DELETE":
        org.delete(sobject, sf_id)
        return Response(status=204)
    if len(parts) == 3 and method == "POST":
        action = parts[2]
        if action == "undelete":
            org.undelete(sobject, sf_id)
        elif action == "purge":
            org.purge(sobject, sf_id)
        elif action == "set-without-modstamp":
            org.set_field_value_without_modstamp(sobject, sf_id, body["field"], body.get("value"))
        else:
            return _error(404, f"unknown record action {action}")
        return Response(status=204)
    return _error(404, "unknown records endpoint")


def _faults(org, method: str, parts: list[str], body: dict) -> Response:
    if method == "GET":
        return json_response(org.faults.active())
    if method == "DELETE":
        org.faults.clear(parts[0] if parts else None)
        return Response(status=204)
    if method == "PUT" and parts:
        params = org.faults.set(parts[0], **body)
        return json_response({parts[0]: params})
    if method == "PUT":
        if "spec" in body:
            names = org.faults.set_spec(body["spec"])
        else:
            names = []
            for name, params in body.items():
                org.faults.set(name, **(params or {}))
                names.append(name)
        return json_response({"active": org.faults.active(), "set": names})
    return _error(405, "use GET, PUT or DELETE")


def _summary(org) -> dict:
    used, limit = org.api_usage()
    return {
        "emulator": "Salesforce org emulator",
        "profile": org.profile,
        "seed": org.seed,
        "sandbox": org.sandbox,
        "base_url": org.base_url,
        "org_id": org.org_id,
        "client_id": org.auth.config.client_id,
        "users": [{"username": u.username, "situation": u.situation} for u in org.user_list],
        "counts": {name: store.count(False) for name, store in org.stores.items()},
        "api_usage": {"used": used, "max": limit},
        "now": org.clock.now().isoformat(),
    }
