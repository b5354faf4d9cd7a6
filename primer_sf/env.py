"""Strict readers for settings that come from the environment.

Modelled on healthchecks' ``envbool``/``envsecret``: a typo in a boolean is an error, not a
silent False, and every secret may also come from a file named by ``NAME_FILE`` (Docker and
Kubernetes secrets).
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def env(name: str, default: str = "") -> str:
    """A plain string setting; set but empty counts as unset (``NAME=`` in a copied .env)."""
    return os.environ.get(name) or default


def envbool(name: str, default: bool) -> bool:
    """A boolean setting; anything but a recognised true/false word is refused."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int) -> int:
    """An integer setting."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def envchoice(name: str, choices: tuple[str, ...], default: str) -> str:
    """One of a few words; anything else is refused with the words allowed."""
    value = env(name, default).strip().lower()
    if value not in choices:
        allowed = ", ".join(choices)
        raise ImproperlyConfigured(f"{name} must be one of {allowed}, not {value!r}")
    return value


def envlist(name: str, default: str = "") -> list[str]:
    """A comma-separated list setting, blanks dropped; empty counts as unset."""
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


def envsecret(name: str, default: str = "") -> str:
    """A secret from ``NAME``, or from the file that ``NAME_FILE`` points at."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return env(name, default)
