"""The SSRF bypass catalogue the credential gate is tested against.

Each entry is a URL template; ``{host}`` is where the attacker's host goes (an outside name in
the gate tests, the local listener in the end-to-end tests) and ``{port}`` its port. The gate
must refuse every one, whatever the allow-list, because each either names the attacker's host
in a form that some parser reads differently, or is not a plain https URL on a DNS name.
"""

SF = "acme.my.salesforce.com"

BYPASSES = [
    # backslash: urlsplit reads the host after "@", urllib3 the host before "\"
    "https://{host}:{port}\\@" + SF,
    "https://{host}:{port}\\\\@" + SF,
    "https://" + SF + "\\@{host}:{port}",
    "https://{host}:{port}\\." + SF,
    # user info
    "https://" + SF + "@{host}:{port}/",
    "https://" + SF + ":443@{host}:{port}/",
    "https://user:pass@{host}:{port}/",
    "https://{host}:{port}@" + SF + "/",
    # fragment and query in front of an allowed name
    "https://{host}:{port}#@" + SF,
    "https://{host}:{port}#." + SF,
    "https://{host}:{port}?." + SF,
    "https://{host}:{port}/." + SF,
    # percent-encoded slash, backslash, dot, at
    "https://{host}:{port}%2f@" + SF,
    "https://{host}:{port}%2F." + SF,
    "https://{host}:{port}%5c@" + SF,
    "https://{host}%5c." + SF,
    "https://{host}%2e" + SF,
    "https://{host}%40" + SF,
    "https://acme%2emy%2esalesforce%2ecom:{port}",
    # unicode dots (ideographic, fullwidth, halfwidth) and other non-ASCII
    "https://{host}\u3002" + SF,
    "https://{host}\uff0e" + SF,
    "https://{host}\uff61" + SF,
    "https://acme\u3002my\u3002salesforce\u3002com",
    "https://acme.my.salesforce.com\u200b.{host}",
    # trailing dot and empty labels
    "https://" + SF + ".",
    "https://" + SF + ".:{port}/",
    "https://" + SF + "..",
    "https://acme..my.salesforce.com",
    # whitespace and control characters
    "https://{host}:{port}\t." + SF,
    "https://" + SF + " @{host}:{port}",
    "https://{host}:{port}\n." + SF,
    # scheme tricks
    "http://" + SF,
    "https:/{host}:{port}",
    "https:{host}:{port}",
    "//{host}:{port}",
    "ftp://" + SF,
    "javascript://" + SF + "/%0aalert(1)",
    # suffix confusion
    "https://" + SF + ".{host}:{port}",
    "https://evilsalesforce.com",
    "https://salesforce.com.evil.example",
    "https://.salesforce.com",
    # decimal, octal, hex and short IPv4 forms of 127.0.0.1
    "http://2130706433:{port}/",
    "https://2130706433:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://0177.0.0.01:{port}/",
    "http://0x7f.0.0.1:{port}/",
    "http://0x7f000001:{port}/",
    "http://127.1:{port}/",
    "http://127.0.1:{port}/",
    "http://017700000001:{port}/",
    # IPv6 literals, mapped and not
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/",
    "http://[::1]:{port}/",
    "http://[::127.0.0.1]:{port}/",
    # localhost variants
    "http://localhost.:{port}/",
    "http://LOCALHOST.:{port}/",
    "http://localhost%2e:{port}/",
    "http://localhost..:{port}/",
    "http://localhost.localdomain:{port}/",
    "http://127.0.0.1.:{port}/",
]

# Refused only where loopback is not on the allow-list (production): the plain forms.
LOOPBACK_PLAIN = ["http://localhost:{port}/", "http://127.0.0.1:{port}/"]


def bypass_urls(host: str, port: int) -> list[str]:
    """Every catalogue entry aimed at ``host:port``."""
    return [template.format(host=host, port=port) for template in BYPASSES]
