"""Responses carry the org's own clock in the Date header, as Salesforce's do."""

from email.utils import parsedate_to_datetime

import requests

from emulator import EmulatorServer, Org


def test_the_date_header_follows_the_emulated_clock():
    org = Org.from_profile("tiny", seed=1)
    with EmulatorServer(org, host="127.0.0.1", port=0) as server:
        org.clock.advance(3 * 86400)
        response = requests.get(server.base_url + "/services/data/", timeout=10)
        stamp = parsedate_to_datetime(response.headers["Date"])
        assert abs((stamp - org.clock.now()).total_seconds()) < 2
