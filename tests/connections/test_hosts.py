"""The instance-host allow-list and the My Domain hosts a customer may type."""

import pytest

from connections.salesforce.exceptions import SalesforceInstanceNotAllowed
from connections.salesforce.hosts import host_matches, my_domain_login_url, url_check

ALLOWED = [".salesforce.com", ".force.com", "127.0.0.1"]


@pytest.mark.parametrize(
    "host",
    [
        "na1.salesforce.com",
        "acme.my.salesforce.com",
        "acme--uat.sandbox.my.salesforce.com",
        "acme.lightning.force.com",
        "127.0.0.1",
    ],
)
def test_allowed_hosts_match_subdomains_and_exact_entries(host):
    assert host_matches(host, ALLOWED)


@pytest.mark.parametrize(
    "host",
    ["salesforce.com.evil.example", "evilsalesforce.com", "127.0.0.2", "localhost", "force.co"],
)
def test_other_hosts_do_not_match(host):
    assert not host_matches(host, ALLOWED)


def test_url_check_refuses_http_off_loopback_and_unknown_hosts():
    assert url_check("https://acme.my.salesforce.com", ALLOWED)
    assert url_check("http://127.0.0.1:8765/id/x/y", ALLOWED, loopback_http=True)
    for url in (
        "http://acme.my.salesforce.com",
        "https://evil.example",
        "https://",
        "http://127.0.0.1:8765/id/x/y",  # loopback http only for the emulator (DEBUG)
    ):
        with pytest.raises(SalesforceInstanceNotAllowed):
            url_check(url, ALLOWED)


@pytest.mark.parametrize(
    ("typed", "login_url"),
    [
        ("acme.my.salesforce.com", "https://acme.my.salesforce.com"),
        ("  https://Acme.my.salesforce.com/ ", "https://acme.my.salesforce.com"),
        ("acme--uat.sandbox.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com"),
        ("acme-corp-2.my.salesforce.com", "https://acme-corp-2.my.salesforce.com"),
        ("acme.sandbox.my.salesforce.com", "https://acme.sandbox.my.salesforce.com"),
    ],
)
def test_my_domain_hosts_are_accepted(typed, login_url):
    assert my_domain_login_url(typed) == login_url


@pytest.mark.parametrize(
    "typed",
    [
        "login.salesforce.com",
        "acme.salesforce.com",
        "acme.my.salesforce.com.evil.example",
        "http://acme.my.salesforce.com",
        "https://acme.my.salesforce.com:8443",
        "https://acme.my.salesforce.com/services/oauth2/authorize",
        "acme.sandbox.my.salesforce.com.example",
        "-acme.my.salesforce.com",
        "",
    ],
)
def test_anything_else_is_refused_with_a_clear_reason(typed):
    with pytest.raises(ValueError, match=r"My Domain|host name|https"):
        my_domain_login_url(typed)
