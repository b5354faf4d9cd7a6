"""The credential gate refuses the SSRF bypass catalogue and passes only rebuilt URLs."""

import re

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from connections.salesforce.exceptions import SalesforceInstanceNotAllowed
from connections.salesforce.hosts import host_matches, url_check
from tests.connections.ssrf_catalogue import bypass_urls

# The allow-list of the tests' settings, loopback included: the gate must still refuse
# every bypass (127.0.0.1 in another notation, or a name that resolves to it).
ALLOWED = (".salesforce.com", ".force.com", "127.0.0.1")


@pytest.mark.parametrize("loopback_http", [False, True])
@pytest.mark.parametrize("url", bypass_urls("attacker.example", 8443))
def test_every_bypass_aimed_at_another_host_is_refused(url, loopback_http):
    with pytest.raises(SalesforceInstanceNotAllowed):
        url_check(url, ALLOWED, loopback_http=loopback_http)


@pytest.mark.parametrize("url", bypass_urls("127.0.0.1", 8765))
def test_every_bypass_aimed_at_loopback_is_refused_outside_debug(url):
    with pytest.raises(SalesforceInstanceNotAllowed):
        url_check(url, ALLOWED)


@pytest.mark.parametrize(
    ("url", "rebuilt"),
    [
        ("https://acme.my.salesforce.com", "https://acme.my.salesforce.com"),
        (
            "https://ACME.my.salesforce.com:443/services/data/v62.0/query/01gX-2000?x=1#frag",
            "https://acme.my.salesforce.com:443/services/data/v62.0/query/01gX-2000?x=1",
        ),
        (
            "https://login.salesforce.com/id/00D5g000004Ab1cEAC/0055g00000AbCdEAAV",
            "https://login.salesforce.com/id/00D5g000004Ab1cEAC/0055g00000AbCdEAAV",
        ),
    ],
)
def test_allowed_urls_come_back_rebuilt_from_their_parts(url, rebuilt):
    assert url_check(url, ALLOWED) == rebuilt


def test_the_emulator_on_loopback_passes_only_when_debug_allows_it():
    url = "http://127.0.0.1:8765/services/oauth2/token"
    assert url_check(url, ALLOWED, loopback_http=True) == url
    with pytest.raises(SalesforceInstanceNotAllowed):
        url_check(url, ALLOWED)


def test_a_refusal_names_no_part_of_the_refused_url():
    with pytest.raises(SalesforceInstanceNotAllowed) as caught:
        url_check("https://user:s3cret-token@attacker.example/", ALLOWED)
    assert "s3cret" not in str(caught.value)
    assert "attacker" not in str(caught.value)


URL_PIECES = st.sampled_from(
    ["https://", "http://", "acme", ".my", ".salesforce.com", "127.0.0.1", "attacker.example",
     "@", "\\", "#", "?", "/", ":", ":8765", "%2f", "%5c", "%2e", "%40", ".", "..", "[::1]",
     "\u3002", "\uff0e", "0x7f", "2130706433", " ", "\t", "user:pw", "localhost"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(URL_PIECES, min_size=1, max_size=8).map("".join))
def test_whatever_passes_is_a_plain_allowed_host_that_requests_reads_the_same(url):
    try:
        rebuilt = url_check(url, ALLOWED, loopback_http=True)
    except SalesforceInstanceNotAllowed:
        return
    host = parse_url(rebuilt).host
    assert re.fullmatch(r"[a-z0-9.-]+", host)
    assert host_matches(host, ALLOWED)
    assert parse_url(url).host == host  # what the original would have reached
    assert parse_url(requests.Request("GET", rebuilt).prepare().url).host == host
    assert url_check(rebuilt, ALLOWED, loopback_http=True) == rebuilt
