"""Invariant 13: what the edit page loads, an unchanged save stores unchanged (criteria tree,
holds, include/exclude lists, name, description); a closed gate keeps stored criteria."""

import json
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from audiences import services
from audiences.models import Audience, AudienceMember, CsvList
from ingestion.services.cursors import connection_resync
from tests.audiences.conftest import describe

CRITERIA = {
    "type": "group",
    "match": "all",
    "children": [
        {"type": "condition", "object": "Contact", "field": "Title", "operator": "contains",
         "value": "VP"},
        {"type": "condition", "object": "Account", "field": "Industry", "operator": "any_of",
         "value": ["Technology", "Finance"]},
        {"type": "related", "object": "Opportunity", "conditions": [
            {"type": "condition", "object": "Opportunity", "field": "StageName",
             "operator": "equals", "value": "Closed Won"}]},
    ],
}  # fmt: skip


@pytest.fixture
def saved(ready_connection, record_factory, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = ready_connection
    tech = record_factory(c, "Account", Industry="Technology", Name="Acme")
    record_factory(c, "Opportunity", AccountId=tech.sf_id, StageName="Closed Won")
    for i in range(3):
        record_factory(c, "Contact", AccountId=tech.sf_id, Title="VP Sales", LastName=f"P{i}")
    lists = [
        CsvList.objects.create(
            workspace=c.workspace, name=n, kind="people", file="x.csv", status="ready"
        )
        for n in ("In", "Out")
    ]
    audience = services.audience_create(
        workspace=c.workspace, connection=c, name="VPs at tech", description="  For Q3 ads",
        holds="contacts", criteria=CRITERIA, exclude=[lists[1]], user=user,
    )  # fmt: skip
    services.audience_evaluate(audience=audience, trigger="customer")
    audience.refresh_from_db()
    return audience


def _config(page: str) -> dict:
    found = re.search(r'<script id="builder-config" type="application/json">(.*?)</script>', page)
    return json.loads(found.group(1))


def _unchanged_post(client, audience) -> dict:
    """What a browser posts when the customer presses Save without touching anything."""
    page = client.get(reverse("audiences:edit", args=[audience.pk])).content.decode()
    config = _config(page)
    data = {
        "name": unescape(re.search(r'name="name" value="([^"]*)"', page).group(1)),
        "description": unescape(re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page, re.S)
                                .group(1)),
        "holds": re.search(r'<option value="(\w+)" selected>', page).group(1),
        "criteria": json.dumps(config["criteria"]) if config["criteria"] else "{}",
        "exclude": re.findall(r'name="exclude" value="(\d+)"[^>]*checked', page),
        "include": re.findall(r'name="include" value="(\d+)"[^>]*checked', page),
        "save": "1",
    }  # fmt: skip
    return data


def test_the_edit_page_hands_the_builder_the_stored_tree_itself(client, user, saved):
    client.force_login(user)
    page = client.get(reverse("audiences:edit", args=[saved.pk])).content.decode()
    assert _config(page)["criteria"] == CRITERIA


def test_an_unchanged_save_stores_everything_unchanged(client, user, saved):
    client.force_login(user)
    before = (saved.criteria, saved.holds, saved.name, saved.description)
    uses = sorted(saved.list_uses.values_list("csv_list__name", "mode"))
    response = client.post(
        reverse("audiences:edit", args=[saved.pk]), _unchanged_post(client, saved)
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.criteria, saved.holds, saved.name, saved.description) == before
    assert sorted(saved.list_uses.values_list("csv_list__name", "mode")) == uses


def test_an_unchanged_save_and_build_keeps_the_size(
    client, user, saved, django_capture_on_commit_callbacks
):
    client.force_login(user)
    size = saved.size
    assert size == 3
    data = {**_unchanged_post(client, saved), "run": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("audiences:edit", args=[saved.pk]), data)
    saved.refresh_from_db()
    assert saved.size == size
    assert AudienceMember.objects.filter(audience=saved).count() == size


def test_a_list_in_use_stays_selectable_while_it_is_re_imported(client, user, saved):
    CsvList.objects.filter(name="Out").update(status="importing")
    client.force_login(user)
    client.post(reverse("audiences:edit", args=[saved.pk]), _unchanged_post(client, saved))
    assert list(saved.list_uses.values_list("csv_list__name", flat=True)) == ["Out"]


def test_a_locked_builder_keeps_the_stored_criteria_and_says_so(client, user, saved):
    # The connection's data was deleted and it is connecting again: the gate is closed.
    connection = saved.connection
    connection.initial_sync_completed_at = None
    connection.save()
    client.force_login(user)
    page = client.get(reverse("audiences:edit", args=[saved.pk])).content.decode()
    assert _config(page)["gate"]["locked"] is True
    data = {**_unchanged_post(client, saved), "criteria": "{}"}  # the disabled builder
    response = client.post(reverse("audiences:edit", args=[saved.pk]), data, follow=True)
    saved.refresh_from_db()
    assert saved.criteria == CRITERIA
    assert "filters were kept exactly as they were" in response.content.decode()


def test_a_full_or_partial_resync_does_not_lock_the_builder(client, user, saved):
    client.force_login(user)
    for sobjects in (["Contact"], None):
        run = connection_resync(
            connection=saved.connection, trigger="customer", sobjects=sobjects, full=not sobjects
        )
        page = client.get(reverse("audiences:edit", args=[saved.pk])).content.decode()
        assert _config(page)["gate"]["locked"] is False
        run.status = "succeeded"
        run.finished_at = timezone.now()
        run.save()


def test_the_detail_page_says_the_criteria_in_words(client, user, saved):
    client.force_login(user)
    page = client.get(reverse("audiences:detail", args=[saved.pk])).content.decode()
    assert (
        "Contact Title contains VP and Account Industry is Technology or Finance and has an "
        "opportunity where StageName is Closed Won"
    ) in unescape(page)


def test_a_group_reads_in_brackets(client, user, ready_connection):
    describe(ready_connection)
    criteria = {"type": "group", "match": "any", "children": [
        {"type": "group", "match": "all", "children": [
            {"type": "condition", "object": "Account", "field": "AnnualRevenue",
             "operator": "gt", "value": 1000},
            {"type": "condition", "object": "Account", "field": "IsPartner__c",
             "operator": "is_true", "value": None}]},
        {"type": "condition", "object": "Contact", "field": "CreatedDate",
         "operator": "in_last_n_days", "value": 30}]}  # fmt: skip
    audience = services.audience_create(
        workspace=ready_connection.workspace, connection=ready_connection, name="A",
        criteria=criteria,
    )  # fmt: skip
    client.force_login(user)
    page = unescape(client.get(reverse("audiences:detail", args=[audience.pk])).content.decode())
    assert (
        "(Account AnnualRevenue is more than 1000 and Account IsPartner__c is true) or "
        "Contact CreatedDate is in the last 30 days"
    ) in page
    assert Audience.objects.get(pk=audience.pk).criteria == criteria
