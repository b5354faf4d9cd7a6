"""Bad input to customer endpoints gets a 400 or a 404, never a 500."""

import json

import pytest
from django.urls import reverse

from audiences.models import Audience
from tests.audiences.conftest import describe


@pytest.fixture
def signed_in(client, user, connection):
    describe(connection)
    client.force_login(user)
    return client


@pytest.mark.parametrize("value", ["abc", "[]", "1e9", "-1", "99999999999999999999999", "1.5"])
def test_the_new_page_refuses_a_connection_that_is_not_an_id(signed_in, value):
    response = signed_in.get(reverse("audiences:new"), {"connection": value})
    assert response.status_code in (400, 404)


@pytest.mark.parametrize(
    "body",
    [
        {"connection": "abc"},
        {"connection": [1]},
        {"connection": {"a": 1}},
        {"connection": True},
        {"connection": 10**30},
        [1, 2],
        "text",
        None,
        {"connection": "MINE", "include": [[1]]},
        {"connection": "MINE", "include": "1"},
        {"connection": "MINE", "exclude": [{"a": 1}]},
        {"connection": "MINE", "criteria": [1]},
        {"connection": "MINE", "criteria": "abc"},
        {"connection": "MINE", "holds": ["people"]},
        {"connection": "MINE", "criteria": {"type": "group", "children": [[1]]}},
    ],
)
def test_the_estimate_refuses_malformed_bodies(signed_in, connection, body):
    if isinstance(body, dict) and body.get("connection") == "MINE":
        body = {**body, "connection": connection.pk}
    response = signed_in.post(
        reverse("audiences:estimate"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code in (400, 404)


def test_the_estimate_refuses_a_body_that_is_not_json(signed_in):
    response = signed_in.post(reverse("audiences:estimate"), b"\xff{", content_type="text/plain")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "name", ["audiences:detail", "audiences:edit", "audiences:csv_list", "audiences:gate"]
)
def test_ids_beyond_any_row_are_404(signed_in, name):
    assert signed_in.get(reverse(name, args=[10**25])).status_code == 404


NUL_CRITERIA = [
    {"q": "\x00"},
    {"\x00": 1},
    {"type": "group", "op": "and", "children": [{"field": "Email", "value": ["a\x00"]}]},
]


@pytest.mark.parametrize("criteria", NUL_CRITERIA)
def test_a_save_with_a_nul_in_the_filters_is_a_form_error(signed_in, criteria):
    """PostgreSQL's jsonb refuses U+0000: without the check this is a 500 on save."""
    response = signed_in.post(
        reverse("audiences:new"),
        {"name": "A", "holds": "people", "criteria": json.dumps(criteria)},
    )
    assert response.status_code == 200
    assert "NUL character" in response.content.decode()
    assert not Audience.objects.exists()


@pytest.mark.parametrize("criteria", NUL_CRITERIA)
def test_an_estimate_with_a_nul_in_the_filters_is_a_400(signed_in, connection, criteria):
    body = {"connection": connection.pk, "criteria": criteria}
    response = signed_in.post(
        reverse("audiences:estimate"), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


@pytest.mark.parametrize("list_id", [2**63, "99999999999999999999999", -(2**63) - 1, 0])
def test_a_save_naming_a_list_id_past_any_row_is_a_form_error(signed_in, list_id):
    """SQLite cannot hold such an integer: without the check this is a 500 (OverflowError)."""
    response = signed_in.post(
        reverse("audiences:new"), {"name": "A", "holds": "people", "include": list_id}
    )
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    assert not Audience.objects.exists()
