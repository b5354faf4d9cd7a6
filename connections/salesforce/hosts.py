"""The one URL gate for credentials, and the My Domain hosts a customer may type.

Every absolute URL a token, refresh token or client secret is sent to passes ``url_check``
(architecture invariant 11). It parses the URL once with urllib3's ``parse_url`` (the parser
requests itself uses, so the gate and the socket agree on the host), refuses anything unusual,
and returns the URL rebuilt from its scheme, host, port, path and query: only the rebuilt URL
is ever requested.

Pure functions: no Django, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from connections.salesforce.exceptions import SalesforceInstanceNotAllowed

# Hosts the bundled emulator may live on, when plain http on loopback is allowed (DEBUG).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")

# A plain DNS name: labels of [a-z0-9-], not starting or ending with "-", no empty label and
# no trailing dot. Anything else (percent-encoding, backslash, unicode, brackets) is refused.
_DNS_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")
# Printable ASCII without space or backslash: what a URL we send a credential to may contain.
_URL_CHARS = re.compile(r"^[\x21-\x5b\x5d-\x7e]+$")

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
    """Whether ``host`` is on the allow-list: ".x.com" = any subdomain of x.com, else exact.

    ``host`` must already be a plain DNS name (``url_check`` makes sure): no trailing dot.
    """
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("."):
            if host.endswith(entry) and len(host) > len(entry):
                return True
        elif host == entry:
            return True
    return False


def url_check(url: str, allowed: Iterable[str], *, loopback_http: bool = False) -> str:
    """The URL to request instead of ``url``, if a credential may go there; else raise
    ``SalesforceInstanceNotAllowed``.

    The host must be a plain DNS name on the allow-list: no user info, no backslash, no
    percent-encoding or other character outside ``[a-z0-9.-]``, no trailing dot, no IP address,
    https only. ``loopback_http`` (DEBUG and the tests, where the emulator lives) also lets
    plain http reach 127.0.0.1 and localhost, when they are on the allow-list.
    Reference: https://datatracker.ietf.org/doc/html/rfc9700#section-4.1 (exact host matching)
    """
    parts = _parse(url)
    host = parts.host or ""
    if parts.auth is not None:
        raise _refused("it carries a user name or password before the host")
    if not _DNS_NAME.match(host):
        raise _refused("its host is not a plain DNS name")
    loopback = loopback_http and host in LOOPBACK_HOSTS
    if _looks_numeric(host) and not loopback:
        raise _refused("its host is an IP address")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise _refused("it does not use https", host)
    if not host_matches(host, allowed):
        raise _refused(
            "it is not a Salesforce host this installation trusts "
            "(SALESFORCE_ALLOWED_INSTANCE_HOSTS)",
            host,
        )
    port = f":{parts.port}" if parts.port is not None else ""
    query = f"?{parts.query}" if parts.query is not None else ""
    return f"{parts.scheme}://{host}{port}{parts.path or ''}{query}"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL ``url_check`` returned (no path)."""
    parts = parse_url(url)
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{parts.host}{port}"


def my_domain_login_url(value: str) -> str:
    """The https login URL for a My Domain host a customer typed, or ``ValueError`` saying why.

    Accepts "acme.my.salesforce.com", "https://acme.my.salesforce.com/" and the sandbox form
    "acme--uat.sandbox.my.salesforce.com"; anything else (other hosts, paths, ports, http) is
    refused, because we send the connected app's credentials to this host.
    """
    text = value.strip().lower()
    if "://" in text:
        try:
            parts = _parse(text)
        except SalesforceInstanceNotAllowed:
            raise ValueError("Enter only the host name, e.g. acme.my.salesforce.com.") from None
        if parts.scheme != "https":
            raise ValueError("Use the https address of your My Domain.")
        if (
            parts.port
            or parts.auth
            or parts.query
            or parts.fragment
            or parts.path
            not in (
                None,
                "",
                "/",
            )
        ):
            raise ValueError("Enter only the host name, e.g. acme.my.salesforce.com.")
        text = parts.host or ""
    text = text.rstrip("/")
    if not _MY_DOMAIN.match(text):
        raise ValueError(
            "That is not a Salesforce My Domain. It looks like yourcompany.my.salesforce.com "
            "(or yourcompany--sandbox.sandbox.my.salesforce.com for a sandbox); you find it in "
            "Setup under My Domain."
        )
    return f"https://{text}"


def _parse(url: str):
    """urllib3's reading of ``url`` (what requests will connect to), or a refusal."""
    if not isinstance(url, str) or not _URL_CHARS.match(url):
        raise _refused("it holds spaces, a backslash or characters outside printable ASCII")
    try:
        parts = parse_url(url)
    except LocationParseError:
        raise _refused("it cannot be parsed") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise _refused("it is not an absolute http(s) URL")
    # urllib3 normalises the host (decodes %2e, lowercases, strips brackets): the host as
    # written must be exactly the host it will connect to, so nothing was decoded on the way.
    written = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0].lower()
    port = f":{parts.port}" if parts.port is not None else ""
    if parts.auth is None and written != f"{parts.host}{port}":
        raise _refused("its host is written in an unusual form")
    return parts


def _looks_numeric(host: str) -> bool:
    """A host whose last label is digits (or 0x-hex) is an IPv4 address in some notation
    (dotted, decimal, octal, hex: inet_aton reads them all), never a DNS name."""
    return bool(_NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]))


def _refused(reason: str, host: str = "") -> SalesforceInstanceNotAllowed:
    # Only a host that passed the DNS-name check is echoed: the rest of a refused URL may hold
    # anything (even a credential somebody pasted), and messages end up in logs and pages.
    where = f" {host}" if host else " that address"
    return SalesforceInstanceNotAllowed(
        f"Refused to send a Salesforce credential to{where}: {reason}, so nothing was sent there.",
        error_code="INSTANCE_NOT_ALLOWED",
    )
