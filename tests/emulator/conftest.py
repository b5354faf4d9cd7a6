"""Fixtures for the emulator's tests: an in-process org, and the same org served over loopback.

Orgs are reused within a module and reset between tests (generated data is a pure function of
the seed, so a reset is cheap and every test starts from the pristine state).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from emulator import EmulatorServer, Org

V = "62.0"
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def recorded_keys() -> dict:
    return json.loads((FIXTURES / "recorded_keys.json").read_text())


@pytest.fixture(scope="module")
def _shared_org() -> Org:
    return Org.from_profile("tiny", seed=42)


@pytest.fixture
def org(_shared_org: Org) -> Org:
    _shared_org.reset()
    return _shared_org


class Api:
    """A small client for tests: base URL, a bearer token, and helpers for the data API."""

    def __init__(self, server: EmulatorServer):
        self.server = server
        self.org = server.org
        self.base = server.base_url
        self.session = requests.Session()
        self.token: str | None = None

    def login(self, username: str = "integration@example.com") -> dict:
        body = self.org.issue_tokens(username, "api refresh_token")
        self.token = body["access_token"]
        return body

    def headers(self, extra: dict | None = None) -> dict:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        h.update(extra or {})
        return h

    def url(self, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith("/"):
            return self.base + path
        return f"{self.base}/services/data/v{V}/{path}"

    def get(self, path: str, **kw) -> requests.Response:
        kw["headers"] = self.headers(kw.get("headers"))
        return self.session.get(self.url(path), timeout=60, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        kw["headers"] = self.headers(kw.get("headers"))
        return self.session.post(self.url(path), timeout=60, **kw)

    def patch(self, path: str, **kw) -> requests.Response:
        kw["headers"] = self.headers(kw.get("headers"))
        return self.session.patch(self.url(path), timeout=60, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        kw["headers"] = self.headers(kw.get("headers"))
        return self.session.delete(self.url(path), timeout=60, **kw)

    def query(self, soql: str, **kw) -> requests.Response:
        return self.get("query", params={"q": soql}, **kw)

    def create_job(self, soql: str, operation: str = "query", **extra) -> dict:
        r = self.post("jobs/query", json={"operation": operation, "query": soql, **extra})
        assert r.status_code == 200, r.text
        return r.json()

    def wait_job(self, job_id: str, state: str = "JobComplete") -> dict:
        for _ in range(200):
            info = self.get(f"jobs/query/{job_id}").json()
            if info["state"] == state:
                return info
            self.org.clock.advance(1)
        raise AssertionError(f"job {job_id} never reached {state}: {info}")


@pytest.fixture(scope="module")
def _server():
    server = EmulatorServer(Org.from_profile("tiny", seed=42), host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def api(_server: EmulatorServer) -> Api:
    """The served tiny org, reset, with the integration user logged in."""
    _server.org.reset()
    client = Api(_server)
    client.login()
    return client
