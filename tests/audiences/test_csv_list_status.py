"""A list's status tells the truth: ``ready`` only once imported and matched; while working
it shows rows read and matched so far and the page refreshes itself; the overview shows each
list's match rate."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audiences import services
from audiences.models import CsvList

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def people(ready_connection, record_factory):
    for i in range(4):
        record_factory(ready_connection, "Contact", Email=f"p{i}@acme.example", LastName=f"P{i}")
    return ready_connection


def _mapped(workspace, user, rows: int) -> CsvList:
    text = "Email\n" + "".join(f"p{i}@acme.example\n" for i in range(rows))
    file = SimpleUploadedFile("l.csv", text.encode(), content_type="text/csv")
    csv_list = services.csv_list_upload(
        workspace=workspace, name="L", kind="people", file=file, user=user
    )
    return services.csv_list_set_mapping(csv_list=csv_list, mapping=csv_list.mapping)


def test_ready_is_shown_only_with_the_match_rate_already_known(
    people, user, client, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        csv_list = _mapped(people.workspace, user, 8)  # the import runs on commit (sync queue)
    page = client.get(reverse("audiences:csv_list", args=[csv_list.pk])).content.decode()
    assert "Ready" in page
    assert "50%" in page
    assert 'http-equiv="refresh"' not in page


def test_it_is_matching_not_ready_while_matching_runs(people, user, monkeypatch):
    seen = []
    real = services.lists.csv_list_rematch

    def spy(*, csv_list, connection):
        seen.append(CsvList.objects.get(pk=csv_list.pk).status)
        return real(csv_list=csv_list, connection=connection)

    monkeypatch.setattr(services.lists, "csv_list_rematch", spy)
    csv_list = services.csv_list_import(csv_list=_mapped(people.workspace, user, 8))
    assert seen == [CsvList.Status.MATCHING]
    assert csv_list.status == CsvList.Status.READY


def test_rows_read_so_far_show_while_importing(people, user, client, monkeypatch):
    monkeypatch.setattr(services.lists, "BATCH", 3)
    pages = []
    real = services.lists.row_clean
    client.force_login(user)

    def spy(kind, cells, mapping):
        if cells == ["p7@acme.example"]:  # the third batch: two are written
            pages.append(client.get(reverse("audiences:csv_list", args=[csv_list.pk])))
        return real(kind, cells, mapping)

    monkeypatch.setattr(services.lists, "row_clean", spy)
    csv_list = _mapped(people.workspace, user, 8)
    services.csv_list_import(csv_list=csv_list)
    page = pages[0].content.decode()
    assert "Importing…" in page
    assert "6 rows read" in page
    assert '<meta http-equiv="refresh" content="3">' in page


def test_the_overview_shows_each_lists_match_rate(people, user, client):
    csv_list = services.csv_list_import(csv_list=_mapped(people.workspace, user, 8))
    assert csv_list.matched_rows == {str(people.pk): 4}
    client.force_login(user)
    page = client.get(reverse("audiences:csv_lists")).content.decode()
    assert '<td class="num match-rate">50%</td>' in page
