"""Reads for alerts, scoped to the workspaces a user belongs to."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from alerts.models import Alert
from alerts.services import alert_receives_email
from connections.selectors import workspaces_for_user


def alerts_for_user(*, user: AbstractBaseUser) -> QuerySet[Alert]:
    """Alerts of every workspace ``user`` is a member of."""
    return Alert.objects.filter(workspace__in=workspaces_for_user(user=user)).select_related(
        "connection", "workspace"
    )


def alert_settings_for_user(*, user: AbstractBaseUser) -> list[dict]:
    """Per workspace of ``user``: whether they get its alert emails."""
    return [
        {"workspace": w, "email": alert_receives_email(workspace=w, user=user)}
        for w in workspaces_for_user(user=user).order_by("name")
    ]
