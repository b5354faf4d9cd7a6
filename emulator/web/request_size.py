"""Salesforce's front door refuses oversized requests before any API logic runs.

A request line over 16,384 bytes gets `414` with Jetty's HTML body, recorded from real orgs
(`<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>`, quoted in simple-salesforce issue
#271 and jsforce issue #1134). Jetty parses the request line and the headers into one buffer of
that size: when the line fits but line and headers together do not, the answer is `431` with the
same kind of body (the 431 threshold and body are Jetty's behaviour, unverified against
Salesforce). Neither is an API call: nothing is counted against the daily limit, but the
emulator's counters record the largest request line and header block seen, and every refusal.
"""

from __future__ import annotations

from urllib.parse import quote

from werkzeug.wrappers import Response

MAX_REQUEST_BYTES = 16_384
JETTY_TYPE = "text/html;charset=iso-8859-1"
URI_TOO_LONG_BODY = "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>"
HEADERS_TOO_LARGE_BODY = (
    "<h1>Bad Message 431</h1><pre>reason: Request Header Fields Too Large</pre>"
)


def request_line_bytes(environ) -> int:
    """Bytes of `METHOD target PROTOCOL` as the client sent it (without the CRLF)."""
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if not target:
        target = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        query = environ.get("QUERY_STRING")
        if query:
            target += "?" + query
    method = environ.get("REQUEST_METHOD", "GET")
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    return len(method) + 1 + len(target.encode("latin-1", "replace")) + 1 + len(protocol)


def header_bytes(environ) -> int:
    """Bytes of the header lines (`Name: value` and CRLF each), rebuilt from the environ."""
    total = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key
        else:
            continue
        total += len(name) + 2 + len(str(value).encode("latin-1", "replace")) + 2
    return total


def refusal(org, environ) -> Response | None:
    """The 414 / 431 for an oversized request, or None; notes the sizes in the counters."""
    line = request_line_bytes(environ)
    headers = header_bytes(environ)
    org.counters_state.note_request_size(line, headers)
    limit = org.max_request_bytes
    if line > limit:
        org.counters_state.refuse(414)
        return Response(URI_TOO_LONG_BODY, status=414, content_type=JETTY_TYPE)
    if line + 2 + headers > limit:
        org.counters_state.refuse(431)
        return Response(HEADERS_TOO_LARGE_BODY, status=431, content_type=JETTY_TYPE)
    return None
