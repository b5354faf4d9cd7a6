"""CSV files as customers export them: semicolon, tab and pipe delimiters, UTF-8 with or
without BOM, UTF-16, Windows-1252; files that are not text are refused at upload; the mapping
page shows what was detected and lets the customer choose otherwise."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audiences import services
from audiences.csv_io import detect_delimiter, detect_encoding
from audiences.models import CsvList
from ingestion.services.runs import ApplicationError

pytestmark = pytest.mark.usefixtures("media_root")

PEOPLE = [["First Name", "Last Name", "Email"], ["“Pepe”", "Müller", "pepe@acme.example"]]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _bytes(rows, delimiter=",", encoding="utf-8"):
    return "".join(delimiter.join(r) + "\r\n" for r in rows).encode(encoding)


def _upload(workspace, user, data, name="people.csv"):
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return services.csv_list_upload(
        workspace=workspace, name="List", kind="people", file=file, user=user
    )


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(workspace, user, delimiter):
    csv_list = _upload(workspace, user, _bytes(PEOPLE, delimiter))
    assert csv_list.delimiter == delimiter
    assert csv_list.header == ["First Name", "Last Name", "Email"]
    assert csv_list.mapping == {"first_name": 0, "last_name": 1, "email": 2}


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_the_encoding_is_detected_and_names_read_right(workspace, user, encoding, expected):
    csv_list = _upload(workspace, user, _bytes(PEOPLE, ";", encoding))
    assert csv_list.encoding == expected
    services.csv_list_set_mapping(csv_list=csv_list, mapping=csv_list.mapping)
    services.csv_list_import(csv_list=csv_list)
    row = csv_list.rows.get()
    assert (row.first_name, row.last_name, row.email) == ("“Pepe”", "Müller", "pepe@acme.example")


def test_a_windows_1252_semicolon_file_as_excel_writes_it(workspace, user):
    data = "Nombre;Apellido;Correo\r\n“Pepe”;Muñoz;pepe@acme.example\r\n".encode("cp1252")
    assert detect_encoding(io.BytesIO(data)) == "cp1252"
    assert detect_delimiter(io.BytesIO(data), "cp1252") == ";"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4,
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 4,
    ],
    ids=["png", "xlsx"],
)
def test_a_file_that_is_not_text_is_refused_with_a_clear_message(workspace, user, data):
    with pytest.raises(ApplicationError) as error:
        _upload(workspace, user, data, name="list.csv")
    assert "not a text CSV" in error.value.message
    assert not CsvList.objects.exists()


def test_the_upload_page_says_why_a_binary_file_is_refused(client, user, workspace):
    client.force_login(user)
    file = SimpleUploadedFile("x.csv", b"\x00\x01\x02\x03" * 100, content_type="text/csv")
    page = client.post(
        reverse("audiences:csv_lists"),
        {"name": "X", "kind": "people", "workspace": workspace.pk, "file": file},
    )
    assert page.status_code == 200
    assert "not a text CSV" in page.content.decode()


def test_the_mapping_page_shows_and_overrides_the_detection(client, user, workspace):
    csv_list = _upload(workspace, user, _bytes(PEOPLE, ";", "cp1252"))
    client.force_login(user)
    url = reverse("audiences:csv_list", args=[csv_list.pk])
    page = client.get(url).content.decode()
    assert "Map at least one column" not in page  # the mapping form is not bound on GET
    assert '<option value="2" selected>Email</option>' in page
    assert "Windows-1252" in page
    assert "semicolon" in page
    client.post(url, {"reading": "1", "encoding": "latin-1", "delimiter": ","})
    csv_list.refresh_from_db()
    assert (csv_list.encoding, csv_list.delimiter) == ("latin-1", ",")
    assert csv_list.header == ["First Name;Last Name;Email"]
    client.post(url, {"reading": "1", "encoding": "cp1252", "delimiter": ";"})
    csv_list.refresh_from_db()
    assert csv_list.header == ["First Name", "Last Name", "Email"]
    assert csv_list.mapping == {"first_name": 0, "last_name": 1, "email": 2}


def test_german_and_spanish_headers_are_mapped_too(workspace, user):
    data = "Vorname;Nachname;Firma;E-Mail\r\nJürgen;Müller;Acme;j@acme.example\r\n"
    csv_list = _upload(workspace, user, data.encode("cp1252"))
    assert csv_list.mapping == {"first_name": 0, "last_name": 1, "company_name": 2, "email": 3}
