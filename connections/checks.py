"""System checks: configuration mistakes stop start-up with a message that says what to fix."""

import re
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks

from connections.gate import credential_gate
from connections.salesforce.exceptions import SalesforceInstanceNotAllowed

_API_VERSION = re.compile(r"^\d{2,3}\.0$")


def _error(msg: str, hint: str, id_: str) -> checks.Error:
    return checks.Error(msg, hint=hint, id=id_)


@checks.register(checks.Tags.security)
def check_secrets(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """SECRET_KEY and FIELD_ENCRYPTION_KEY are present, valid, and not the development ones."""
    errors = []
    if not settings.DEBUG and (
        settings.SECRET_KEY == settings.DEV_SECRET_KEY or len(settings.SECRET_KEY) < 50
    ):
        errors.append(
            _error(
                "SECRET_KEY is missing or too short for a deployment (DEBUG is off).",
                "Set SECRET_KEY to a random string of at least 50 characters.",
                "connections.E001",
            )
        )
    if not settings.FIELD_ENCRYPTION_KEY:
        errors.append(
            _error(
                "FIELD_ENCRYPTION_KEY is not set; Salesforce tokens cannot be stored safely.",
                'Generate one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"',
                "connections.E002",
            )
        )
        return errors
    for key in settings.FIELD_ENCRYPTION_KEY.split(","):
        try:
            Fernet(key.strip().encode())
        except ValueError:
            errors.append(
                _error(
                    "FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key.",
                    "Each comma-separated key must be 32 url-safe base64-encoded bytes.",
                    "connections.E003",
                )
            )
            break
    return errors


def _url_problem(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL"
    if parts.scheme != "https" and not settings.DEBUG:
        return "must use https outside DEBUG"
    return ""


def _gate_problem(value: str) -> str:
    """Why the credential gate would refuse a configured login URL ("" if it would not)."""
    try:
        credential_gate().check_login(value)
    except SalesforceInstanceNotAllowed as refusal:
        return f"is refused by the credential gate ({refusal.message})"
    return ""


@checks.register()
def check_salesforce(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The connected app's credentials, login hosts and allowed instance hosts are usable."""
    errors = []
    if not (settings.SALESFORCE_CLIENT_ID and settings.SALESFORCE_CLIENT_SECRET):
        errors.append(
            _error(
                "SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET must both be set.",
                "Copy the consumer key and secret from the connected app (or External Client "
                "App) in Salesforce Setup.",
                "connections.E010",
            )
        )
    for name in ("SALESFORCE_LOGIN_URL", "SALESFORCE_SANDBOX_LOGIN_URL"):
        problem = _url_problem(getattr(settings, name)) or _gate_problem(getattr(settings, name))
        if problem:
            errors.append(
                _error(
                    f"{name} {problem}.",
                    "Use https://login.salesforce.com (production) or "
                    "https://test.salesforce.com (sandbox).",
                    "connections.E011",
                )
            )
    if settings.SALESFORCE_CALLBACK_URL:
        problem = _url_problem(settings.SALESFORCE_CALLBACK_URL)
        if problem:
            errors.append(
                _error(
                    f"SALESFORCE_CALLBACK_URL {problem}.",
                    "Salesforce sends the authorization code to this URL; it must be https.",
                    "connections.E012",
                )
            )
    if not settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS:
        errors.append(
            _error(
                "SALESFORCE_ALLOWED_INSTANCE_HOSTS is empty, so no org could ever be used.",
                "List host suffixes such as .salesforce.com,.force.com.",
                "connections.E013",
            )
        )
    if not _API_VERSION.match(settings.SALESFORCE_API_VERSION):
        errors.append(
            _error(
                f"SALESFORCE_API_VERSION {settings.SALESFORCE_API_VERSION!r} is not a version.",
                'Use a form like "62.0".',
                "connections.E014",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_hosts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """ALLOWED_HOSTS is set when DEBUG is off."""
    if settings.DEBUG or settings.ALLOWED_HOSTS:
        return []
    return [
        _error(
            "ALLOWED_HOSTS is empty and DEBUG is off: every request would be refused.",
            "Set ALLOWED_HOSTS to the site's host names, comma-separated.",
            "connections.E020",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_insecure_loopback(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Plain http to loopback carries tokens only for the emulator: never in a deployment."""
    if settings.DEBUG or not settings.SALESFORCE_INSECURE_LOOPBACK:
        return []
    return [
        checks.Warning(
            "SALESFORCE_INSECURE_LOOPBACK is on with DEBUG off: tokens may travel over plain "
            "http to 127.0.0.1 and localhost.",
            hint="Unset SALESFORCE_INSECURE_LOOPBACK; it is for the bundled emulator only.",
            id="connections.W030",
        )
    ]
