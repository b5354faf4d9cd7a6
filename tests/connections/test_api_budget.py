"""The API budget guard: it refuses before sending, says when to resume, and costs no query."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.models import ApiUsage, OrgUsage
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


def _twin(connection_factory, connection, **fields):
    """A second connection to the same org (another workspace, its own budget)."""
    return connection_factory(org_id=connection.org_id, **fields)


def _calls_until_refused(budgets, limit=1_000):
    made = 0
    while made < limit:
        try:
            budgets[made % len(budgets)].check("query")
        except SalesforceBudgetExceeded:
            return made
        made += 1
    return made


@pytest.mark.parametrize("ceiling", [30, 60])
def test_two_connections_of_one_org_never_pass_its_ceiling(connection, connection_factory, ceiling):
    twin = _twin(connection_factory, connection, org_usage_ceiling_percent=ceiling)
    connection.org_usage_ceiling_percent = ceiling
    _org(connection, used=0, maximum=100)
    assert _calls_until_refused([ApiBudget(connection), ApiBudget(twin)]) == ceiling
    assert OrgUsage.objects.get(org_key=connection.org_id).used == ceiling


def test_the_first_calls_of_an_org_nobody_has_read_go_one_at_a_time(connection, connection_factory):
    twin = _twin(connection_factory, connection)
    first = ApiBudget(connection)
    first.check("limits")  # reads the org's usage: the probe
    waits = []

    def answer_meanwhile(seconds):
        waits.append(seconds)
        first.record(CallRecord("limits", "GET", "/limits", 200, Usage(10, 100), True))

    second = ApiBudget(twin, sleep=answer_meanwhile)
    second.check("query")
    assert len(waits) == 1  # it waited for the probe's answer, then went
    assert OrgUsage.objects.get(org_key=connection.org_id).used == 11


def test_the_first_call_of_an_unknown_org_past_its_ceiling_is_the_only_one(
    connection, connection_factory
):
    twin = _twin(connection_factory, connection)
    first = ApiBudget(connection)
    first.check("limits")
    first.record(CallRecord("limits", "GET", "/limits", 200, Usage(95, 100), True))
    with pytest.raises(SalesforceBudgetExceeded):
        ApiBudget(twin).check("query")


def test_a_reading_never_lowers_the_calls_still_in_flight(connection):
    _org(connection, used=0, maximum=1_000)
    budget = ApiBudget(connection)
    for _ in range(5):
        budget.check("query")
    # The first answer reports only itself: four more are on their way.
    budget.record(CallRecord("query", "GET", "/q", 200, Usage(1, 1_000), True))
    org = OrgUsage.objects.get(org_key=connection.org_id)
    assert (org.used, len(org.in_flight)) == (5, 4)


def test_a_call_that_got_no_answer_stays_counted(connection):
    _org(connection, used=0, maximum=1_000)
    budget = ApiBudget(connection)
    budget.check("query")
    budget.release()
    org = OrgUsage.objects.get(org_key=connection.org_id)
    assert (org.used, org.in_flight) == (1, {})
    assert ApiUsage.objects.get(connection=connection).calls == 1


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


def test_a_call_whose_worker_died_stops_counting_as_in_flight(connection, connection_factory):
    _org(connection, used=0, maximum=1_000)
    dead = ApiBudget(connection, probe_seconds=0)  # its reservation lapses at once
    dead.check("query")  # ... and then its worker is killed: no answer, no release
    alive = ApiBudget(_twin(connection_factory, connection))
    alive.check("query")
    alive.record(CallRecord("query", "GET", "/q", 200, Usage(2, 1_000), True))
    org = OrgUsage.objects.get(org_key=connection.org_id)
    assert (org.used, org.in_flight) == (2, {})
