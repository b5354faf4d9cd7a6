"""Every admin changelist and change page renders for staff and is refused to others."""

import pytest
from django.contrib import admin
from django.utils import timezone

from connections.models import OrgUsage
from ingestion.models import DataPurge, IngestedRecord, ObjectCursor

OUR_APPS = {"connections", "ingestion"}


def _our_models():
    return [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


@pytest.fixture
def populated(world, sync_run_factory):
    """At least one row of every model, so change pages have something to show."""
    connection = world["acme_connection"]
    sync_run_factory(connection)
    ObjectCursor.objects.create(connection=connection, sobject="Contact")
    now = timezone.now()
    IngestedRecord.objects.create(
        connection=connection,
        sobject="Contact",
        sf_id="0035g00000ABCDEAAA",
        data={"Id": "0035g00000ABCDEAAA", "Name": "Ada Lovelace", "Email": "ada@acme.example"},
        system_modstamp=now,
        first_seen_at=now,
        last_seen_at=now,
    )
    connection.api_usage.create(hour=now.replace(minute=0, second=0, microsecond=0), calls=3)
    OrgUsage.objects.create(org_key=connection.org_id, used=3, maximum=100_000, checked_at=now)
    DataPurge.objects.create(connection=world["globex_connection"], records_total=10)
    return world


def _urls(model):
    meta = model._meta
    base = f"/admin/{meta.app_label}/{meta.model_name}/"
    obj = model.objects.first()
    assert obj is not None, f"no {meta.model_name} row to render"
    return [base, f"{base}{obj.pk}/change/"]


@pytest.mark.parametrize("model", _our_models(), ids=lambda m: m._meta.label)
def test_staff_see_the_changelist_and_change_page(populated, client, model):
    client.force_login(populated["staff"])
    for url in _urls(model):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", _our_models(), ids=lambda m: m._meta.label)
def test_customers_are_sent_to_the_admin_login(populated, client, model):
    client.force_login(populated["alice"])
    for url in _urls(model):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_the_record_changelist_searches_by_email_and_filters_by_object(populated, staff_client):
    page = staff_client.get(
        "/admin/ingestion/ingestedrecord/", {"q": "ADA@acme.example", "sobject": "Contact"}
    )
    assert page.status_code == 200
    assert "0035g00000ABCDEAAA" in page.content.decode()
    miss = staff_client.get("/admin/ingestion/ingestedrecord/", {"q": "nobody@x.example"})
    assert "0035g00000ABCDEAAA" not in miss.content.decode()


def test_salesforce_data_is_read_only_in_the_admin(populated, staff_client):
    record = IngestedRecord.objects.get()
    assert staff_client.get("/admin/ingestion/ingestedrecord/add/").status_code == 403
    response = staff_client.post(
        f"/admin/ingestion/ingestedrecord/{record.pk}/change/", {"sobject": "Lead"}
    )
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.sobject == "Contact"


def test_the_record_changelist_counts_cheaply(
    populated, staff_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        assert staff_client.get("/admin/ingestion/ingestedrecord/").status_code == 200
