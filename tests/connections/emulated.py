"""End-to-end helpers: a real emulated org on loopback, settings pointing at it, and the OAuth
dance driven the way a browser would (the Django test client for our side, plain HTTP for the
emulator's consent form)."""

from __future__ import annotations

from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulator import EmulatorServer, Org

CALLBACK = "http://testserver/connections/oauth/callback/"
PASSWORD = "emulator"


class Emulated:
    """One running emulated org and its base URL."""

    def __init__(self, org: Org, server: EmulatorServer) -> None:
        self.org = org
        self.server = server
        self.url = server.base_url

    def grants(self, name: str) -> int:
        """How many OAuth grants of a kind the org answered (e.g. ``refresh_token``)."""
        return self.org.counters().get("oauth_grants", {}).get(name, 0)


def _server_for(org: Org) -> EmulatorServer:
    # emulator/web/app.py builds ``Map(RULES)`` from module-level werkzeug Rules, which bind to
    # the first Map: a second org in one process fails with "already bound". Until the emulator
    # copies its rules, give each app fresh copies (reported to the emulator's author).
    from emulator.web import app as web_app

    fresh = [rule.empty() for rule in web_app.RULES]
    with mock.patch.object(web_app, "RULES", fresh):
        return EmulatorServer(org, host="127.0.0.1", port=0).start()


def start_emulator(settings, **org_options) -> Emulated:
    """Start an org (tiny profile) and point every Salesforce setting at it."""
    org_options.setdefault("seed", 1)
    org = Org.from_profile("tiny", **org_options)
    server = _server_for(org)
    settings.SALESFORCE_LOGIN_URL = server.base_url
    settings.SALESFORCE_SANDBOX_LOGIN_URL = server.base_url
    settings.SALESFORCE_CLIENT_ID = "emulator-client-id"
    settings.SALESFORCE_CLIENT_SECRET = "emulator-client-secret"
    settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS = ["127.0.0.1"]
    settings.SALESFORCE_REQUEST_TIMEOUT = 10
    settings.SALESFORCE_RETRY_MAX_WAIT = 0
    return Emulated(org, server)


@pytest.fixture
def emulated(settings):
    """A production org on loopback whose connected app lists the test client's callback."""
    emulated = start_emulator(settings, redirect_uris=(CALLBACK,))
    yield emulated
    emulated.server.stop()


@pytest.fixture
def enqueue():
    """``sync_run_enqueue`` patched: the sync engine behind it is another issue's work."""
    with mock.patch("ingestion.services.runs.sync_run_enqueue", autospec=True) as patched:
        yield patched


def consent(authorize_url: str, username: str, action: str = "allow") -> str:
    """Submit the emulator's login-and-consent form; return where it redirects."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    assert 'name="username"' in page.text
    response = requests.post(
        authorize_url,
        data={"username": username, "password": PASSWORD, "action": action},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def local_path(url: str) -> str:
    """The path and query of a redirect back to us, for the Django test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start_connect(client, workspace, environment: str = "production") -> str:
    """Press "Connect to Salesforce"; return the authorize URL the browser is sent to."""
    response = client.post(
        f"/connections/w/{workspace.slug}/connect/", {"environment": environment}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def connect(client, workspace, username: str, environment: str = "production"):
    """The whole flow: connect, consent as ``username``, follow the callback home."""
    back = consent(start_connect(client, workspace, environment), username)
    return client.get(local_path(back), follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
