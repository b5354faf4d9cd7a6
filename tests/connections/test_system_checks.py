"""System checks stop start-up when configuration is missing or unsafe outside DEBUG."""

import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core import checks

from connections.checks import check_hosts, check_salesforce, check_secrets


def _ids(messages) -> set[str]:
    return {m.id for m in messages}


def test_the_test_configuration_passes_every_check():
    assert check_secrets() + check_salesforce() + check_hosts() == []


def test_the_development_secret_key_is_refused_outside_debug(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    assert "connections.E001" in _ids(check_secrets())


def test_the_development_secret_key_is_fine_in_debug(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    assert "connections.E001" not in _ids(check_secrets())


def test_a_missing_encryption_key_is_an_error(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    assert "connections.E002" in _ids(check_secrets())


def test_a_malformed_encryption_key_is_an_error(settings):
    settings.FIELD_ENCRYPTION_KEY = "not-a-fernet-key"
    assert "connections.E003" in _ids(check_secrets())


@pytest.mark.parametrize("name", ["SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET"])
def test_missing_connected_app_credentials_are_an_error(settings, name):
    setattr(settings, name, "")
    assert "connections.E010" in _ids(check_salesforce())


@pytest.mark.parametrize("name", ["SALESFORCE_LOGIN_URL", "SALESFORCE_SANDBOX_LOGIN_URL"])
def test_a_plain_http_login_host_is_refused_outside_debug(settings, name):
    settings.DEBUG = False
    setattr(settings, name, "http://login.salesforce.com")
    assert "connections.E011" in _ids(check_salesforce())


def test_a_plain_http_login_host_is_allowed_in_debug_for_the_emulator(settings):
    settings.DEBUG = True
    settings.SALESFORCE_LOGIN_URL = "http://127.0.0.1:8765"
    assert check_salesforce() == []


def test_a_login_host_that_is_not_a_url_is_refused(settings):
    settings.SALESFORCE_LOGIN_URL = "login.salesforce.com"
    assert "connections.E011" in _ids(check_salesforce())


def test_a_plain_http_callback_is_refused_outside_debug(settings):
    settings.DEBUG = False
    settings.SALESFORCE_CALLBACK_URL = "http://app.example.com/connections/callback/"
    assert "connections.E012" in _ids(check_salesforce())


def test_no_allowed_instance_hosts_is_an_error(settings):
    settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS = []
    assert "connections.E013" in _ids(check_salesforce())


def test_a_malformed_api_version_is_an_error(settings):
    settings.SALESFORCE_API_VERSION = "v62"
    assert "connections.E014" in _ids(check_salesforce())


def test_empty_allowed_hosts_is_an_error_outside_debug(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = []
    assert "connections.E020" in _ids(check_hosts())


def test_the_checks_are_registered_with_django():
    registered = checks.registry.registry.get_checks()
    assert {check_secrets, check_salesforce, check_hosts} <= set(registered)


def test_manage_py_refuses_to_start_with_an_unsafe_configuration(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "primer_sf.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, str(django_settings.BASE_DIR / "manage.py"), "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    for check_id in ("connections.E001", "connections.E002", "connections.E010"):
        assert check_id in result.stderr


def test_a_login_url_the_credential_gate_refuses_is_an_error(settings):
    from connections.checks import check_salesforce

    settings.SALESFORCE_LOGIN_URL = "https://attacker.example\\@login.salesforce.com"
    errors = [e for e in check_salesforce() if e.id == "connections.E011"]
    assert errors
    assert "credential gate" in errors[0].msg
