"""Property-based tests of CSV reading: whatever a customer uploads (any delimiter, encoding,
quoting, byte-order mark, huge or malformed cells, or no text at all), reading it either
refuses the file with a clear reason or gives rows, each valid or invalid with a reason."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiences import services
from audiences.csv_io import (
    DELIMITERS,
    NotTextError,
    detect_delimiter,
    detect_encoding,
    iter_rows,
    read_header,
    row_clean,
)
from audiences.models import CsvList, CsvRow
from ingestion.services.runs import ApplicationError

# Words as customers' files hold them: accents, typographic quotes, currency, delimiters,
# quotes and line breaks inside cells.
WORDS = ["Müller", "“Pepe”", "café", "naïve", "Zoë", "€100", "São Paulo", "Ærø", "O'Brien",
         'say "hi"', "a,b", "x;y", "p|q", "t\tu", "line\nbreak", "acme.example", "ada@acme.io",
         "http://[globex.com", "acme]", "", " ", "ß", "Ñandú"]  # fmt: skip
HEADER = st.text("abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12).filter(str.strip)
CELL = st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]


@st.composite
def tables(draw):
    width = draw(st.integers(2, 6))
    header = draw(st.lists(HEADER, min_size=width, max_size=width, unique=True))
    rows = draw(st.lists(st.lists(CELL, min_size=width, max_size=width), min_size=1, max_size=8))
    return [header, *rows]


def _write(table, delimiter, encoding, quoting) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode(encoding)


@settings(max_examples=150, deadline=None)
@given(
    table=tables(),
    delimiter=st.sampled_from(DELIMITERS),
    encoding=st.sampled_from(ENCODINGS),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_a_written_table_reads_back_cell_for_cell(table, delimiter, encoding, quoting):
    stream = io.BytesIO(_write(table, delimiter, encoding, quoting))
    found = detect_encoding(stream)
    found_delimiter = detect_delimiter(stream, found)
    assert found_delimiter == delimiter
    assert read_header(stream, found, found_delimiter) == [h.strip() for h in table[0]]
    read = [cells for _, cells in iter_rows(stream, found, found_delimiter)]
    expected = [row for row in table[1:] if any(c.strip() for c in row)]
    assert read == expected


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=4000))
def test_any_bytes_are_refused_as_not_text_or_read_as_rows(data):
    stream = io.BytesIO(data)
    try:
        encoding = detect_encoding(stream)
    except NotTextError as error:
        refused = str(error)
    else:
        refused = ""
    if refused:
        assert "not a text CSV" in refused
        return
    delimiter = detect_delimiter(stream, encoding)
    read_header(stream, encoding, delimiter)
    for number, cells in iter_rows(stream, encoding, delimiter):
        assert number >= 1
        assert isinstance(cells, list | str)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["people", "companies"]),
    cells=st.lists(st.one_of(st.text(max_size=300), st.sampled_from(WORDS)), max_size=8),
    mapping=st.dictionaries(
        st.sampled_from(
            ["first_name", "last_name", "company_name", "domain", "linkedin_url", "email"]
        ),
        st.integers(0, 9),
    ),
)
def test_any_row_is_valid_or_invalid_with_a_reason(kind, cells, mapping):
    if kind == "companies":
        mapping = {k: v for k, v in mapping.items() if k in ("domain", "linkedin_url")}
    row = row_clean(kind, cells, mapping)
    assert row.valid or all(isinstance(e, str) and e for e in row.errors)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


HUGE = st.sampled_from(["x" * 200_000, "acme.example" + " " * 140_000, '"' + "y" * 10])


@pytest.mark.usefixtures("media")
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=tables(),
    delimiter=st.sampled_from(DELIMITERS),
    encoding=st.sampled_from(ENCODINGS),
    huge=st.lists(HUGE, max_size=2),
    tail=st.sampled_from(["", '"unclosed,quote\n', "\x00\x00", "only,one\n,,,,,,,,,,\n"]),
    kind=st.sampled_from(["people", "companies"]),
)
def test_an_upload_ends_refused_or_imported_never_stuck(
    workspace, user, table, delimiter, encoding, huge, tail, kind
):
    data = _write([*table, [*huge, *table[1]][: len(table[0])]], delimiter, encoding, 0)
    data += tail.encode(encoding)
    file = SimpleUploadedFile("list.csv", data, content_type="text/csv")
    try:
        csv_list = services.csv_list_upload(
            workspace=workspace, name="P", kind=kind, file=file, user=user
        )
    except ApplicationError as error:
        refused = error.message
    else:
        refused = None
    if refused is not None:
        assert refused
        return
    csv_list.mapping = {"domain": 0, "linkedin_url": 1}
    csv_list.save()
    services.csv_list_import(csv_list=csv_list)
    csv_list.refresh_from_db()
    assert csv_list.status == CsvList.Status.READY
    rows = CsvRow.objects.filter(csv_list=csv_list)
    assert rows.count() == csv_list.total_rows
    assert not rows.filter(is_valid=False, error="").exists()
