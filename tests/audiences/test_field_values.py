"""The builder's value search (GET /audiences/values/): every campaign of the connection is
searchable by name, and every value of a picklist, a page at a time; bad input is a 400 with
reasons, another workspace's connection a 404, never a server error."""

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiences import services
from ingestion.models import IngestedRecord
from tests.audiences.conftest import FIELDS, INDUSTRIES, _f, describe, sf_id

URL = "/audiences/values/"
CAMPAIGNS = 1015


@pytest.fixture
def many_campaigns(ready_connection):
    """1,015 campaigns, "Campaign 0001" … "Campaign 1015", one deleted ("Campaign 0500")."""
    rows, now = [], timezone.now()
    for n in range(1, CAMPAIGNS + 1):
        record_id = sf_id("Campaign")
        rows.append(
            IngestedRecord(
                connection=ready_connection,
                sobject="Campaign",
                sf_id=record_id,
                data={"Id": record_id, "Name": f"Campaign {n:04d}"},
                facets={},
                is_deleted=n == 500,
                system_modstamp=now,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    IngestedRecord.objects.bulk_create(rows)
    return ready_connection


def _get(client, conn, **params):
    query = {"connection": conn.pk, "object": "CampaignMember", "field": "CampaignId"}
    return client.get(URL, {**query, **params})


def test_search_finds_a_campaign_beyond_the_first_500(client, user, many_campaigns):
    client.force_login(user)
    response = _get(client, many_campaigns, q="campaign 1015")
    assert response.status_code == 200
    body = response.json()
    [[value, label]] = body["results"]
    assert label == "Campaign 1015"
    assert IngestedRecord.objects.get(sf_id=value).data["Name"] == "Campaign 1015"
    assert body["has_more"] is False


def test_pages_walk_every_live_campaign_in_name_order(client, user, many_campaigns):
    client.force_login(user)
    labels, page = [], 1
    while True:
        body = _get(client, many_campaigns, page=page).json()
        assert len(body["results"]) <= 50
        labels += [label for _, label in body["results"]]
        if not body["has_more"]:
            break
        page += 1
    assert page == 21  # 1,014 live campaigns, 50 a page
    expected = [f"Campaign {n:04d}" for n in range(1, CAMPAIGNS + 1) if n != 500]
    assert labels == expected


def test_a_page_past_the_end_is_empty(client, user, many_campaigns):
    client.force_login(user)
    body = _get(client, many_campaigns, q="Campaign 10", page=3).json()
    assert body == {"results": [], "page": 3, "has_more": False}


def test_picklist_values_are_searched_from_the_field_plan(client, user, ready_connection):
    client.force_login(user)
    response = client.get(
        URL,
        {"connection": ready_connection.pk, "object": "Account", "field": "Industry", "q": "TECH"},
    )
    assert response.json()["results"] == [["Technology", "Technology"]]
    everything = client.get(
        URL, {"connection": ready_connection.pk, "object": "Account", "field": "Industry"}
    )
    assert [v for v, _ in everything.json()["results"]] == INDUSTRIES


def test_a_field_without_values_is_refused(client, user, ready_connection):
    client.force_login(user)
    response = client.get(
        URL, {"connection": ready_connection.pk, "object": "Contact", "field": "Title"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["This field has no list of values."]


def test_another_workspaces_connection_is_not_found(
    client, user_factory, connection_factory, workspace_factory, many_campaigns
):
    stranger = user_factory("stranger@other.example")
    workspace_factory("Other", owner=stranger)
    client.force_login(stranger)
    assert _get(client, many_campaigns, q="Campaign").status_code == 404


def test_signed_out_is_sent_to_sign_in(client, many_campaigns):
    assert _get(client, many_campaigns).status_code == 302


@pytest.mark.parametrize(
    "params",
    [
        {"connection": "abc"},
        {"connection": "0"},
        {"connection": "9" * 30},
        {"object": "User"},
        {"field": ""},
        {"field": "x" * 300},
        {"q": "\x00"},
        {"q": "x" * 201},
        {"page": "0"},
        {"page": "-1"},
        {"page": "1001"},
        {"page": "1.5"},
    ],
)
def test_bad_input_is_a_400_with_reasons(client, user, many_campaigns, params):
    client.force_login(user)
    response = _get(client, many_campaigns, **params)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_the_campaign_names_of_saved_criteria_reach_the_builder_and_the_words(
    client, user, many_campaigns
):
    last = IngestedRecord.objects.get(data__Name="Campaign 1015")
    criteria = {
        "type": "group",
        "match": "all",
        "children": [
            {
                "type": "related",
                "object": "CampaignMember",
                "conditions": [
                    {
                        "type": "condition",
                        "object": "CampaignMember",
                        "field": "CampaignId",
                        "operator": "any_of",
                        "value": [last.sf_id],
                    }
                ],
            }
        ],
    }
    audience = services.audience_create(
        workspace=many_campaigns.workspace,
        connection=many_campaigns,
        name="Late campaign",
        holds="contacts",
        criteria=criteria,
    )
    client.force_login(user)
    edit = client.get(f"/audiences/{audience.pk}/edit/")
    assert edit.context["config"]["value_labels"] == {last.sf_id: "Campaign 1015"}
    detail = client.get(f"/audiences/{audience.pk}/")
    assert "Campaign 1015" in detail.context["criteria_words"]


QUERY = st.dictionaries(
    st.sampled_from(["connection", "object", "field", "q", "page", "other"]),
    st.one_of(
        st.sampled_from(
            [
                "",
                "1",
                "0",
                "-1",
                "1e3",
                "9" * 25,
                "\x00",
                "%",
                "CampaignId",
                "CampaignMember",
                "Account",
                "Industry",
                "1001",
                " 2 ",
            ]
        ),
        st.text(max_size=20),
    ),
    max_size=5,
)


@pytest.fixture
def fuzz_client(client, user, ready_connection):
    describe(ready_connection)
    client.force_login(user)
    return client, ready_connection


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=QUERY, own=st.booleans())
def test_any_query_is_answered_without_a_server_error(fuzz_client, query, own):
    client, connection = fuzz_client
    if own:
        query = {"connection": str(connection.pk), **query}
    response = client.get(URL, query)
    assert response.status_code in (200, 400, 404)
    if response.status_code != 404:
        body = response.json()
        assert ("results" in body) == (response.status_code == 200)


def test_a_long_picklist_comes_a_page_at_a_time(client, user, ready_connection):
    sources = [f"Source {n:03d}" for n in range(1, 121)]
    contact = {**FIELDS["Contact"], "LeadSource": _f("picklist", None, sources)}
    describe(ready_connection, {**FIELDS, "Contact": contact})
    client.force_login(user)
    query = {"connection": ready_connection.pk, "object": "Contact", "field": "LeadSource"}
    pages = [client.get(URL, {**query, "page": n}).json() for n in (1, 2, 3)]
    assert [len(p["results"]) for p in pages] == [50, 50, 20]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [v for p in pages for v, _ in p["results"]] == sources
