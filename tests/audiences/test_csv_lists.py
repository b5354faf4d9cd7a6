"""CSV lists: header mapping, encodings, row validation and normalisation, downloads."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audiences import services
from audiences.csv_io import detect_encoding, header_auto_map, row_clean
from audiences.models import CsvList
from primer_sf.errors import ApplicationError

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(workspace, user, text, *, kind="people", encoding="utf-8", name="leads.csv"):
    data = text.encode(encoding) if isinstance(text, str) else text
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return services.csv_list_upload(
        workspace=workspace, name="List", kind=kind, file=file, user=user
    )


def _import(csv_list):
    services.csv_list_set_mapping(csv_list=csv_list, mapping=csv_list.mapping)
    return services.csv_list_import(csv_list=csv_list)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["First Name", "LAST_NAME", "Company", "Website", "LinkedIn", "E-mail Address"],
            {
                "first_name": 0,
                "last_name": 1,
                "company_name": 2,
                "domain": 3,
                "linkedin_url": 4,
                "email": 5,
            },
        ),
        (["  work email ", "surname", "given name"], {"email": 0, "last_name": 1, "first_name": 2}),
        (["Notes", "Email"], {"email": 1}),
    ],
)
def test_headers_are_auto_mapped_ignoring_case_spacing_and_synonyms(header, expected):
    assert header_auto_map(header, "people") == expected


def test_company_headers_map_too():
    assert header_auto_map(["Domain", "Company LinkedIn URL"], "companies") == {
        "domain": 0,
        "linkedin_url": 1,
    }


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"\xef\xbb\xbfEmail\nz\xc3\xa9@acme.example\n", "utf-8-sig"),
        ("Email\nzé@acme.example\n".encode(), "utf-8"),
        # Latin-1 text without bytes 0x80-0x9F reads identically as Windows-1252, its superset.
        ("Email,Name\nx@acme.example,Zoë Müller\n".encode("latin-1"), "cp1252"),
        ("Email,Name\nx@acme.example,“Pepe”\n".encode("cp1252"), "cp1252"),
        ("Email,Name\nx@acme.example,Zoë\n".encode("utf-16"), "utf-16"),
    ],
)
def test_encodings_are_detected(data, encoding):
    assert detect_encoding(io.BytesIO(data)) == encoding


def test_a_latin1_file_with_bom_less_header_imports(workspace, user):
    text = "First Name,Last Name,Company Domain\nZoë,Müller,https://www.acme.co.uk/about\n"
    csv_list = _import(_upload(workspace, user, text, encoding="latin-1"))
    row = csv_list.rows.get()
    assert (row.first_name, row.last_name, row.domain) == ("Zoë", "Müller", "acme.co.uk")


def test_a_utf8_bom_does_not_end_up_in_the_first_header(workspace, user):
    csv_list = _upload(workspace, user, "\ufeffEmail,First Name\n", encoding="utf-8")
    assert csv_list.header == ["Email", "First Name"]
    assert csv_list.mapping == {"email": 0, "first_name": 1}


PEOPLE = """First Name,Last Name,Company Domain,Email,Person LinkedIn URL
Ada,Lovelace,analytical.example, ADA@Analytical.Example ,
Grace,Hopper,https://www.cobol.example/x,,
,,,not-an-email,
Alan,Turing,,,
,,,,linkedin.com/in/Alan-T/
,,bad domain,,
,,,,https://example.com/not-linkedin
"""


def test_rows_are_validated_and_normalised_and_invalid_ones_kept_with_reasons(workspace, user):
    csv_list = _import(_upload(workspace, user, PEOPLE))
    assert (csv_list.total_rows, csv_list.valid_rows, csv_list.invalid_rows) == (7, 3, 4)
    ada = csv_list.rows.get(row_number=1)
    assert (ada.email, ada.domain) == ("ada@analytical.example", "analytical.example")
    assert csv_list.rows.get(row_number=2).domain == "cobol.example"
    assert csv_list.rows.get(row_number=5).linkedin_url == "https://www.linkedin.com/in/alan-t"
    reasons = dict(csv_list.rows.filter(is_valid=False).values_list("row_number", "error"))
    assert "is not a valid address" in reasons[3]
    assert "first and last name with a company" in reasons[4]
    assert "is not a domain" in reasons[6]
    assert "not a LinkedIn profile URL" in reasons[7]


def test_companies_need_a_domain_or_a_company_page():
    assert row_clean("companies", ["acme.com", ""], {"domain": 0, "linkedin_url": 1}).valid
    assert not row_clean("companies", ["", ""], {"domain": 0, "linkedin_url": 1}).valid
    clean = row_clean("companies", ["", "linkedin.com/company/acme"], {"linkedin_url": 1})
    assert clean.values == {"linkedin_url": "https://www.linkedin.com/company/acme"}


def test_files_over_the_limit_are_refused(workspace, user, settings):
    settings.AUDIENCE_CSV_MAX_BYTES = 10
    with pytest.raises(ApplicationError, match="limit"):
        _upload(workspace, user, "Email\na@b.example\n")


def test_the_mapping_step_is_editable_before_import(
    workspace, user, client, django_capture_on_commit_callbacks
):
    client.force_login(user)
    csv_list = _upload(workspace, user, "Who,Reach me at\nAda,ada@acme.example\n")
    assert csv_list.mapping == {}
    url = reverse("audiences:csv_list", args=[csv_list.pk])
    assert "Map the columns" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "1", "first_name": "0"})
    assert response.status_code == 302
    csv_list.refresh_from_db()  # the import ran inline (tests run tasks synchronously)
    assert csv_list.mapping == {"email": 1, "first_name": 0}
    assert csv_list.status == CsvList.Status.READY
    assert csv_list.rows.get().email == "ada@acme.example"


def test_upload_through_the_page(workspace, user, client):
    client.force_login(user)
    file = SimpleUploadedFile("x.csv", b"Email\nada@acme.example\n", content_type="text/csv")
    response = client.post(
        reverse("audiences:csv_lists"),
        {"name": "Mine", "kind": "people", "workspace": workspace.pk, "file": file},
    )
    csv_list = CsvList.objects.get()
    assert response["Location"] == reverse("audiences:csv_list", args=[csv_list.pk])
    assert csv_list.mapping == {"email": 0}


def test_invalid_rows_download_with_row_number_reason_and_guarded_cells(workspace, user, client):
    client.force_login(user)
    csv_list = _import(_upload(workspace, user, "Email,Note\n=cmd|' /C calc'!A0,x\n"))
    response = client.get(reverse("audiences:csv_list_invalid", args=[csv_list.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["row", "reason", "Email", "Note"]
    assert rows[1][0] == "1"
    assert "is not a valid address" in rows[1][1]
    assert rows[1][2] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize("kind", ["people", "companies"])
def test_sample_files_download_and_map_themselves(client, user, kind):
    client.force_login(user)
    response = client.get(reverse("audiences:csv_sample", args=[kind]))
    header = response.content.decode().splitlines()[0].split(",")
    assert len(header_auto_map(header, kind)) == len(header)


def test_a_large_file_streams_in_batches(workspace, user, django_assert_max_num_queries):
    lines = ["Email"] + [f"person{i}@acme.example" for i in range(5000)]
    csv_list = _upload(workspace, user, "\n".join(lines))
    services.csv_list_set_mapping(csv_list=csv_list, mapping=csv_list.mapping)
    # Batched, not a query per row (SQLite caps variables per statement, so ~80 rows a batch).
    with django_assert_max_num_queries(80):
        services.csv_list_import(csv_list=csv_list)
    assert csv_list.valid_rows == 5000
