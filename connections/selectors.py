"""Reads for workspaces and connections, always scoped to what a user may see."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from connections.models import Connection, Workspace


def workspaces_for_user(*, user: AbstractBaseUser) -> QuerySet[Workspace]:
    """The workspaces ``user`` is a member of."""
    return Workspace.objects.filter(memberships__user=user).distinct()


def connections_for_user(*, user: AbstractBaseUser) -> QuerySet[Connection]:
    """Every connection in the workspaces ``user`` belongs to (the tenant boundary)."""
    return Connection.objects.filter(workspace__memberships__user=user).select_related("workspace")
