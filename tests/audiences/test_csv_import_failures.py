"""One bad cell never sinks a list: it makes its row invalid with a reason; an import that
fails for any reason ends in ``error`` with a message and a Retry; lists can be deleted, and
the audiences that used them drop them and are evaluated again."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audiences import services, tasks
from audiences.models import AudienceList, CsvList, CsvRow

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _import(workspace, user, data: bytes, kind="companies"):
    file = SimpleUploadedFile("l.csv", data, content_type="text/csv")
    csv_list = services.csv_list_upload(
        workspace=workspace, name="L", kind=kind, file=file, user=user
    )
    services.csv_list_set_mapping(csv_list=csv_list, mapping=csv_list.mapping)
    return services.csv_list_import(csv_list=csv_list)


@pytest.mark.parametrize("cell", ["acme]", "http://[globex.com", "https://[::1", "a" * 300])
def test_a_domain_that_cannot_be_read_makes_only_its_row_invalid(workspace, user, cell, client):
    data = f"Company Domain\nacme.example\n{cell}\nglobex.example\n".encode()
    csv_list = _import(workspace, user, data)
    assert csv_list.status == CsvList.Status.READY
    assert (csv_list.valid_rows, csv_list.invalid_rows) == (2, 1)
    client.force_login(user)
    body = client.get(reverse("audiences:csv_list_invalid", args=[csv_list.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(body.streaming_content).decode())))
    assert rows[1][0] == "2"
    assert "is not a domain" in rows[1][1]


def test_a_cell_over_128_kb_makes_only_its_row_invalid(workspace, user, client):
    data = "Company Domain,Notes\nacme.example,ok\nglobex.example," + "x" * 200_000 + "\n"
    csv_list = _import(workspace, user, data.encode())
    assert csv_list.status == CsvList.Status.READY
    assert (csv_list.valid_rows, csv_list.invalid_rows) == (1, 1)
    row = CsvRow.objects.get(csv_list=csv_list, is_valid=False)
    assert "over 128 KB" in row.error
    assert len(row.raw[1]) < 2000  # kept cut short for the download


def test_a_failing_import_ends_in_error_with_a_message_and_retry(workspace, user, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("audiences.services.lists.row_clean", broken)
    csv_list = _import(workspace, user, b"Company Domain\nacme.example\n")
    csv_list.refresh_from_db()
    assert csv_list.status == CsvList.Status.ERROR
    assert "retry it" in csv_list.status_message
    monkeypatch.undo()
    services.csv_list_retry(csv_list=csv_list)
    services.csv_list_import(csv_list=csv_list)
    csv_list.refresh_from_db()
    assert (csv_list.status, csv_list.valid_rows) == (CsvList.Status.READY, 1)


def test_the_page_offers_retry_and_the_retry_requeues(
    workspace, user, client, django_capture_on_commit_callbacks
):
    csv_list = CsvList.objects.create(
        workspace=workspace, name="L", kind="companies", file="gone.csv", status="error",
        status_message="The uploaded file could not be read again.", mapping={"domain": 0},
        header=["Company Domain"],
    )  # fmt: skip
    client.force_login(user)
    page = client.get(reverse("audiences:csv_list", args=[csv_list.pk])).content.decode()
    assert 'id="retry"' in page
    assert "could not be read again" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("audiences:csv_list_retry", args=[csv_list.pk]))
    csv_list.refresh_from_db()
    assert csv_list.status == CsvList.Status.ERROR  # the file is missing: it failed visibly
    assert "upload it once more" in csv_list.status_message


def test_a_killed_import_task_leaves_the_list_in_error(workspace):
    csv_list = CsvList.objects.create(
        workspace=workspace, name="L", kind="companies", file="x.csv", status="importing"
    )

    class Task:
        success = False
        args = (csv_list.pk,)

    tasks.csv_list_import_done(Task())
    csv_list.refresh_from_db()
    assert csv_list.status == CsvList.Status.ERROR
    assert "interrupted" in csv_list.status_message


def test_a_list_is_deleted_from_its_page_and_dropped_from_audiences(
    ready_connection, user, client, django_capture_on_commit_callbacks
):
    workspace = ready_connection.workspace
    csv_list = _import(workspace, user, b"Company Domain\nacme.example\n")
    audience = services.audience_create(
        workspace=workspace, connection=ready_connection, name="A", holds="companies",
        include=[csv_list],
    )  # fmt: skip
    services.audience_evaluate(audience=audience, trigger="customer")
    client.force_login(user)
    page = client.get(reverse("audiences:csv_list", args=[csv_list.pk])).content.decode()
    assert 'id="delete-list"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audiences:csv_list_delete", args=[csv_list.pk]))
    assert response.status_code == 302
    assert not CsvList.objects.exists()
    assert not CsvRow.objects.exists()
    assert not AudienceList.objects.exists()
    audience.refresh_from_db()
    assert audience.status == "ready"
    assert audience.evaluations.count() == 2  # evaluated again without the list


def test_a_killed_evaluation_task_leaves_the_audience_in_error(ready_connection):
    audience = services.audience_create(
        workspace=ready_connection.workspace, connection=ready_connection, name="A"
    )
    audience.status = "matching"
    audience.save()

    class Task:
        success = False
        args = (audience.pk, "sync", None)

    tasks.audience_evaluate_done(Task())
    audience.refresh_from_db()
    assert audience.status == "error"
    assert "re-evaluate to retry" in audience.status_message
