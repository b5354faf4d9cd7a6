"""Reads for workspaces and connections, always scoped to what a user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from connections.models import ApiUsage, Connection, Workspace


def workspaces_for_user(*, user: AbstractBaseUser) -> QuerySet[Workspace]:
    """The workspaces ``user`` is a member of."""
    return Workspace.objects.filter(memberships__user=user).distinct()


def connections_for_user(*, user: AbstractBaseUser) -> QuerySet[Connection]:
    """Every connection in the workspaces ``user`` belongs to (the tenant boundary)."""
    return Connection.objects.filter(workspace__memberships__user=user).select_related("workspace")


def connections_sharing_username(*, username: str, exclude_pk: int | None = None) -> int:
    """How many live connections (any workspace) sign in as this Salesforce user: Salesforce
    keeps five approvals per user per connected app, and all of ours share one app."""
    if not username:
        return 0
    rows = Connection.objects.filter(sf_username__iexact=username.strip()).exclude(
        status=Connection.Status.DISCONNECTED
    )
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.count()


@dataclass(frozen=True)
class ApiUsageSummary:
    """A connection's API calls in the rolling 24 hours against its budget and the org."""

    calls_24h: int
    budget_percent: int
    budget_calls: int | None
    budget_used_percent: float | None
    org_used: int | None
    org_max: int | None
    org_used_percent: float | None
    ceiling_percent: int
    org_checked_at: datetime | None

    @property
    def over_budget(self) -> bool:
        return self.budget_calls is not None and self.calls_24h >= self.budget_calls

    @property
    def over_ceiling(self) -> bool:
        return self.org_used_percent is not None and self.org_used_percent >= self.ceiling_percent


def connection_api_usage(*, connection: Connection) -> ApiUsageSummary:
    """Today's usage (24 hourly buckets) with the budget and the org's last known usage."""
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    calls = (
        ApiUsage.objects.filter(connection=connection, hour__gte=since).aggregate(n=Sum("calls"))[
            "n"
        ]
        or 0
    )
    org_max = connection.org_api_max
    budget = connection.api_budget_percent * org_max // 100 if org_max else None
    return ApiUsageSummary(
        calls_24h=calls,
        budget_percent=connection.api_budget_percent,
        budget_calls=budget,
        budget_used_percent=min(calls / budget * 100, 100.0) if budget else None,
        org_used=connection.org_api_used,
        org_max=org_max,
        org_used_percent=((connection.org_api_used or 0) / org_max * 100 if org_max else None),
        ceiling_percent=connection.org_usage_ceiling_percent,
        org_checked_at=connection.org_api_checked_at,
    )


def connection_daily_api_calls(*, connection: Connection, days: int = 30) -> dict:
    """API calls per day (UTC) over the last ``days`` days, oldest first, zero-filled."""
    today = timezone.now().date()
    since = timezone.now() - timedelta(days=days)
    rows = (
        ApiUsage.objects.filter(connection=connection, hour__gte=since)
        .annotate(day=TruncDate("hour"))
        .values("day")
        .annotate(n=Sum("calls"))
    )
    found = {row["day"]: row["n"] or 0 for row in rows}
    dates = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return {day: found.get(day, 0) for day in dates}
