"""Which hosts may ever receive a Salesforce token, and which My Domain hosts a customer may type.

Pure functions: no Django, no HTTP. ``client.py`` and ``oauth.py`` call them before sending
anything, so a token never leaves for a host outside ``SALESFORCE_ALLOWED_INSTANCE_HOSTS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from connections.salesforce.exceptions import SalesforceInstanceNotAllowed

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# MyDomainName.my.salesforce.com, and the enhanced-domains sandbox form
# MyDomainName--SandboxName.sandbox.my.salesforce.com.
# Reference: https://help.salesforce.com/s/articleView?id=sf.domain_name_format.htm
_MY_DOMAIN = re.compile(
    r"^(?P<name>[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?)"
    r"(?:--(?P<sandbox_name>[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?))?"
    r"(?:\.sandbox)?"
    r"\.my\.salesforce\.com$"
)


def host_matches(host: str, allowed: Iterable[str]) -> bool:
    """Whether ``host`` is on the allow-list: ".x.com" = any subdomain of x.com, else exact."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("."):
            if host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


def url_check(url: str, allowed: Iterable[str]) -> str:
    """Return ``url`` if a token may be sent there, else raise ``SalesforceInstanceNotAllowed``.

    The host must be on the allow-list, and the scheme https (plain http only on loopback, which
    is where the bundled emulator lives).
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)
    if not host or not secure or not host_matches(host, allowed):
        raise SalesforceInstanceNotAllowed(
            f"Refused to use {parts.scheme}://{host or '?'}: it is not a Salesforce host this "
            "installation trusts (SALESFORCE_ALLOWED_INSTANCE_HOSTS), so no token was sent there.",
            error_code="INSTANCE_NOT_ALLOWED",
        )
    return url


def my_domain_login_url(value: str) -> str:
    """The https login URL for a My Domain host a customer typed, or ``ValueError`` saying why.

    Accepts "acme.my.salesforce.com", "https://acme.my.salesforce.com/" and the sandbox form
    "acme--uat.sandbox.my.salesforce.com"; anything else (other hosts, paths, ports, http) is
    refused, because we send the connected app's credentials to this host.
    """
    text = value.strip().lower()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme != "https":
            raise ValueError("Use the https address of your My Domain.")
        if parts.port or parts.username or parts.query or parts.path not in ("", "/"):
            raise ValueError("Enter only the host name, e.g. acme.my.salesforce.com.")
        text = parts.hostname or ""
    text = text.rstrip("/")
    if not _MY_DOMAIN.match(text):
        raise ValueError(
            "That is not a Salesforce My Domain. It looks like yourcompany.my.salesforce.com "
            "(or yourcompany--sandbox.sandbox.my.salesforce.com for a sandbox); you find it in "
            "Setup under My Domain."
        )
    return f"https://{text}"
