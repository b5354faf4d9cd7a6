"""`python -m emulator`: starts, prints what a user needs, serves, stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_starts_prints_credentials_and_users_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--profile",
            "tiny",
            "--seed",
            "5",
            "--faults",
            "latency:ms=1",
            "--sandbox",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("  control API"):
                break
        text = "".join(banner)
        base = re.search(r"(http://127\.0\.0\.1:\d+)", text).group(1)
        assert "client_id=emulator-client-id" in text
        assert "client_secret=emulator-client-secret" in text
        for user in (
            "integration@example.com",
            "inactive@example.com",
            "highassurance@example.com",
        ):
            assert user in text
        r = requests.post(
            f"{base}/services/oauth2/token",
            data={
                "grant_type": "password",
                "username": "integration@example.com",
                "password": "emulator",
                "client_id": "emulator-client-id",
                "client_secret": "emulator-client-secret",
            },
            timeout=10,
        )
        assert r.status_code == 200
        assert r.json()["instance_url"] == base
        h = {"Authorization": "Bearer " + r.json()["access_token"]}
        org = requests.get(
            f"{base}/services/data/v62.0/query",
            params={"q": "SELECT IsSandbox FROM Organization"},
            headers=h,
            timeout=10,
        )
        assert org.json()["records"][0]["IsSandbox"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "emulator stopped" in out


def test_a_bad_fault_spec_is_reported():
    proc = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--profile", "tiny", "--faults", "nope"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown fault" in proc.stderr


def test_tls_wide_objects_and_person_accounts_from_the_command_line(tmp_path):
    cert = tmp_path / "emulator.pem"
    command = [sys.executable, "-m", "emulator", "--port", "0", "--profile", "tiny", "--tls"]
    command += ["--cert-file", str(cert), "--custom-fields", "Account=30", "--person-accounts"]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("  control API"):
                break
        text = "".join(banner)
        base = re.search(r"(https://127\.0\.0\.1:\d+)", text).group(1)
        assert f"TLS certificate: {cert}" in text
        assert f"REQUESTS_CA_BUNDLE={cert}" in text
        assert "custom fields: Account+30  person accounts: True" in text
        token = requests.post(
            f"{base}/services/oauth2/token",
            data={
                "grant_type": "password",
                "username": "integration@example.com",
                "password": "emulator",
                "client_id": "emulator-client-id",
                "client_secret": "emulator-client-secret",
            },
            verify=str(cert),
            timeout=10,
        ).json()
        assert token["instance_url"] == base
        fields = requests.get(
            f"{base}/services/data/v66.0/sobjects/Account/describe",
            headers={"Authorization": "Bearer " + token["access_token"]},
            verify=str(cert),
            timeout=10,
        ).json()["fields"]
        names = {f["name"] for f in fields}
        assert "IsPersonAccount" in names
        assert sum(1 for n in names if n.endswith("__c")) == 30 + 3
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_a_bad_custom_fields_spec_is_reported():
    proc = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--custom-fields", "Account"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--custom-fields: expected OBJECT=N" in proc.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--custom-fields", "Nope=3"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2
    assert "no data object 'Nope'" in unknown.stderr
