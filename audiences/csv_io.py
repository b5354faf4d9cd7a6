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

import charset_normalizer

from audiences.normalise import email_normalise, linkedin_url, registrable_domain

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Encodings a customer may pick on the mapping page (the first seven can be detected).
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 little-endian, no BOM",
    "utf-16-be": "UTF-16 big-endian, no BOM",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "iso-8859-15": "Latin-9 (ISO-8859-15)",
    "cp1250": "Windows-1250 (Central European)",
    "mac-roman": "Mac Roman",
}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
UTF16 = ["utf_16_le", "utf_16_be"]
CODEC_NAMES = {"utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}
SAMPLE_BYTES = 256 * 1024
SAMPLE_LINES = 50
HEADER_CELL_CHARS = 200
# A cell larger than this makes its row invalid (the csv module's own default limit, which
# otherwise aborts the whole file); the raw cell is kept cut to RAW_CELL_CHARS.
MAX_CELL_CHARS = 128 * 1024
RAW_CELL_CHARS = 1000
FIELD_LIMITS = {"first_name": 200, "last_name": 200, "company_name": 300, "domain": 253,
                "linkedin_url": 300, "email": 254}  # fmt: skip

# Oversize cells are a row-level error (below), so the reader itself must not stop at them.
csv.field_size_limit(64 * 1024 * 1024)

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

# Header spellings seen in CRM and enrichment exports (some German and Spanish, whose Excel
# writes the semicolon files), compared lowercased without spaces or punctuation.
SYNONYMS = {
    "first_name": ["firstname", "first", "givenname", "fname", "forename", "vorname", "nombre"],
    "last_name": ["lastname", "last", "surname", "familyname", "lname", "nachname",
                  "apellido", "apellidos"],
    "company_name": ["companyname", "company", "account", "accountname", "organization",
                     "organisation", "employer", "companyorganization", "firma",
                     "unternehmen", "empresa", "entreprise"],
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


class NotTextError(ValueError):
    """The file is not a text (CSV) file: say so at upload rather than import garbage."""


def detect_encoding(stream: BinaryIO) -> str:
    """The file's encoding as a Python codec name; NotTextError when it is not text.

    - A byte-order mark decides first (UTF-8 or UTF-16).
    - A file that decodes as UTF-8 throughout is UTF-8.
    - NUL bytes mean UTF-16 without a BOM when charset-normalizer reads it so, else no text.
    - Otherwise it is Windows-1252, what spreadsheets write for Western text (Latin-1 reads
      the same letters but makes C1 control characters of its quotes and euro sign), or
      Latin-1 for the five bytes Windows-1252 leaves undefined.
    Bytes that decode to mostly control characters (images, archives, executables renamed
    .csv) are refused.
    Reference: https://charset-normalizer.readthedocs.io/en/latest/user/miscellaneous.html
    """
    stream.seek(0)
    head = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        best = charset_normalizer.from_bytes(head, cp_isolation=UTF16).best()
        encoding = CODEC_NAMES.get(best.encoding) if best else None
    elif _whole_file_is_utf8(stream):
        return "utf-8"
    else:
        encoding = "cp1252" if _decodes(head, "cp1252") else "latin-1"
    if encoding is None or _mostly_controls(head.decode(encoding, errors="replace")):
        raise NotTextError(
            "This file is not a text CSV (it looks like a binary file, such as a spreadsheet "
            "or an image). Save it as CSV from your spreadsheet program and upload that."
        )
    return encoding


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _whole_file_is_utf8(stream: BinaryIO) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


def _mostly_controls(text: str) -> bool:
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    return "\x00" in text or controls > len(text) // 100


def _text(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    stream.seek(0)
    # errors="replace": a stray byte past the detection sample costs one character, not the list.
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def detect_delimiter(stream: BinaryIO, encoding: str) -> str:
    """The delimiter among comma, semicolon, tab and pipe that splits the first lines of the
    file into the most rows of one consistent width (more than one column).

    Excel writes semicolons where the decimal separator is a comma (most of Europe), tabs for
    "Unicode text", and some CRM exports use pipes. Ties go to the order of DELIMITERS.
    """
    text = _text(stream, encoding)
    try:
        sample = text.read(SAMPLE_BYTES)
    finally:
        text.detach()
        stream.seek(0)
    lines = sample.splitlines(keepends=True)[:SAMPLE_LINES]
    if len(lines) > 1 and len(sample) >= SAMPLE_BYTES:
        lines = lines[:-1]  # the last line may be cut
    scores = {d: _consistency(lines, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])
    return best if scores[best] > (0, 0) else ","


def _consistency(lines: list[str], delimiter: str) -> tuple[int, int]:
    try:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
    except csv.Error:
        return (0, 0)
    if not widths or widths[0] < 2:
        return (0, 0)
    same = sum(1 for w in widths if w == widths[0])
    return (same, widths[0])


def _reader(stream: BinaryIO, encoding: str, delimiter: str) -> Iterator[list[str] | str]:
    """Rows of cells; a row the csv module cannot parse comes as the error message instead."""
    text = _text(stream, encoding)
    reader = csv.reader(text, delimiter=delimiter)
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield f"The row could not be read as CSV: {error}."
                continue
            yield [cell.replace("\x00", "") for cell in row]
    finally:
        text.detach()  # leave the underlying file open for the caller


def read_header(stream: BinaryIO, encoding: str, delimiter: str = ",") -> list[str]:
    """The first row of the file, cells trimmed (and cut to a header's reasonable length)."""
    for row in _reader(stream, encoding, delimiter):
        return [cell.strip()[:HEADER_CELL_CHARS] for cell in row] if isinstance(row, list) else []
    return []


def iter_rows(
    stream: BinaryIO, encoding: str, delimiter: str = ","
) -> Iterator[tuple[int, list[str] | str]]:
    """(row number, cells or the reason the row is unreadable) for each data row; blank lines
    are skipped, numbers count them."""
    rows = _reader(stream, encoding, delimiter)
    next(rows, None)
    for number, row in enumerate(rows, start=1):
        if isinstance(row, str) or any(cell.strip() for cell in row):
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
    """Validate and normalise one row of a People or Companies list.

    Whatever a cell holds, the row ends valid or invalid with reasons: never an exception.
    """
    row = CleanRow()
    oversize = [i + 1 for i, cell in enumerate(cells) if len(cell) > MAX_CELL_CHARS]
    if oversize:
        columns = ", ".join(str(i) for i in oversize[:5])
        row.errors.append(f"Column {columns} holds a cell over {MAX_CELL_CHARS // 1024} KB.")
        return row
    raw = {t: (cells[i].strip() if i < len(cells) else "") for t, i in mapping.items()}
    _clean_domain(row, raw.get("domain", ""))
    _clean_linkedin(row, raw.get("linkedin_url", ""), company=kind == "companies")
    if kind == "companies":
        if not row.errors and not row.values:
            row.errors.append("Needs a company domain or a company LinkedIn URL.")
        _check_lengths(row)
        return row
    return _clean_person(row, raw)


def _clean_person(row: CleanRow, raw: dict[str, str]) -> CleanRow:
    if raw.get("email"):
        email = email_normalise(raw["email"])
        if email:
            row.values["email"] = email
        else:
            row.errors.append(f"Email {shown(raw['email'])} is not a valid address.")
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
    _check_lengths(row)
    return row


def _check_lengths(row: CleanRow) -> None:
    for name, value in row.values.items():
        if len(value) > FIELD_LIMITS[name]:
            label = PEOPLE_FIELDS.get(name, name)
            row.errors.append(f"{label} is longer than {FIELD_LIMITS[name]} characters.")


def shown(value: str, limit: int = 60) -> str:
    """A cell quoted for an error message, cut so the reason stays readable."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def raw_cells(cells: list[str]) -> list[str]:
    """The cells kept with a row (for the invalid and unmatched downloads), each cut short."""
    return [c if len(c) <= RAW_CELL_CHARS else c[:RAW_CELL_CHARS] + "…" for c in cells]


def _clean_domain(row: CleanRow, value: str) -> None:
    if not value:
        return
    domain = registrable_domain(value)
    if domain:
        row.values["domain"] = domain
    else:
        row.errors.append(f"Company domain {shown(value)} is not a domain.")


def _clean_linkedin(row: CleanRow, value: str, *, company: bool) -> None:
    if not value:
        return
    url = linkedin_url(value, company=company)
    if url:
        row.values["linkedin_url"] = url
    else:
        what = "company page" if company else "profile"
        row.errors.append(f"{shown(value)} is not a LinkedIn {what} URL.")


def sample_csv(kind: str) -> str:
    """A small CSV in the expected layout, for customers to download and fill in."""
    out = io.StringIO()
    csv.writer(out).writerows(SAMPLES[kind])
    return out.getvalue()
