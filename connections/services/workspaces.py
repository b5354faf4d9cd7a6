"""Writes for workspaces and connections."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from connections.models import Membership, Workspace


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def workspace_create(*, name: str, owner: AbstractBaseUser) -> Workspace:
    """Create a workspace with ``owner`` as its first member."""
    workspace = Workspace.objects.create(name=name, slug=_unique_slug(name))
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    return workspace


def workspace_add_member(
    *, workspace: Workspace, user: AbstractBaseUser, role: str = Membership.Role.MEMBER
) -> Membership:
    """Make ``user`` a member of ``workspace`` (idempotent)."""
    membership, _ = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    return membership
