"""Evaluation materialises members and records history; syncs refresh ready audiences."""

import pytest
from django.utils import timezone

from audiences import services
from audiences.models import Audience, AudienceEvaluation
from ingestion.models import SyncRun
from ingestion.signals import initial_sync_completed, sync_run_finished

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
def tech(ready_connection, record_factory):
    account = record_factory(
        ready_connection,
        "Account",
        Industry="Technology",
        Name="Acme",
        BillingCountry="United States",
    )
    people = [
        record_factory(
            ready_connection,
            "Contact",
            AccountId=account.sf_id,
            FirstName="Ada",
            LastName="L",
            Email=" Ada@Acme.example ",
            Title="CTO",
            Phone="(415) 555-2671",
        )
        for _ in range(3)
    ]
    audience = services.audience_create(
        workspace=ready_connection.workspace,
        connection=ready_connection,
        name="Tech",
        holds="contacts",
        criteria=TECH,
    )
    return {"account": account, "people": people, "audience": audience}


def test_evaluation_materialises_members_and_summary(tech, django_capture_on_commit_callbacks):
    audience = tech["audience"]
    with django_capture_on_commit_callbacks(execute=True):
        services.audience_evaluate_enqueue(audience=audience, trigger="customer")
    audience.refresh_from_db()
    assert audience.status == Audience.Status.READY
    assert audience.size == 3
    assert set(audience.members.values_list("record_id", flat=True)) == {
        p.pk for p in tech["people"]
    }
    assert audience.summary["by_object"] == {"Contact": 3}
    assert audience.summary["top_industries"] == [["Technology", 3]]
    assert audience.summary["top_countries"] == [["United States", 3]]
    assert audience.summary["matchable_share"] == 1.0
    evaluation = audience.evaluations.get()
    assert (evaluation.size, evaluation.previous_size, evaluation.added) == (3, None, 3)
    assert evaluation.criteria == TECH


def _finish(run_status, connection, sync_run_factory):
    run = sync_run_factory(connection, status=run_status, finished_at=timezone.now())
    sync_run_finished.send(sender=SyncRun, run=run)
    return run


@pytest.mark.parametrize("status", [SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL])
def test_a_good_sync_refreshes_ready_audiences_through_the_task(
    tech, status, record_factory, sync_run_factory, django_capture_on_commit_callbacks
):
    audience, connection = tech["audience"], tech["audience"].connection
    services.audience_evaluate(audience=audience, trigger="customer")
    # The sync deleted one contact, moved another away and brought a new one in.
    gone, moved = tech["people"][0], tech["people"][1]
    gone.is_deleted = True
    gone.save()
    other = record_factory(connection, "Account", Industry="Retail")
    moved.data["AccountId"] = other.sf_id
    moved.save()
    newcomer = record_factory(connection, "Contact", AccountId=tech["account"].sf_id)
    with django_capture_on_commit_callbacks(execute=True):
        run = _finish(status, connection, sync_run_factory)
    audience.refresh_from_db()
    assert audience.size == 2
    assert set(audience.members.values_list("record_id", flat=True)) == {
        tech["people"][2].pk,
        newcomer.pk,
    }
    latest = audience.evaluations.first()
    assert latest.trigger == AudienceEvaluation.Trigger.SYNC
    assert latest.sync_run_id == run.pk
    assert (latest.previous_size, latest.size, latest.change) == (3, 2, -1)
    assert (latest.added, latest.removed) == (1, 2)


@pytest.mark.parametrize("status", [SyncRun.Status.FAILED, SyncRun.Status.PAUSED])
def test_a_failed_or_paused_sync_refreshes_nothing(
    tech, status, sync_run_factory, django_capture_on_commit_callbacks
):
    services.audience_evaluate(audience=tech["audience"], trigger="customer")
    with django_capture_on_commit_callbacks(execute=True):
        _finish(status, tech["audience"].connection, sync_run_factory)
    assert tech["audience"].evaluations.count() == 1


def test_drafts_and_archived_audiences_are_not_refreshed(
    tech, sync_run_factory, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _finish(SyncRun.Status.SUCCEEDED, tech["audience"].connection, sync_run_factory)
    assert not tech["audience"].evaluations.exists()


def test_initial_sync_completion_refreshes_csv_only_audiences(
    tech, django_capture_on_commit_callbacks
):
    audience = tech["audience"]
    services.audience_evaluate(audience=audience, trigger="customer")
    with django_capture_on_commit_callbacks(execute=True):
        initial_sync_completed.send(
            sender=type(audience.connection), connection=audience.connection
        )
    assert audience.evaluations.count() == 2


def test_archiving_drops_members(tech):
    services.audience_evaluate(audience=tech["audience"], trigger="customer")
    services.audience_archive(audience=tech["audience"])
    assert not tech["audience"].members.exists()
