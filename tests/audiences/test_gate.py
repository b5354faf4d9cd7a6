"""Invariant 9: Salesforce criteria are refused at every layer until the initial ingestion
completes; CSV-only audiences work meanwhile; the criteria unlock by themselves."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audiences import services
from audiences.forms import AudienceForm
from audiences.models import Audience
from primer_sf.errors import ApplicationError

CRITERIA = {
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


def _complete(connection):
    connection.initial_sync_completed_at = timezone.now()
    connection.save()


def test_the_service_refuses_criteria_and_says_why_with_progress(loading_connection):
    with pytest.raises(ApplicationError) as error:
        services.audience_create(
            workspace=loading_connection.workspace,
            connection=loading_connection,
            name="Tech",
            criteria=CRITERIA,
        )
    assert "unlock when the first full ingestion" in error.value.message
    assert "records ingested of about" in error.value.message
    assert not Audience.objects.exists()


def test_csv_only_audiences_are_allowed_meanwhile(loading_connection):
    audience = services.audience_create(
        workspace=loading_connection.workspace, connection=loading_connection, name="CSV only"
    )
    assert audience.pk


def test_the_model_refuses_criteria_so_the_admin_does_too(loading_connection):
    audience = Audience(
        workspace=loading_connection.workspace,
        connection=loading_connection,
        name="Tech",
        criteria=CRITERIA,
    )
    with pytest.raises(ValidationError) as error:
        audience.full_clean()
    assert "unlock when the first full ingestion" in str(error.value)


def test_the_form_refuses_criteria(loading_connection):
    form = AudienceForm(
        {"name": "Tech", "holds": "people", "criteria": json.dumps(CRITERIA)},
        connection=loading_connection,
    )
    assert not form.is_valid()
    assert "unlock when the first full ingestion" in str(form.errors["criteria"])


def test_the_admin_refuses_criteria(loading_connection, staff_client):
    response = staff_client.post(
        reverse("admin:audiences_audience_add"),
        {
            "workspace": loading_connection.workspace.pk,
            "connection": loading_connection.pk,
            "name": "Tech",
            "holds": "people",
            "criteria": json.dumps(CRITERIA),
            "list_uses-TOTAL_FORMS": 0,
            "list_uses-INITIAL_FORMS": 0,
            "evaluations-TOTAL_FORMS": 0,
            "evaluations-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "unlock when the first full ingestion" in response.content.decode()
    assert not Audience.objects.exists()


def test_the_builder_page_shows_the_reason_and_progress(loading_connection, client, user):
    client.force_login(user)
    page = client.get(reverse("audiences:new")).content.decode()
    assert "Salesforce filters are locked until the initial ingestion completes" in page
    assert "400 records ingested of about 6,000" in page
    assert '<progress id="gate-bar" class="gate-progress"' in page


def test_the_estimate_endpoint_refuses_criteria(loading_connection, client, user):
    client.force_login(user)
    body = {"connection": loading_connection.pk, "holds": "people", "criteria": CRITERIA}
    response = client.post(
        reverse("audiences:estimate"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["locked"] is True
    assert "unlock when the first full ingestion" in response.json()["errors"][0]


def test_evaluation_refuses_criteria_that_slipped_in(loading_connection):
    audience = Audience.objects.create(
        workspace=loading_connection.workspace,
        connection=loading_connection,
        name="x",
        criteria=CRITERIA,
    )
    services.audience_evaluate(audience=audience, trigger="admin")
    audience.refresh_from_db()
    assert audience.status == Audience.Status.ERROR
    assert "unlock when the first full ingestion" in audience.status_message


def test_criteria_unlock_by_themselves_when_ingestion_completes(loading_connection, client, user):
    client.force_login(user)
    gate_url = reverse("audiences:gate", args=[loading_connection.pk])
    assert client.get(gate_url).json()["locked"] is True
    _complete(loading_connection)
    assert client.get(gate_url).json()["locked"] is False
    audience = services.audience_create(
        workspace=loading_connection.workspace,
        connection=loading_connection,
        name="Tech",
        criteria=CRITERIA,
    )
    assert audience.criteria == CRITERIA
