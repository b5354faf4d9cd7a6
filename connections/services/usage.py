"""API usage: recording every counted call, and the budget guard that refuses calls past the
customer's limits before they are sent.

Two limits (architecture "Decisions", 4): the org-wide ceiling (syncs pause when the org's own
usage, as Salesforce reports it in ``Sforce-Limit-Info``, reaches ``org_usage_ceiling_percent``
of its daily maximum) and this connection's share (its own calls in the rolling 24 hours may
not exceed ``api_budget_percent`` of that maximum). The guard loads the 24-hour history once
per client and counts in memory afterwards, so checking costs no query.

Reference: https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connections.models import ApiUsage, Connection
from connections.salesforce.exceptions import SalesforceBudgetExceeded
from connections.salesforce.types import CallRecord, UsageRecorder

# How long a reading of the org's usage stays authoritative: past it, one call is let through
# to read the usage afresh, so a paused connection notices when the org has calls again.
ORG_USAGE_FRESH_FOR = timedelta(hours=1)


def hour_of(moment: datetime) -> datetime:
    """The hourly bucket a moment falls in."""
    return moment.replace(minute=0, second=0, microsecond=0)


def window_start(now: datetime) -> datetime:
    """The first of the 24 hourly buckets that make up the rolling day ending now."""
    return hour_of(now) - timedelta(hours=23)


def api_usage_record(*, connection_id: int, hour: datetime, calls: int = 1) -> None:
    """Add calls to a connection's hourly bucket (F() increment; safe under concurrency)."""
    bucket = ApiUsage.objects.filter(connection_id=connection_id, hour=hour)
    if bucket.update(calls=F("calls") + calls):
        return
    try:
        with transaction.atomic():
            ApiUsage.objects.create(connection_id=connection_id, hour=hour, calls=calls)
    except IntegrityError:
        bucket.update(calls=F("calls") + calls)


def connection_record_org_usage(*, connection: Connection, used: int, maximum: int) -> None:
    """Store the org's usage as Salesforce last reported it."""
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        org_api_used=used, org_api_max=maximum, org_api_checked_at=now
    )
    connection.org_api_used, connection.org_api_max = used, maximum
    connection.org_api_checked_at = now


class ApiBudget:
    """The usage recorder and the budget guard of one client (``record`` and ``check``)."""

    def __init__(self, connection: Connection, *, then: UsageRecorder | None = None) -> None:
        self.connection = connection
        self.then = then
        since = window_start(timezone.now())
        rows = ApiUsage.objects.filter(connection=connection, hour__gte=since)
        self.buckets: dict[datetime, int] = defaultdict(int)
        for hour, calls in rows.values_list("hour", "calls"):
            self.buckets[hour] += calls

    def used_24h(self, now: datetime | None = None) -> int:
        """This connection's calls in the rolling 24 hours."""
        since = window_start(now or timezone.now())
        return sum(calls for hour, calls in self.buckets.items() if hour >= since)

    def record(self, call: CallRecord) -> None:
        """Count a call in its hourly bucket and keep the org's reported usage."""
        if call.counts_against_limit:
            hour = hour_of(timezone.now())
            self.buckets[hour] += 1
            api_usage_record(connection_id=self.connection.pk, hour=hour)
        if call.usage:
            connection_record_org_usage(
                connection=self.connection, used=call.usage.used, maximum=call.usage.max
            )
        if self.then:
            self.then(call)

    def check(self, kind: str) -> None:
        """Raise ``SalesforceBudgetExceeded`` if a call of ``kind`` may not be made now."""
        maximum = self.connection.org_api_max
        if not maximum:
            return  # nothing known yet: the first response tells us
        now = timezone.now()
        self._check_org_ceiling(now, maximum)
        self._check_own_budget(now, maximum)

    def _check_org_ceiling(self, now: datetime, maximum: int) -> None:
        c = self.connection
        checked = c.org_api_checked_at
        if not checked or now - checked >= ORG_USAGE_FRESH_FOR:
            return
        if (c.org_api_used or 0) * 100 < c.org_usage_ceiling_percent * maximum:
            return
        raise SalesforceBudgetExceeded(
            f"The org has used {c.org_api_used:,} of its {maximum:,} daily API calls, at or past "
            f"the {c.org_usage_ceiling_percent}% ceiling set for syncs.",
            resume_at=checked + ORG_USAGE_FRESH_FOR,
            error_code="ORG_USAGE_CEILING",
        )

    def _check_own_budget(self, now: datetime, maximum: int) -> None:
        budget = self.connection.api_budget_percent * maximum // 100
        used = self.used_24h(now)
        if used < budget:
            return
        raise SalesforceBudgetExceeded(
            f"This connection used {used:,} API calls in the last 24 hours, its budget of "
            f"{self.connection.api_budget_percent}% of the org's {maximum:,}.",
            resume_at=self._budget_frees_at(now, used - budget + 1),
            error_code="API_BUDGET",
        )

    def _budget_frees_at(self, now: datetime, excess: int) -> datetime:
        """When enough old hourly buckets leave the rolling day to allow ``excess`` calls."""
        freed = 0
        for hour in sorted(h for h in self.buckets if h >= window_start(now)):
            freed += self.buckets[hour]
            if freed >= excess:
                return hour + timedelta(hours=24)
        return hour_of(now) + timedelta(hours=24)
