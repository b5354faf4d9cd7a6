"""The database itself refuses rows that would break the connection model's rules."""

import pytest
from django.db import IntegrityError, transaction

from connections.models import Connection, Membership


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_budget_percent", 0),
        ("api_budget_percent", 101),
        ("org_usage_ceiling_percent", 0),
        ("org_usage_ceiling_percent", 150),
        ("sync_interval_minutes", 0),
        ("sync_interval_minutes", 1441),
    ],
)
def test_it_refuses_out_of_range_budget_and_interval(connection, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(**{field: value})


def test_it_refuses_a_second_connection_to_the_same_org_in_a_workspace(
    connection_factory, workspace
):
    connection_factory(workspace, org_id="00D5g000000AAAAEAA")
    with pytest.raises(IntegrityError), transaction.atomic():
        connection_factory(workspace, org_id="00D5g000000AAAAEAA")


def test_it_allows_the_same_org_in_two_workspaces_and_many_pending_rows(
    connection_factory, workspace_factory
):
    first, second = workspace_factory(), workspace_factory()
    connection_factory(first, org_id="00D5g000000AAAAEAA")
    connection_factory(second, org_id="00D5g000000AAAAEAA")
    connection_factory(first, org_id="", status=Connection.Status.PENDING)
    connection_factory(first, org_id="", status=Connection.Status.PENDING)
    assert Connection.objects.count() == 4


def test_a_user_is_a_member_of_a_workspace_once(workspace, user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(workspace=workspace, user=user)


def test_new_connections_ingest_the_six_objects_with_the_default_budget(connection):
    assert connection.enabled_objects == [
        "Lead",
        "Contact",
        "Account",
        "Opportunity",
        "Campaign",
        "CampaignMember",
    ]
    assert (connection.api_budget_percent, connection.org_usage_ceiling_percent) == (50, 80)
    assert connection.sync_interval_minutes == 10
