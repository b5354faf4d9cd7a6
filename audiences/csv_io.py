"""Reading customers' CSV files: encodings, header auto-mapping, per-row validation.

No database here. Files are read as a stream of rows, so their row count is unbounded; their
size is capped by settings.AUDIENCE_CSV_MAX_BYTES (25 MB, as Primer documents).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from audiences.normalise import email_normalise, linkedin_url, registrable_domain

PEOPLE_FIELDS = {
    "first_name": "First Name",
    "last_name": "Last Name",
    "company_name": "Company Name",
    "domain": "Company Domain",
    "linkedin_url": "Person LinkedIn URL",
    "email": "Email",
}
COMPANY_FIELDS = {"domain": "Company Domain", "linkedin_url": "Company LinkedIn URL"}
TARGET_FIELDS = {"people": PEOPLE_FIELDS, "companies": COMPANY_FIELDS}

# Header spellings seen in CRM and enrichment exports, compared lowercased without spaces or
# punctuation.
SYNONYMS = {
    "first_name": ["firstname", "first", "givenname", "fname", "forename"],
    "last_name": ["lastname", "last", "surname", "familyname", "lname"],
    "company_name": ["companyname", "company", "account", "accountname", "organization",
                     "organisation", "employer", "companyorganization"],
    "domain": ["companydomain", "domain", "website", "companywebsite", "url", "companyurl",
               "web", "websiteurl", "domainname"],
    "linkedin_url": ["personlinkedinurl", "linkedinurl", "linkedin", "linkedinprofile",
                     "linkedinprofileurl", "profileurl", "companylinkedinurl",
                     "linkedincompanyurl", "companylinkedin", "linkedinpage"],
    "email": ["email", "emailaddress", "workemail", "businessemail", "mail", "emailid",
              "email1", "primaryemail"],
}  # fmt: skip

SAMPLES = {
    "people": [
        list(PEOPLE_FIELDS.values()),
        ["Ada", "Lovelace", "Analytical Engines", "analytical.example",
         "https://www.linkedin.com/in/ada-lovelace", "ada@analytical.example"],
        ["Grace", "Hopper", "Cobol Corp", "https://www.cobol.example", "", ""],
    ],
    "companies": [
        list(COMPANY_FIELDS.values()),
        ["analytical.example", "https://www.linkedin.com/company/analytical-engines"],
        ["https://www.cobol.example/about", ""],
    ],
}  # fmt: skip


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def header_auto_map(header: list[str], kind: str) -> dict[str, int]:
    """Target field -> column index, matching headers ignoring case, spacing and synonyms."""
    targets = TARGET_FIELDS[kind]
    mapping: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _key(name)
        for target in targets:
            if target not in mapping and (key == _key(targets[target]) or key in SYNONYMS[target]):
                mapping[target] = index
                break
    return mapping


def detect_encoding(stream: BinaryIO, chunk_size: int = 1 << 20) -> str:
    """ "utf-8-sig" (BOM), "utf-8", or "latin-1" when the bytes are not valid UTF-8."""
    stream.seek(0)
    head = stream.read(3)
    if head.startswith(codecs.BOM_UTF8):
        stream.seek(0)
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = stream.read(chunk_size)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "latin-1"  # every byte sequence is valid Latin-1
    finally:
        stream.seek(0)
    return "utf-8"


def _reader(stream: BinaryIO, encoding: str) -> Iterator[list[str]]:
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        yield from csv.reader(text)
    finally:
        text.detach()  # leave the underlying file open for the caller


def read_header(stream: BinaryIO, encoding: str) -> list[str]:
    """The first row of the file, cells trimmed."""
    for row in _reader(stream, encoding):
        return [cell.strip() for cell in row]
    return []


def iter_rows(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each data row; blank lines are skipped, numbers count them."""
    rows = _reader(stream, encoding)
    next(rows, None)
    for number, row in enumerate(rows, start=1):
        if any(cell.strip() for cell in row):
            yield number, row


@dataclass
class CleanRow:
    """A row's normalised values, or why it is invalid."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def row_clean(kind: str, cells: list[str], mapping: dict[str, int]) -> CleanRow:
    """Validate and normalise one row of a People or Companies list."""
    raw = {t: (cells[i].strip() if i < len(cells) else "") for t, i in mapping.items()}
    row = CleanRow()
    _clean_domain(row, raw.get("domain", ""))
    _clean_linkedin(row, raw.get("linkedin_url", ""), company=kind == "companies")
    if kind == "companies":
        if not row.errors and not row.values:
            row.errors.append("Needs a company domain or a company LinkedIn URL.")
        return row
    return _clean_person(row, raw)


def _clean_person(row: CleanRow, raw: dict[str, str]) -> CleanRow:
    if raw.get("email"):
        email = email_normalise(raw["email"])
        if email:
            row.values["email"] = email
        else:
            row.errors.append(f"Email {raw['email']!r} is not a valid address.")
    for name in ("first_name", "last_name", "company_name"):
        if raw.get(name):
            row.values[name] = " ".join(raw[name].split())
    if "domain" not in row.values and row.values.get("email"):
        row.values["domain"] = registrable_domain(row.values["email"]) or ""
    named = row.values.get("first_name") and row.values.get("last_name")
    company = row.values.get("domain") or row.values.get("company_name")
    identified = row.values.get("email") or row.values.get("linkedin_url")
    if not row.errors and not identified and not (named and company):
        row.errors.append("Needs an email, a LinkedIn URL, or first and last name with a company.")
    return row


def _clean_domain(row: CleanRow, value: str) -> None:
    if not value:
        return
    domain = registrable_domain(value)
    if domain:
        row.values["domain"] = domain
    else:
        row.errors.append(f"Company domain {value!r} is not a domain.")


def _clean_linkedin(row: CleanRow, value: str, *, company: bool) -> None:
    if not value:
        return
    url = linkedin_url(value, company=company)
    if url:
        row.values["linkedin_url"] = url
    else:
        what = "company page" if company else "profile"
        row.errors.append(f"{value!r} is not a LinkedIn {what} URL.")


def sample_csv(kind: str) -> str:
    """A small CSV in the expected layout, for customers to download and fill in."""
    out = io.StringIO()
    csv.writer(out).writerows(SAMPLES[kind])
    return out.getvalue()
