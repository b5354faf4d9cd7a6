"""The API budget guard: it refuses before sending, says when to resume, and costs no query."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import ApiUsage
from connections.salesforce.exceptions import SalesforceBudgetExceeded
from connections.salesforce.types import ApiUsage as Usage
from connections.salesforce.types import CallRecord
from connections.services import salesforce_client_for
from connections.services.usage import ApiBudget, hour_of


def _org(connection, used, maximum=10_000, checked_ago=timedelta(minutes=5)):
    connection.org_api_used, connection.org_api_max = used, maximum
    connection.org_api_checked_at = timezone.now() - checked_ago
    connection.save()
    return connection


def test_it_allows_calls_while_nothing_is_known_about_the_org(connection):
    ApiBudget(connection).check("query")


def test_it_allows_calls_under_both_limits(connection):
    _org(connection, used=7_999)  # ceiling 80%
    ApiBudget(connection).check("query")


def test_it_refuses_at_the_org_ceiling_and_resumes_when_the_reading_is_stale(connection):
    _org(connection, used=8_000)
    with pytest.raises(SalesforceBudgetExceeded) as caught:
        ApiBudget(connection).check("query")
    assert caught.value.error_code == "ORG_USAGE_CEILING"
    assert caught.value.resume_at == connection.org_api_checked_at + timedelta(hours=1)
    assert "80%" in caught.value.message


def test_a_stale_org_reading_lets_one_call_through_to_read_it_again(connection):
    _org(connection, used=9_000, checked_ago=timedelta(hours=2))
    ApiBudget(connection).check("limits")


def test_it_refuses_past_the_connections_own_share(connection):
    _org(connection, used=100)  # budget 50% of 10,000 = 5,000
    now = timezone.now()
    ApiUsage.objects.create(
        connection=connection, hour=hour_of(now) - timedelta(hours=20), calls=3_000
    )
    ApiUsage.objects.create(connection=connection, hour=hour_of(now), calls=1_999)
    ApiUsage.objects.create(
        connection=connection, hour=hour_of(now) - timedelta(hours=30), calls=9_999
    )
    budget = ApiBudget(connection)
    budget.check("query")  # 4,999 used

    budget.record(CallRecord("query", "GET", "/q", 200, None, True))
    with pytest.raises(SalesforceBudgetExceeded) as caught:
        budget.check("query")
    assert caught.value.error_code == "API_BUDGET"
    # the 3,000 calls of 20 hours ago leave the rolling day in 4 hours
    assert caught.value.resume_at == hour_of(now) - timedelta(hours=20) + timedelta(hours=24)


def test_checking_costs_no_query(connection, django_assert_num_queries):
    _org(connection, used=100)
    budget = ApiBudget(connection)
    with django_assert_num_queries(0):
        for _ in range(50):
            budget.check("query")


def test_the_client_is_refused_before_anything_is_sent(connection):
    _org(connection, used=9_500)
    client = salesforce_client_for(connection)
    client.session = None  # any attempt to send would crash with AttributeError
    with pytest.raises(SalesforceBudgetExceeded):
        client.limits()


def test_the_budget_follows_the_org_usage_the_responses_report(connection):
    _org(connection, used=100)
    budget = ApiBudget(connection)
    budget.record(CallRecord("query", "GET", "/q", 200, Usage(8_500, 10_000), True))
    with pytest.raises(SalesforceBudgetExceeded):
        budget.check("query")
