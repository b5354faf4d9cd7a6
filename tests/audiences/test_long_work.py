"""Long work never blocks the site: imports, matching and evaluations commit a bounded batch
at a time (what is done survives a failure later on), and SQLite runs in WAL mode with a busy
timeout so that readers and sign-ins never wait on a writer."""

import importlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection as db

from audiences import services
from audiences.models import AudienceMember, CsvList, CsvRow, CsvRowMatch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("media_root")]


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload(workspace, user, rows: int) -> CsvList:
    text = "Email\n" + "".join(f"p{i}@acme.example\n" for i in range(rows))
    file = SimpleUploadedFile("l.csv", text.encode(), content_type="text/csv")
    csv_list = services.csv_list_upload(
        workspace=workspace, name="L", kind="people", file=file, user=user
    )
    csv_list.mapping = {"email": 0}
    csv_list.save()
    return csv_list


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(settings, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    import primer_sf.settings as module

    fresh = importlib.reload(module)
    options = fresh.DATABASES["default"]["OPTIONS"]
    assert "journal_mode=WAL" in options["init_command"]
    assert options["timeout"] >= 5
    assert options["transaction_mode"] == "IMMEDIATE"


def test_import_rows_are_committed_a_batch_at_a_time(ready_connection, user, monkeypatch):
    monkeypatch.setattr(services.lists, "BATCH", 2)
    real, calls = services.lists.row_clean, []

    def failing_late(kind, cells, mapping):
        calls.append(cells)
        if len(calls) == 5:
            raise RuntimeError("worker lost")
        return real(kind, cells, mapping)

    monkeypatch.setattr(services.lists, "row_clean", failing_late)
    csv_list = services.csv_list_import(csv_list=_upload(ready_connection.workspace, user, 9))
    assert csv_list.status == CsvList.Status.ERROR
    assert CsvRow.objects.filter(csv_list=csv_list).count() == 4  # two batches committed
    assert CsvList.objects.get(pk=csv_list.pk).total_rows == 4


def test_matching_commits_a_batch_at_a_time(ready_connection, user, record_factory, monkeypatch):
    for i in range(6):
        record_factory(ready_connection, "Contact", Email=f"p{i}@acme.example", LastName="P")
    csv_list = _upload(ready_connection.workspace, user, 6)
    services.csv_list_import(csv_list=csv_list)
    CsvRowMatch.objects.all().delete()
    monkeypatch.setattr(services.lists, "BATCH", 2)
    real, batches = services.lists._match_people, []

    def failing_late(rows, connection):
        batches.append(rows)
        if len(batches) == 3:
            raise RuntimeError("worker lost")
        return real(rows, connection)

    monkeypatch.setattr(services.lists, "_match_people", failing_late)
    with pytest.raises(RuntimeError):
        services.csv_list_rematch(csv_list=csv_list, connection=ready_connection)
    assert CsvRowMatch.objects.count() == 4
    assert CsvList.objects.get(pk=csv_list.pk).matched_rows == {str(ready_connection.pk): 4}


def test_an_evaluation_writes_members_a_batch_per_transaction(
    ready_connection, record_factory, monkeypatch
):
    for i in range(5):
        record_factory(ready_connection, "Contact", LastName=f"P{i}", Title="CTO")
    audience = services.audience_create(
        workspace=ready_connection.workspace, connection=ready_connection, name="All",
        criteria={"type": "group", "children": [{"type": "condition", "object": "Contact",
                  "field": "Title", "operator": "equals", "value": "CTO"}]},
    )  # fmt: skip
    monkeypatch.setattr(services.audiences, "BATCH", 2)
    depths, real = [], AudienceMember.objects.bulk_create

    def spy(objs, *args, **kwargs):
        depths.append((len(objs), db.in_atomic_block, len(db.savepoint_ids)))
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(AudienceMember.objects, "bulk_create", spy)
    services.audience_evaluate(audience=audience, trigger="customer")
    assert [n for n, _, _ in depths] == [2, 2, 1]
    assert all(atomic and not savepoints for _, atomic, savepoints in depths)
    assert AudienceMember.objects.filter(audience=audience).count() == 5
