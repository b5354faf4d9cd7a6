"""allauth hooks: sign-up can be closed, and a new customer gets a workspace of their own."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from connections.services import workspace_create


class AccountAdapter(DefaultAccountAdapter):
    """Sign-in for staff and customers; Salesforce data connections are separate."""

    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUP

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            domain = user.email.split("@")[-1] if user.email else "My"
            workspace_create(name=f"{domain} workspace", owner=user)
        return user
