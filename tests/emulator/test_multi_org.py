"""Several orgs in one emulator, reached as Salesforce's are: one login host, the username
decides the org, and each org answers at its own instance_url with its own org id."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulator.registry import MultiOrgServer, OrgRegistry

ROOT = Path(__file__).resolve().parents[2]
APP = {"client_id": "emulator-client-id", "client_secret": "emulator-client-secret"}
CALLBACK = "http://127.0.0.1:9/callback"
ORG2_USER = "integration@org2.example.com"


@pytest.fixture(scope="module")
def fleet():
    registry = OrgRegistry.from_profile("tiny", 2, seed=42)
    server = MultiOrgServer(registry, port=0).start()
    yield registry, server
    server.stop()


def _password_grant(login: str, username: str) -> dict:
    data = {"grant_type": "password", "username": username, "password": "emulator", **APP}
    response = requests.post(f"{login}/services/oauth2/token", data=data, timeout=30)
    response.raise_for_status()
    return response.json()


def _query(body: dict, soql: str) -> dict:
    response = requests.get(
        f"{body['instance_url']}/services/data/v62.0/query",
        params={"q": soql},
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def test_each_orgs_users_sign_in_at_the_login_host_and_land_on_their_own_org(fleet):
    registry, server = fleet
    first = _password_grant(server.base_url, "integration@example.com")
    second = _password_grant(server.base_url, ORG2_USER)
    orgs = registry.orgs
    assert orgs[0].org_id != orgs[1].org_id
    assert (first["instance_url"], second["instance_url"]) == (orgs[0].base_url, orgs[1].base_url)
    assert len({server.base_url, first["instance_url"], second["instance_url"]}) == 3
    assert first["id"].split("/")[-2] == orgs[0].org_id
    assert second["id"].split("/")[-2] == orgs[1].org_id
    who = requests.get(
        second["id"], headers={"Authorization": f"Bearer {second['access_token']}"}, timeout=30
    ).json()
    assert (who["username"], who["organization_id"]) == (ORG2_USER, orgs[1].org_id)


def test_each_org_has_its_own_seed_and_api_counters(fleet):
    registry, server = fleet
    first = _password_grant(server.base_url, "integration@example.com")
    second = _password_grant(server.base_url, ORG2_USER)
    before = [org.api_usage()[0] for org in registry.orgs]
    names = [
        _query(body, "SELECT Name FROM Contact ORDER BY Id LIMIT 3")["records"]
        for body in (first, second)
    ]
    _query(second, "SELECT COUNT() FROM Contact")
    assert names[0] != names[1]  # seeds 42 and 43
    assert [org.api_usage()[0] - b for org, b in zip(registry.orgs, before, strict=True)] == [1, 2]


def test_a_token_is_only_good_at_its_own_orgs_instance(fleet):
    registry, server = fleet
    second = _password_grant(server.base_url, ORG2_USER)
    wrong = {**second, "instance_url": registry.orgs[0].base_url}
    with pytest.raises(requests.HTTPError) as refused:
        _query(wrong, "SELECT COUNT() FROM Contact")
    assert refused.value.response.status_code == 401


def test_the_web_server_flow_and_refresh_go_through_the_login_host(fleet):
    registry, server = fleet
    authorize = f"{server.base_url}/services/oauth2/authorize"
    params = {
        "response_type": "code",
        "client_id": APP["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "api refresh_token",
        "state": "s1",
        "login_hint": ORG2_USER,
    }
    page = requests.get(authorize, params=params, timeout=30).text
    assert ORG2_USER in page
    assert "integration@example.com" not in page
    allowed = requests.post(
        authorize,
        params=params,
        data={"username": ORG2_USER, "password": "emulator", "action": "allow"},
        allow_redirects=False,
        timeout=30,
    )
    code = parse_qs(urlsplit(allowed.headers["Location"]).query)["code"][0]
    token = f"{server.base_url}/services/oauth2/token"
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **APP}
    tokens = requests.post(token, data=grant, timeout=30).json()
    assert tokens["instance_url"] == registry.orgs[1].base_url
    again = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **APP}
    refreshed = requests.post(token, data=again, timeout=30).json()
    assert refreshed["instance_url"] == registry.orgs[1].base_url
    assert _query(refreshed, "SELECT COUNT() FROM Lead")["totalSize"] == 120


def test_an_orgs_instance_does_not_sign_in_another_orgs_user(fleet):
    registry, _ = fleet
    data = {"grant_type": "password", "username": ORG2_USER, "password": "emulator", **APP}
    response = requests.post(
        f"{registry.orgs[0].base_url}/services/oauth2/token", data=data, timeout=30
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_the_control_api_lists_the_orgs_and_reaches_each(fleet):
    registry, server = fleet
    listing = requests.get(f"{server.base_url}/__emulator__/orgs", timeout=30).json()["orgs"]
    assert [(o["org"], o["org_id"], o["instance_url"]) for o in listing] == [
        (1, registry.orgs[0].org_id, registry.orgs[0].base_url),
        (2, registry.orgs[1].org_id, registry.orgs[1].base_url),
    ]
    second = requests.get(f"{server.base_url}/__emulator__/orgs/2/", timeout=30).json()
    assert (second["org_id"], second["seed"]) == (registry.orgs[1].org_id, 43)
    assert ORG2_USER in [u["username"] for u in second["users"]]


def test_the_command_serves_several_orgs():
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--profile", "tiny", "--orgs", "2"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = ""
        for line in proc.stdout:
            banner += line
            if line.startswith("  control API"):
                break
        assert "(2 orgs)" in banner
        login = re.search(r"login host for every org\): (http://\S+)", banner).group(1)
        instances = re.findall(r"instance_url (http://\S+)", banner)
        assert len(set(instances)) == 2
        body = _password_grant(login, ORG2_USER)
        assert body["instance_url"] == instances[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
