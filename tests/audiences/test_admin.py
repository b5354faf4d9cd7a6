"""The ops admin for audiences and CSV lists renders for staff and refuses customers."""

import pytest
from django.urls import reverse

from audiences import services
from audiences.models import Audience, AudienceEvaluation, CsvList, CsvRow


@pytest.fixture
def rows(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    audience = services.audience_create(
        workspace=world["acme"], connection=world["acme_connection"], name="A"
    )
    services.audience_evaluate(audience=audience, trigger="admin")
    csv_list = CsvList.objects.create(workspace=world["acme"], name="L", kind="people", file="x")
    CsvRow.objects.create(csv_list=csv_list, row_number=1, is_valid=True, email="a@b.example")
    return world


@pytest.mark.parametrize("model", [Audience, AudienceEvaluation, CsvList, CsvRow])
def test_staff_see_changelists_and_change_pages(rows, client, model):
    client.force_login(rows["staff"])
    meta = model._meta
    obj = model.objects.first()
    for url in (
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_customers_are_sent_to_the_admin_login(rows, client):
    client.force_login(rows["alice"])
    response = client.get(reverse("admin:audiences_audience_changelist"))
    assert response.status_code == 302


def test_the_evaluate_action_queues_evaluation(rows, client, django_capture_on_commit_callbacks):
    client.force_login(rows["staff"])
    audience = Audience.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:audiences_audience_changelist"),
            {"action": "evaluate_now", "_selected_action": [audience.pk]},
        )
    assert audience.evaluations.filter(trigger="admin").count() == 2
