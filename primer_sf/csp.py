"""django-csp's middleware, with ``form-action`` following the Salesforce login hosts.

Connecting an org posts a form that redirects to the login host, and browsers hold that
redirect to the page's ``form-action``; the login hosts are settings that the demo and the
tests point at the emulator at run time, so they are read per response, not at import.
Reference: https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Content-Security-Policy/form-action
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from urllib3.util import parse_url


def login_origins() -> list[str]:
    """``scheme://host[:port]`` of the configured production and sandbox login URLs."""
    origins = set()
    for url in (settings.SALESFORCE_LOGIN_URL, settings.SALESFORCE_SANDBOX_LOGIN_URL):
        parts = parse_url(url or "")
        if parts.scheme and parts.host:
            port = f":{parts.port}" if parts.port else ""
            origins.add(f"{parts.scheme}://{parts.host}{port}")
    return sorted(origins)


class LoginHostsCSPMiddleware(CSPMiddleware):
    """Adds the login origins to ``form-action`` of every policy it writes."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        update = dict(parts.update or {})
        update["form-action"] = [*update.get("form-action", []), *login_origins()]
        parts.update = update
        return parts
