"""Reconnecting checks the new authorization first: another user, or failing checks, wait
for the customer's choice, and the working connection is untouched until then."""

from unittest import mock

import pytest

from connections.models import Connection, ReconnectCandidate
from connections.services import connection_reconnect_confirm, connection_reconnect_discard
from tests.connections import test_authorize_complete as flow
from tests.connections.test_authorize_complete import ORG, TOKENS, USER, _complete

salesforce = flow.salesforce  # the same patched Salesforce side (a fixture)

pytestmark = pytest.mark.django_db

FAILING = {
    "result": "fail",
    "items": [
        {
            "key": "api_enabled",
            "label": "API Enabled",
            "status": "fail",
            "detail": "noapi@acme.example lacks “API Enabled”.",
            "fix": "Enable it.",
        }
    ],
}


@pytest.fixture
def working(workspace, connection_factory):
    return connection_factory(
        workspace,
        org_id=ORG,
        sf_user_id="0055g00000OTHERAAA",
        sf_username="integration@acme.example",
        refresh_token="5Aep861-WORKING",
        label="Demo org",
    )


def test_another_user_is_held_for_confirmation_and_nothing_changes(working, workspace, salesforce):
    outcome = _complete(workspace, connection_id=working.pk)

    assert outcome.candidate is not None
    assert "not as integration@acme.example" in outcome.review_reasons[0]
    stored = Connection.objects.get(pk=working.pk)
    assert stored.refresh_token == "5Aep861-WORKING"
    assert stored.sf_user_id == "0055g00000OTHERAAA"
    salesforce.revoke.assert_not_called()
    salesforce.enqueue.assert_not_called()
    held = ReconnectCandidate.objects.get()
    assert held.refresh_token == TOKENS.refresh_token  # kept aside, encrypted at rest


def test_the_same_user_with_failing_checks_is_held_too(working, workspace, salesforce):
    Connection.objects.filter(pk=working.pk).update(sf_user_id=USER)
    working.refresh_from_db()
    salesforce.new_checks.return_value = FAILING
    outcome = _complete(workspace, connection_id=working.pk)
    assert outcome.review_reasons == ["Its permission checks fail: API Enabled."]
    assert Connection.objects.get(pk=working.pk).refresh_token == "5Aep861-WORKING"


def test_connecting_an_org_again_from_the_workspace_page_is_held_too(
    working, workspace, salesforce
):
    outcome = _complete(workspace)  # no connection_id: the connect form, same org
    assert outcome.candidate is not None
    assert outcome.connection.pk == working.pk


def test_confirming_replaces_the_authorization_and_honours_the_label(
    working, workspace, salesforce
):
    outcome = _complete(workspace, connection_id=working.pk, label="Demo org (new user)")
    result = connection_reconnect_confirm(candidate=outcome.candidate)
    stored = Connection.objects.get(pk=working.pk)
    assert result.connection.pk == working.pk
    assert stored.refresh_token == TOKENS.refresh_token
    assert stored.sf_user_id == USER
    assert stored.label == "Demo org (new user)"
    salesforce.revoke.assert_called_once_with(
        login_url="https://login.salesforce.com",
        token="5Aep861-WORKING",
        timeout=mock.ANY,
        gate=mock.ANY,
    )
    assert not ReconnectCandidate.objects.exists()


def test_keeping_the_current_one_revokes_the_new_grant(working, workspace, salesforce):
    outcome = _complete(workspace, connection_id=working.pk)
    connection_reconnect_discard(candidate=outcome.candidate)
    assert Connection.objects.get(pk=working.pk).refresh_token == "5Aep861-WORKING"
    salesforce.revoke.assert_called_once_with(
        login_url="https://login.salesforce.com",
        token=TOKENS.refresh_token,
        timeout=mock.ANY,
        gate=mock.ANY,
    )
    assert not ReconnectCandidate.objects.exists()


def test_a_disconnected_row_is_simply_reconnected(working, workspace, salesforce):
    Connection.objects.filter(pk=working.pk).update(status="disconnected", refresh_token="")
    outcome = _complete(workspace, connection_id=working.pk)
    assert outcome.candidate is None
    assert Connection.objects.get(pk=working.pk).sf_user_id == USER


def test_the_label_typed_when_connecting_a_known_org_is_honoured(working, workspace, salesforce):
    Connection.objects.filter(pk=working.pk).update(sf_user_id=USER)
    _complete(workspace, label="Production (marketing)")
    assert Connection.objects.get(pk=working.pk).label == "Production (marketing)"
