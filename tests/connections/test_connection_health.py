"""Every auth failure becomes a status with a cause and a fix in plain words."""

import pytest

from connections.models import Connection
from connections.problems import PROBLEMS, problem_for
from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceError,
    SalesforceInstanceNotAllowed,
    SalesforcePermissionError,
)
from connections.services import connection_mark_auth_failure

AUTH_CASES = [
    ("token_revoked", "needs_reauth"),
    ("inactive_user", "needs_reauth"),
    ("authentication_failure", "needs_reauth"),
    ("high_assurance", "needs_reauth"),
    ("app_blocked", "needs_reauth"),
    ("ip_restricted", "needs_reauth"),
    ("not_approved", "needs_reauth"),
    ("session_invalid", "needs_reauth"),
    ("invalid_client", "error"),
]


@pytest.mark.parametrize(("reason", "status"), AUTH_CASES)
def test_auth_failures_set_the_status_reason_cause_and_fix(connection, reason, status):
    connection_mark_auth_failure(
        connection=connection, error=SalesforceAuthError("x", reason=reason)
    )
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.status, stored.status_reason) == (status, reason)
    assert stored.status_message
    assert stored.status_fix
    assert stored.status_changed_at is not None
    assert "{user}" not in stored.status_message


@pytest.mark.parametrize(
    ("reason", "expected"), [("api_disabled", "API Enabled"), ("org_api_disabled", "edition")]
)
def test_permission_failures_are_errors_with_the_fix(connection, reason, expected):
    error = SalesforcePermissionError("API is disabled for this User", reason=reason)
    connection_mark_auth_failure(connection=connection, error=error)
    stored = Connection.objects.get(pk=connection.pk)
    assert (stored.status, stored.status_reason) == ("error", reason)
    assert expected in stored.status_message + stored.status_fix


def test_the_sixth_approval_is_named_as_a_cause_of_revocation():
    problem = problem_for(SalesforceAuthError("expired", reason="token_revoked"))
    assert "sixth" in problem.cause
    assert "integration user" in problem.fix


def test_a_blocked_app_says_where_to_unblock_it():
    problem = problem_for(SalesforceAuthError("blocked", reason="app_blocked"))
    assert "OAUTH_APP_BLOCKED" in problem.cause
    assert "Connected Apps OAuth Usage" in problem.fix


def test_an_untrusted_host_and_surprises_have_a_cause_and_fix_too():
    assert problem_for(SalesforceInstanceNotAllowed("x")).reason == "instance_not_allowed"
    surprise = problem_for(SalesforceError("teapot", status=418))
    assert (surprise.status, surprise.reason) == ("error", "unexpected")
    assert "teapot" in surprise.cause


def test_every_reason_has_a_cause_and_a_fix():
    for reason, (status, cause, fix) in PROBLEMS.items():
        assert status in ("needs_reauth", "error"), reason
        assert cause.strip(), reason
        assert fix.strip(), reason


def test_a_disconnected_connection_stays_disconnected(connection_factory):
    connection = connection_factory(status=Connection.Status.DISCONNECTED)
    connection_mark_auth_failure(
        connection=connection, error=SalesforceAuthError("x", reason="token_revoked")
    )
    assert Connection.objects.get(pk=connection.pk).status == "disconnected"
