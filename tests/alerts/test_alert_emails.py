"""Alerts: one email when a problem starts, none while it lasts, one when it is resolved."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alerts.models import Alert, AlertEmail
from alerts.services import alert_preference_set
from connections.models import Connection, Membership
from connections.problems import problem_for_reason
from connections.services import connection_mark_active, connection_mark_problem
from ingestion.models import SyncRun
from ingestion.services.runs import sync_run_finish, sync_run_pause, sync_run_resume

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a block and then its on-commit callbacks (where the signals are sent)."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            action()

    return run


def _revoke(connection):
    problem = problem_for_reason("token_revoked", user=connection.sf_username)
    connection_mark_problem(connection=connection, problem=problem)


def test_a_revoked_connection_emails_its_owner_once_and_once_more_when_reconnected(
    connection, commit
):
    commit(lambda: _revoke(connection))
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["customer@acme.example"]
    assert email.subject == "Acme production: needs reconnecting"
    assert "What happened: Salesforce no longer accepts" in email.body
    assert "What to do: Reconnect." in email.body
    assert f"Open the connection: http://localhost:8000/connections/{connection.pk}/" in email.body

    for _ in range(3):  # every sync attempt finds it still revoked
        commit(lambda: _revoke(connection))
    assert len(mail.outbox) == 1

    commit(lambda: connection_mark_active(connection=connection))
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Resolved: Acme production - needs reconnecting"
    assert "reconnected and works again" in mail.outbox[1].body
    alert = Alert.objects.get()
    assert alert.resolved_at is not None
    assert list(alert.emails.values_list("event", flat=True).order_by("sent_at")) == [
        "opened",
        "resolved",
    ]


def test_repeated_failed_syncs_send_one_email_until_a_sync_succeeds(
    connection, sync_run_factory, commit
):
    for _ in range(4):  # a failure every ten minutes
        run = sync_run_factory(connection, status=SyncRun.Status.RUNNING)
        commit(
            lambda run=run: sync_run_finish(
                run=run,
                status=SyncRun.Status.PARTIAL,
                code="objects_skipped",
                message="Campaign: INSUFFICIENT_ACCESS: no access",
            )
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Acme production: sync finished incomplete"
    assert "Some objects could not be read" in mail.outbox[0].body
    assert "INSUFFICIENT_ACCESS" not in mail.outbox[0].body

    run = sync_run_factory(connection, status=SyncRun.Status.RUNNING)
    commit(lambda: sync_run_finish(run=run, status=SyncRun.Status.SUCCEEDED))
    assert [m.subject for m in mail.outbox][1] == (
        "Resolved: Acme production - sync finished incomplete"
    )
    assert Alert.objects.filter(resolved_at=None).count() == 0


def test_a_run_paused_on_the_budget_alerts_once_across_its_resumes(
    connection, sync_run_factory, commit, monkeypatch
):
    # The resumed slices are not executed here: the test plays the worker's part.
    monkeypatch.setattr("ingestion.services.runs.hand_to_workers", lambda run: None)
    run = sync_run_factory(connection, status=SyncRun.Status.RUNNING)
    resume = timezone.now() + timedelta(hours=2)
    for _ in range(3):  # paused, resumed on schedule, paused again: one incident
        commit(
            lambda: sync_run_pause(
                run=run, code="api_budget", message="budget used", resume_at=resume
            )
        )
        commit(lambda: sync_run_resume(run=run))
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Acme production: sync paused on the API budget"
    assert "raise the API budget in Settings" in mail.outbox[0].body

    run.refresh_from_db()
    commit(lambda: sync_run_finish(run=run, status=SyncRun.Status.SUCCEEDED))
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.startswith("Resolved: ")


def test_owners_may_opt_out_and_members_opt_in(connection, user_factory, commit):
    member = user_factory("analyst@acme.example")
    Membership.objects.create(workspace=connection.workspace, user=member)
    owner = connection.workspace.memberships.get(role="owner").user
    alert_preference_set(workspace=connection.workspace, user=owner, email=False)
    alert_preference_set(workspace=connection.workspace, user=member, email=True)

    commit(lambda: _revoke(connection))

    assert [m.to for m in mail.outbox] == [["analyst@acme.example"]]


def test_no_email_without_recipients_but_the_alert_is_still_listed(connection, commit):
    owner = connection.workspace.memberships.get(role="owner").user
    alert_preference_set(workspace=connection.workspace, user=owner, email=False)
    commit(lambda: _revoke(connection))
    assert mail.outbox == []
    assert Alert.objects.filter(kind="needs_reauth", resolved_at=None).count() == 1


def test_the_approval_limit_alerts_when_a_user_holds_four_connections(
    connection_factory, workspace, commit
):
    def connect_four():
        for n in range(4):
            connection_factory(workspace, label=f"Org {n}", sf_username="shared@acme.example")

    commit(connect_four)
    alerts = Alert.objects.filter(kind="approval_limit")
    assert alerts.count() == 4  # each connection of that user is at risk
    assert "shared@acme.example holds 4 connections" in alerts.first().message


def test_the_fourth_connection_of_a_user_alerts_the_earlier_three_too(
    connection_factory, workspace, commit
):
    for n in range(3):
        commit(lambda n=n: connection_factory(workspace, sf_username="shared@acme.example"))
    assert not Alert.objects.exists()
    commit(lambda: connection_factory(workspace, sf_username="shared@acme.example"))
    assert Alert.objects.filter(kind="approval_limit", resolved_at=None).count() == 4


def test_disconnecting_closes_open_alerts_without_an_email(connection, commit):
    commit(lambda: _revoke(connection))

    def disconnect():
        connection.status = Connection.Status.DISCONNECTED
        connection.save()

    commit(disconnect)
    assert len(mail.outbox) == 1
    assert Alert.objects.get().resolution == "The connection was disconnected."


def test_a_failing_mail_server_is_recorded_not_raised(connection, commit, settings):
    settings.EMAIL_BACKEND = "tests.alerts.broken_mail.Backend"
    commit(lambda: _revoke(connection))
    sent = AlertEmail.objects.get()
    assert "refused" in sent.error
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
