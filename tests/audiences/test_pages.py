"""Customer pages: members of the workspace only (404 otherwise), no N+1, live estimate."""

import json

import pytest
from django.urls import reverse

from audiences import services
from audiences.models import Audience, CsvList
from tests.audiences.conftest import describe

TECH = {
    "type": "group",
    "children": [
        {
            "type": "condition",
            "object": "Account",
            "field": "Industry",
            "operator": "equals",
            "value": "Technology",
        }
    ],
}


@pytest.fixture
def acme(world, record_factory, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    connection = world["acme_connection"]
    describe(connection)
    connection.initial_sync_completed_at = connection.created_at
    connection.save()
    account = record_factory(connection, "Account", Industry="Technology", Name="Acme")
    for i in range(30):
        record_factory(
            connection,
            "Contact",
            AccountId=account.sf_id,
            FirstName=f"P{i}",
            Email=f"p{i}@acme.example",
            Title="CTO",
        )
    audience = services.audience_create(
        workspace=world["acme"], connection=connection, name="Tech", criteria=TECH
    )
    services.audience_evaluate(audience=audience, trigger="customer")
    csv_list = CsvList.objects.create(
        workspace=world["acme"], name="L", kind="people", file="x.csv", status="ready"
    )
    return {**world, "audience": audience, "list": csv_list, "connection": connection}


def _urls(acme):
    a, lst, c = acme["audience"].pk, acme["list"].pk, acme["connection"].pk
    return [
        reverse("audiences:detail", args=[a]),
        reverse("audiences:edit", args=[a]),
        reverse("audiences:export", args=[a]),
        reverse("audiences:csv_list", args=[lst]),
        reverse("audiences:csv_list_invalid", args=[lst]),
        reverse("audiences:csv_list_unmatched", args=[lst, c]),
        reverse("audiences:gate", args=[c]),
        reverse("audiences:new") + f"?connection={c}",
    ]


def test_members_see_every_page(acme, client):
    client.force_login(acme["alice"])
    for url in [reverse("audiences:list"), reverse("audiences:csv_lists"), *_urls(acme)]:
        assert client.get(url).status_code == 200, url


def test_other_customers_get_404_everywhere(acme, client):
    client.force_login(acme["bob"])
    for url in _urls(acme):
        assert client.get(url).status_code == 404, url
    for name in ("run", "archive"):
        assert (
            client.post(reverse(f"audiences:{name}", args=[acme["audience"].pk])).status_code == 404
        )
    body = json.dumps({"connection": acme["connection"].pk, "holds": "people", "criteria": {}})
    response = client.post(reverse("audiences:estimate"), body, content_type="application/json")
    assert response.status_code == 404
    assert "Tech" not in client.get(reverse("audiences:list")).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(acme, client):
    response = client.get(reverse("audiences:detail", args=[acme["audience"].pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_summary_page_has_a_fixed_number_of_queries(
    acme, client, django_assert_max_num_queries
):
    client.force_login(acme["alice"])
    # 15: two more than before for the filters in words (field labels, campaign names), one
    # for the header's open-alert count.
    with django_assert_max_num_queries(15):
        page = client.get(reverse("audiences:detail", args=[acme["audience"].pk]))
    assert page.status_code == 200
    assert page.content.decode().count("@acme.example</td>") == 25  # the first 25 members


def test_the_list_page_has_a_fixed_number_of_queries(acme, client, django_assert_max_num_queries):
    for i in range(5):
        services.audience_create(
            workspace=acme["acme"], connection=acme["connection"], name=f"A{i}"
        )
    client.force_login(acme["alice"])
    with django_assert_max_num_queries(6):
        assert client.get(reverse("audiences:list")).status_code == 200


def test_the_estimate_counts_people_by_object(acme, client, django_assert_max_num_queries):
    client.force_login(acme["alice"])
    body = {"connection": acme["connection"].pk, "holds": "people", "criteria": TECH}
    with django_assert_max_num_queries(15):
        response = client.post(
            reverse("audiences:estimate"), json.dumps(body), content_type="application/json"
        )
    assert response.json()["total"] == 30
    assert response.json()["by_object"] == {"Contact": 30, "Lead": 0}


def test_the_estimate_reports_invalid_criteria(acme, client):
    client.force_login(acme["alice"])
    bad = {
        "type": "group",
        "children": [
            {"type": "condition", "object": "Contact", "field": "Nope", "operator": "is_known"}
        ],
    }
    body = {"connection": acme["connection"].pk, "holds": "people", "criteria": bad}
    response = client.post(
        reverse("audiences:estimate"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert "Contact has no field 'Nope'" in response.json()["errors"][0]


def test_saving_and_building_from_the_builder(acme, client, django_capture_on_commit_callbacks):
    client.force_login(acme["alice"])
    url = reverse("audiences:new") + f"?connection={acme['connection'].pk}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"name": "New", "holds": "contacts", "criteria": json.dumps(TECH), "run": "1"}
        )
    audience = Audience.objects.get(name="New")
    assert response["Location"] == reverse("audiences:detail", args=[audience.pk])
    audience.refresh_from_db()
    assert (audience.status, audience.size) == ("ready", 30)


def test_the_selectors_summary_and_preview_do_not_grow_with_members(
    acme, django_assert_max_num_queries
):
    from audiences.selectors.members import audience_preview, audience_summary_compute

    with django_assert_max_num_queries(4):
        audience_summary_compute(audience=acme["audience"])
    with django_assert_max_num_queries(3):
        audience_preview(audience=acme["audience"])
