"""Transient failures are retried with backoff, a bounded number of times, and logged."""

import logging

import pytest

from connections.salesforce.exceptions import SalesforceQueryError, SalesforceUnavailable
from tests.connections.conftest import API, error, payload


def test_it_retries_a_transient_failure_and_counts_the_retries(sf, make_client):
    sf.get(f"{API}/limits", **error("server_unavailable"))
    sf.get(f"{API}/limits", **error("unable_to_lock_row"))
    sf.get(f"{API}/limits", json=payload("limits.json"))
    client = make_client()

    assert client.limits()["DailyBulkV2QueryJobs"]["Remaining"] == 9998
    assert client.retries == 2


def test_retries_are_bounded_then_the_error_is_raised(sf, make_client):
    for _ in range(3):
        sf.get(f"{API}/limits", **error("server_unavailable"))
    client = make_client(retry_attempts=3)

    with pytest.raises(SalesforceUnavailable):
        client.limits()
    assert len(sf.calls) == 3
    assert client.retries == 2


def test_permanent_errors_are_not_retried(sf, make_client):
    sf.get(f"{API}/query", **error("malformed_query"))
    client = make_client()
    with pytest.raises(SalesforceQueryError):
        client.count("SELECT COUNT() FRM Contact")
    assert len(sf.calls) == 1
    assert client.retries == 0


def test_each_retry_is_logged(sf, make_client, caplog):
    sf.get(f"{API}/limits", **error("server_unavailable"))
    sf.get(f"{API}/limits", json=payload("limits.json"))
    with caplog.at_level(logging.WARNING, logger="connections.salesforce.client"):
        make_client().limits()
    assert "retry 1 of 4" in caplog.text
    assert "SERVER_UNAVAILABLE" in caplog.text


def test_the_waits_grow_exponentially_with_jitter_and_are_capped(sf, make_client, monkeypatch):
    sleeps = []
    monkeypatch.setattr("tenacity.nap.time.sleep", sleeps.append)
    for _ in range(6):
        sf.get(f"{API}/limits", **error("server_unavailable"))
    with pytest.raises(SalesforceUnavailable):
        make_client(retry_attempts=6, retry_max_wait=4.0).limits()
    assert len(sleeps) == 5
    assert 1 <= sleeps[0] <= 2  # 1 s plus up to 1 s of jitter
    assert sleeps[-1] == 4.0  # 16 s, capped
    assert all(s <= 4.0 for s in sleeps)
