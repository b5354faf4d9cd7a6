"""The `enterprise` profile: 10,000,000 records in the seed-example mix, lazy like the others."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import requests

from emulator import Org
from emulator.data.profiles import PROFILES

ROOT = Path(__file__).resolve().parents[2]
CRM = ("Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember")


def test_it_is_the_seed_example_mix_times_twelve_and_a_half():
    enterprise, example = PROFILES["enterprise"], PROFILES["seed-example"]
    assert {name: enterprise[name] for name in CRM} == {
        name: example[name] * 25 // 2 for name in CRM
    }
    assert sum(enterprise[name] for name in CRM) == 10_000_000


def test_creating_it_costs_about_what_seed_example_costs():
    Org.from_profile("tiny").count("Contact")  # module-level tables, built once per process
    sizes = {}
    for profile in ("seed-example", "enterprise"):
        tracemalloc.start()
        org = Org.from_profile(profile)
        org.count("Contact")
        sizes[profile] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del org
    # 12.5 times the records; what grows is the owner pools of its longer user list (500
    # users against 120), not the data
    assert sizes["enterprise"] < 2_500_000
    assert sizes["enterprise"] - sizes["seed-example"] < 1_500_000


def _token(base: str) -> dict:
    body = requests.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": "emulator-client-id",
            "client_secret": "emulator-client-secret",
            "username": "integration@example.com",
            "password": "emulator",
        },
        timeout=30,
    ).json()
    return {"Authorization": f"Bearer {body['access_token']}"}


def _count(base: str, headers: dict, soql: str) -> int:
    r = requests.get(
        f"{base}/services/data/v62.0/query", params={"q": soql}, headers=headers, timeout=60
    )
    r.raise_for_status()
    return r.json()["totalSize"]


def test_the_command_starts_with_it_and_answers_counts():
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--profile", "enterprise"],
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
        assert "profile: enterprise" in banner
        base = re.search(r"(http://127\.0\.0\.1:\d+)", banner).group(1)
        headers = _token(base)
        counts = {name: _count(base, headers, f"SELECT COUNT() FROM {name}") for name in CRM}
        assert counts == {name: PROFILES["enterprise"][name] for name in CRM}
        # A SystemModstamp window is answered from a few candidates, not a 3.75M-row scan.
        window = _count(
            base,
            headers,
            "SELECT COUNT() FROM Contact WHERE SystemModstamp >= 2024-01-01T00:00:00Z"
            " AND SystemModstamp < 2024-01-02T00:00:00Z",
        )
        assert 0 < window < 10_000
    finally:
        proc.terminate()
        proc.wait(timeout=30)
