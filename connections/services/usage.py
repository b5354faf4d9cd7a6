"""API usage: recording every counted call, and the budget guard that refuses calls past the
customer's limits before they are sent.

Two limits (architecture "Decisions", 4): the org-wide ceiling (syncs pause when the org's own
usage, as Salesforce reports it in ``Sforce-Limit-Info``, reaches ``org_usage_ceiling_percent``
of its daily maximum) and this connection's share (its own calls in the rolling 24 hours may
not exceed ``api_budget_percent`` of that maximum).

Both are exact: every counted call is *reserved* before it is sent, under a lock on the org's
``OrgUsage`` row, which every connection to that org (on any worker) shares. A call is made
only if the org's known usage plus one stays within the ceiling and the connection's calls plus
one within its share. While the org's maximum is unknown (or its reading stale and at the
ceiling) one call at a time, org-wide, reads it; the others wait for its answer.

Reference: https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from connections.models import ApiUsage, Connection, OrgUsage
from connections.salesforce.exceptions import SalesforceBudgetExceeded
from connections.salesforce.types import CallRecord, UsageRecorder

# How long a reading of the org's usage stays authoritative: past it, one call (org-wide) is
# let through to read the usage afresh, so a paused connection notices when the org has calls
# again.
ORG_USAGE_FRESH_FOR = timedelta(hours=1)
# How often a call waiting for another call's reading of the org looks again.
PROBE_POLL_SECONDS = 0.1


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
    """The budget guard (``check``: reserve a call before it is sent), the usage recorder
    (``record``: its response) and ``release`` (it got no response) of one client."""

    def __init__(
        self,
        connection: Connection,
        *,
        then: UsageRecorder | None = None,
        on_call: Callable[[str], None] | None = None,
        probe_seconds: float = 150.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``probe_seconds``: how long a call may be in flight (the client's timeout, with
        margin): past it, a call that got no answer (its worker died) no longer counts as one
        whose answer is still to come."""
        self.connection = connection
        self.then = then
        self.on_call = on_call
        self.probe_seconds = probe_seconds
        self.sleep = sleep
        self.org_key = connection.org_id or f"connection:{connection.pk}"
        self._probing = False
        self._token = uuid.uuid4().hex[:12]
        self._sequence = 0
        self._flying: deque[str] = deque()  # this client's reservations awaiting an answer
        since = window_start(timezone.now())
        rows = ApiUsage.objects.filter(connection=connection, hour__gte=since)
        self.buckets: dict[datetime, int] = defaultdict(int)
        for hour, calls in rows.values_list("hour", "calls"):
            self.buckets[hour] += calls

    def used_24h(self, now: datetime | None = None) -> int:
        """This connection's calls in the rolling 24 hours (as this client counted them)."""
        since = window_start(now or timezone.now())
        return sum(calls for hour, calls in self.buckets.items() if hour >= since)

    # -- before a call ----------------------------------------------------------------------
    def check(self, kind: str) -> None:
        """Reserve one call of ``kind``, or raise ``SalesforceBudgetExceeded``. Waits while
        another call of the org is reading its unknown (or stale) usage."""
        waited_until = time.monotonic() + self.probe_seconds
        while not self._reserve():
            if time.monotonic() > waited_until:
                raise SalesforceBudgetExceeded(
                    "Another sync of this org has been reading its API usage for too long.",
                    resume_at=timezone.now() + timedelta(minutes=5),
                    error_code="ORG_USAGE_CEILING",
                )
            self.sleep(PROBE_POLL_SECONDS)
        self.buckets[hour_of(timezone.now())] += 1
        if self.on_call:
            self.on_call(kind)

    def _reserve(self) -> bool:
        """One attempt: True when the call is reserved, False to wait for another's reading."""
        with transaction.atomic():
            org = self._locked_org()
            now = timezone.now()
            verdict = self._verdict(org, now)
            if verdict == "wait":
                return False
            if verdict == "probe":
                org.probe_until = now + timedelta(seconds=self.probe_seconds)
                self._probing = True
            org.used += 1
            self._sequence += 1
            key = f"{self._token}:{self._sequence}"
            org.in_flight = _live(org.in_flight, now)
            org.in_flight[key] = (now + timedelta(seconds=self.probe_seconds)).isoformat()
            self._flying.append(key)
            org.save(update_fields=["used", "in_flight", "probe_until"])
            api_usage_record(connection_id=self.connection.pk, hour=hour_of(now))
        return True

    def _verdict(self, org: OrgUsage, now: datetime) -> str:
        """ "go", "probe" (read the org's usage) or "wait"; raises past a limit."""
        if not org.maximum:
            return self._probe_or_wait(org, now)
        c = self.connection
        self._check_own_budget(now, org.maximum)
        if (org.used + 1) * 100 <= c.org_usage_ceiling_percent * org.maximum:
            return "go"
        if org.checked_at and now - org.checked_at < ORG_USAGE_FRESH_FOR:
            raise SalesforceBudgetExceeded(
                f"The org has used {org.used:,} of its {org.maximum:,} daily API calls, at the "
                f"{c.org_usage_ceiling_percent}% ceiling set for syncs.",
                resume_at=org.checked_at + ORG_USAGE_FRESH_FOR,
                error_code="ORG_USAGE_CEILING",
            )
        return self._probe_or_wait(org, now)

    def _probe_or_wait(self, org: OrgUsage, now: datetime) -> str:
        if org.probe_until and org.probe_until > now:
            return "wait"
        return "probe"

    def _check_own_budget(self, now: datetime, maximum: int) -> None:
        budget = self.connection.api_budget_percent * maximum // 100
        used = self._own_calls(now)
        if used + 1 <= budget:
            return
        raise SalesforceBudgetExceeded(
            f"This connection used {used:,} API calls in the last 24 hours, its budget of "
            f"{self.connection.api_budget_percent}% of the org's {maximum:,}.",
            resume_at=self._budget_frees_at(now, used - budget + 1),
            error_code="API_BUDGET",
        )

    def _own_calls(self, now: datetime) -> int:
        """This connection's calls in the rolling day, from the database (other workers'
        calls included); read under the org's lock, so it cannot change meanwhile."""
        rows = ApiUsage.objects.filter(connection=self.connection, hour__gte=window_start(now))
        self.buckets = defaultdict(int, dict(rows.values_list("hour", "calls")))
        return rows.aggregate(total=Sum("calls"))["total"] or 0

    def _budget_frees_at(self, now: datetime, excess: int) -> datetime:
        """When enough old hourly buckets leave the rolling day to allow ``excess`` calls."""
        freed = 0
        for hour in sorted(h for h in self.buckets if h >= window_start(now)):
            freed += self.buckets[hour]
            if freed >= excess:
                return hour + timedelta(hours=24)
        return hour_of(now) + timedelta(hours=24)

    def _locked_org(self) -> OrgUsage:
        c = self.connection
        org, _ = OrgUsage.objects.get_or_create(
            org_key=self.org_key,
            defaults={
                "used": c.org_api_used or 0,
                "maximum": c.org_api_max,
                "checked_at": c.org_api_checked_at,
            },
        )
        return OrgUsage.objects.select_for_update().get(pk=org.pk)

    # -- after a call -----------------------------------------------------------------------
    def record(self, call: CallRecord) -> None:
        """A reserved call was answered: note the org's usage it reports, then pass it on."""
        if call.counts_against_limit:
            self._answered(call)
        if self.then:
            self.then(call)

    def release(self) -> None:
        """A reserved call got no answer (connection error, timeout): it stays counted (it may
        have reached Salesforce), but is no longer in flight."""
        with transaction.atomic():
            org = self._locked_org()
            self._settle(org)
            org.save(update_fields=["in_flight", "probe_until"])

    def _answered(self, call: CallRecord) -> None:
        now = timezone.now()
        with transaction.atomic():
            org = self._locked_org()
            stale = not org.checked_at or now - org.checked_at >= ORG_USAGE_FRESH_FOR
            probed = self._settle(org)
            if call.usage:
                # The reading counts this call and every call answered before it; calls still
                # in flight come on top. A fresh reading never lowers what we reserved since.
                reading = call.usage.used + len(org.in_flight)
                org.used = reading if (stale or probed) else max(org.used, reading)
                org.maximum, org.checked_at = call.usage.max, now
            org.save(update_fields=["used", "maximum", "checked_at", "in_flight", "probe_until"])
        if call.usage:
            connection_record_org_usage(
                connection=self.connection, used=call.usage.used, maximum=call.usage.max
            )

    def _settle(self, org: OrgUsage) -> bool:
        """Take this client's oldest call off the in-flight list (and end its probe); True if
        it was the probe."""
        org.in_flight = _live(org.in_flight, timezone.now())
        if self._flying:
            org.in_flight.pop(self._flying.popleft(), None)
        probed, self._probing = self._probing, False
        if probed:
            org.probe_until = None
        return probed


def _live(in_flight: dict, now: datetime) -> dict:
    """The in-flight entries that have not lapsed."""
    return {
        key: until
        for key, until in (in_flight or {}).items()
        if datetime.fromisoformat(until) > now
    }
