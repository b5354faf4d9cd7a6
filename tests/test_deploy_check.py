"""``manage.py check --deploy`` prints no warning with the README's production environment."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- production-env -->\s*```sh\n(.*?)```", re.DOTALL)


def production_environment() -> dict[str, str]:
    """The README's documented production environment, placeholders filled in."""
    fills = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    block = BLOCK.search((ROOT / "README.md").read_text())
    assert block, "README.md has no production-env block"
    env = {}
    for line in block[1].splitlines():
        name, _, value = line.partition("=")
        env[name] = fills.get(name, "placeholder") if value.startswith("<") else value
    return env


def _check_deploy(extra: dict[str, str]) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env = {**keep, **extra, "DJANGO_SETTINGS_MODULE": "primer_sf.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_environment_passes_check_deploy():
    result = _check_deploy(production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_hsts_and_https_redirect():
    env = {
        **production_environment(),
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_SSL_REDIRECT": "false",
    }
    result = _check_deploy(env)
    assert "security.W004" in result.stderr + result.stdout
    assert "security.W008" in result.stderr + result.stdout


def test_check_deploy_warns_when_tokens_may_travel_over_plain_http():
    env = {**production_environment(), "SALESFORCE_INSECURE_LOOPBACK": "true"}
    result = _check_deploy(env)
    assert "connections.W030" in result.stderr + result.stdout
