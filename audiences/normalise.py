"""Normalising identifiers the way ad platforms take them, and hashing them.

Reference: ../shared/reference/research-peers.md §2.3 — emails trimmed and lowercased, phones in
E.164, SHA-256 over the normalised value. Registrable domains come from the Public Suffix List
bundled in ``publicsuffixlist`` (no network at run time); phones from ``phonenumbers``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import urlsplit

import phonenumbers
from publicsuffixlist import PublicSuffixList

_psl = PublicSuffixList()
EMAIL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@([a-z0-9-]+\.)+[a-z]{2,63}$")
_HOST_RE = re.compile(r"^[a-z0-9.-]+$")
LINKEDIN_PERSON_RE = re.compile(
    r"^(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/in/([^/?#\s]+)", re.I
)
LINKEDIN_COMPANY_RE = re.compile(
    r"^(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/company/([^/?#\s]+)", re.I
)
# Webmail domains say nothing about the company a person works for.
FREE_EMAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "web.de",
        "mail.com",
        "yandex.ru",
        "qq.com",
        "163.com",
        "hotmail.co.uk",
        "yahoo.co.uk",
    ]
)
# Cells starting with these are run as formulas by spreadsheet programs.
# Reference: https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COUNTRY_CODES = {
    "united states": "US", "united states of america": "US", "usa": "US", "us": "US",
    "canada": "CA", "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
    "germany": "DE", "france": "FR", "spain": "ES", "italy": "IT", "netherlands": "NL",
    "belgium": "BE", "switzerland": "CH", "austria": "AT", "ireland": "IE", "sweden": "SE",
    "norway": "NO", "denmark": "DK", "finland": "FI", "poland": "PL", "portugal": "PT",
    "australia": "AU", "new zealand": "NZ", "india": "IN", "japan": "JP", "china": "CN",
    "singapore": "SG", "brazil": "BR", "mexico": "MX", "argentina": "AR", "south africa": "ZA",
    "israel": "IL", "south korea": "KR", "hong kong": "HK", "united arab emirates": "AE",
}  # fmt: skip


def email_normalise(value: object) -> str | None:
    """The email trimmed and lowercased, or None when it is not a plausible address."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    return email if len(email) <= 254 and EMAIL_RE.match(email) else None


@functools.lru_cache(maxsize=65536)
def registrable_domain(value: object) -> str | None:
    """The registrable domain ("acme.co.uk") of a domain, URL or email; None if there is none."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if "@" in text and "/" not in text:
        text = text.rsplit("@", 1)[1]
    try:
        host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    except ValueError:  # "http://[globex.com": an unclosed IPv6 bracket
        return None
    host = host.strip(".")
    if not host or not _HOST_RE.match(host) or "." not in host:
        return None
    return _psl.privatesuffix(host)


def email_domain(email: str | None) -> str | None:
    """The registrable domain of a work email (None for webmail)."""
    domain = registrable_domain(email) if email else None
    return None if domain in FREE_EMAIL_DOMAINS else domain


def region_for_country(country: object) -> str | None:
    """An ISO 3166 alpha-2 code for a country name or code, when we know it."""
    if not isinstance(country, str) or not country.strip():
        return None
    text = country.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRY_CODES.get(text.lower())


def phone_e164(value: object, country: object = None) -> str | None:
    """The phone in E.164 ("+14155552671"), using the record's country for local numbers."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, region_for_country(country))
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def linkedin_url(value: object, *, company: bool = False) -> str | None:
    """A canonical LinkedIn profile (or company page) URL, or None."""
    if not isinstance(value, str):
        return None
    pattern = LINKEDIN_COMPANY_RE if company else LINKEDIN_PERSON_RE
    match = pattern.match(value.strip())
    if not match:
        return None
    return f"https://www.linkedin.com/{'company' if company else 'in'}/{match.group(1).lower()}"


def name_key(value: object) -> str:
    """A name folded for comparison: trimmed, single-spaced, case-folded."""
    return " ".join(str(value or "").split()).casefold()


def sha256(value: str | None) -> str:
    """Hex SHA-256 of a normalised identifier ("" for none)."""
    return hashlib.sha256(value.encode()).hexdigest() if value else ""


def cell_safe(value: object) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text
