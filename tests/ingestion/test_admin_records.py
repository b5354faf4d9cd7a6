"""The ops admin on large tables: honest counts, fast email and domain search, formatted
numbers, percentages as on the customer pages, and no delete on read-only rows."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audiences.models import Audience
from ingestion.admin import CappedCountPaginator
from ingestion.models import IngestedRecord

pytestmark = pytest.mark.django_db


def _records(connection, emails):
    now = timezone.now()
    IngestedRecord.objects.bulk_create(
        IngestedRecord(
            connection=connection,
            sobject="Contact",
            sf_id=f"003{n:015d}",
            data={"Name": f"Person {n}", "Email": email},
            system_modstamp=now,
            first_seen_at=now,
            last_seen_at=now,
        )
        for n, email in enumerate(emails)
    )


def test_a_large_record_list_says_its_count_is_estimated(staff_client, connection, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 5)
    _records(connection, [f"p{n}@acme.example" for n in range(8)])
    html = staff_client.get("/admin/ingestion/ingestedrecord/").content.decode()
    count = html[html.index('id="record-count"') :].split("</span>")[0]
    assert "(estimated)" in count
    assert ("about " in count) if db.vendor == "postgresql" else ("more than 5" in count)
    assert "10000 results" not in html


def test_a_small_record_list_gives_the_exact_count(staff_client, connection):
    _records(connection, ["a@acme.example", "b@acme.example"])
    html = staff_client.get("/admin/ingestion/ingestedrecord/").content.decode()
    assert "2 ingested records</span>" in html


def test_exact_email_search_ignores_case(staff_client, connection):
    _records(connection, ["Ada@Acme.example", "bob@globex.example"])
    html = staff_client.get("/admin/ingestion/ingestedrecord/?q=ada@ACME.example").content.decode()
    assert "Person 0" in html
    assert "Person 1" not in html


def test_a_domain_search_finds_everyone_at_that_domain(staff_client, connection):
    _records(connection, ["ada@acme.example", "Cy@ACME.example", "bob@globex.example"])
    html = staff_client.get("/admin/ingestion/ingestedrecord/?q=acme.example").content.decode()
    assert "Person 0" in html
    assert "Person 1" in html
    assert "Person 2" not in html
    assert (
        "@acme.example"
        in staff_client.get("/admin/ingestion/ingestedrecord/?q=@acme.example").content.decode()
    )


@pytest.mark.parametrize(
    ("term", "index"),
    [("ada@acme.example", "email_reversed_idx"), ("acme.example", "email_reversed_idx")],
)
def test_email_and_domain_searches_use_their_index(staff_client, connection, term, index):
    if db.vendor != "postgresql":
        pytest.skip("the expression indexes exist on PostgreSQL only (migration 0008)")
    _records(connection, [f"p{n}@acme.example" for n in range(50)])
    with CaptureQueriesContext(db) as queries:
        staff_client.get(f"/admin/ingestion/ingestedrecord/?q={term}")
    search = next(q["sql"] for q in queries if "->> 'Email'" in q["sql"])
    with db.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {search}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


def test_run_counts_are_formatted_and_runs_cannot_be_deleted(
    staff_client, connection, sync_run_factory
):
    run = sync_run_factory(connection, status="succeeded", records_written=80_207, api_calls=1234)
    html = staff_client.get("/admin/ingestion/syncrun/").content.decode()
    assert "80,207" in html
    assert "1,234" in html
    assert "delete_selected" not in html
    assert staff_client.get(f"/admin/ingestion/syncrun/{run.pk}/delete/").status_code == 403
    _records(connection, ["a@acme.example"])
    record = IngestedRecord.objects.get()
    url = f"/admin/ingestion/ingestedrecord/{record.pk}/delete/"
    assert staff_client.get(url).status_code == 403


def test_match_rate_is_a_percentage_as_on_the_customer_pages(staff_client, connection):
    Audience.objects.create(
        workspace=connection.workspace, connection=connection, name="Tech", match_rate=0.8
    )
    html = staff_client.get("/admin/audiences/audience/").content.decode()
    assert "80%" in html
    assert ">0.8<" not in html
