"""A strict Content-Security-Policy on every page, and templates that need nothing inline."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),  # a script without src
    re.compile(r"<style\b", re.IGNORECASE),
    re.compile(r"\sstyle\s*=", re.IGNORECASE),
    re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),  # onclick=, onchange=, ...
    re.compile(r"javascript:", re.IGNORECASE),
]


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/accounts/login/", "/connections/", "/admin/"])
def test_every_page_carries_a_strict_policy(staff_client, url):
    response = staff_client.get(url, follow=True)
    policy = _policy(response)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_forms_may_lead_only_here_and_to_the_login_hosts(client, settings):
    settings.SALESFORCE_LOGIN_URL = "http://127.0.0.1:8765"
    policy = _policy(client.get("/accounts/login/"))
    assert policy["form-action"] == [
        "'self'",
        "https://*.my.salesforce.com",
        "http://127.0.0.1:8765",
        "https://test.salesforce.com",
    ]


def test_no_template_needs_an_inline_script_style_or_handler():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        text = path.read_text()
        offenders += [f"{name}: {m[0]}" for pattern in INLINE for m in pattern.finditer(text)]
    assert offenders == []
