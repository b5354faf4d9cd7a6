"""Customer forms: connecting an org, its sync settings, and disconnecting it."""

from __future__ import annotations

from django import forms

from connections.models import Connection
from connections.salesforce.hosts import my_domain_login_url
from connections.selectors import connections_sharing_username
from connections.services import connection_login_url

# Salesforce keeps five approvals per user per connected app; warn from the fifth on.
SHARED_USER_WARNING_AT = 4


class ConnectForm(forms.Form):
    """Where to sign in (production, sandbox or a My Domain) and an optional label."""

    environment = forms.ChoiceField(
        choices=Connection.Environment.choices,
        initial=Connection.Environment.PRODUCTION,
        widget=forms.RadioSelect,
        label="Salesforce environment",
    )
    my_domain = forms.CharField(
        required=False,
        max_length=255,
        label="My Domain",
        help_text="Only for My Domain, e.g. yourcompany.my.salesforce.com (Setup → My Domain).",
    )
    label = forms.CharField(
        required=False, max_length=200, help_text="A name you will recognise, e.g. Production."
    )
    sf_username = forms.CharField(
        required=False,
        max_length=255,
        label="Salesforce user you will sign in as (optional)",
        help_text="Lets us warn you if this user already holds too many connections.",
    )
    confirm_shared_user = forms.BooleanField(
        required=False, label="I understand; connect with this user anyway"
    )

    def clean(self) -> dict:
        data = super().clean()
        environment = data.get("environment")
        my_domain_url = ""
        if environment == Connection.Environment.MY_DOMAIN:
            try:
                my_domain_url = my_domain_login_url(data.get("my_domain", ""))
            except ValueError as error:
                self.add_error("my_domain", str(error))
                return data
        if environment:
            data["login_url"] = connection_login_url(
                environment=environment, my_domain_url=my_domain_url
            )
        self._check_shared_user(data)
        return data

    def _check_shared_user(self, data: dict) -> None:
        username = data.get("sf_username", "").strip()
        held = connections_sharing_username(username=username)
        self.shared_user_connections = held
        if held >= SHARED_USER_WARNING_AT and not data.get("confirm_shared_user"):
            self.add_error(
                "confirm_shared_user",
                f"{username} already holds {held} connections with primer. Salesforce keeps "
                "five approvals per user for our app and silently revokes the oldest when a "
                "sixth is made, which would break one of them. We recommend a dedicated "
                "integration user for this connection; tick the box to use this one anyway.",
            )


class ConnectionSettingsForm(forms.ModelForm):
    """The API budget, the org-wide ceiling and the sync interval."""

    api_budget_percent = forms.IntegerField(
        min_value=1,
        max_value=100,
        label="API budget (% of the org's daily API calls)",
        help_text="The share of your org's daily API allocation primer's syncs may use.",
    )
    org_usage_ceiling_percent = forms.IntegerField(
        min_value=1,
        max_value=100,
        label="Pause syncs when the org's usage reaches (%)",
        help_text="Counts every tool's calls, not only primer's.",
    )
    sync_interval_minutes = forms.IntegerField(
        min_value=5,
        max_value=1440,
        label="Sync every (minutes)",
        help_text="Between 5 minutes and a day, once the initial load is done.",
    )

    class Meta:
        model = Connection
        fields = ["api_budget_percent", "org_usage_ceiling_percent", "sync_interval_minutes"]


class DisconnectForm(forms.Form):
    """An explicit confirmation, and an explicit choice to delete the copied data."""

    confirm = forms.BooleanField(required=True, label="Yes, disconnect this org")
    delete_data = forms.BooleanField(
        required=False,
        label="Also delete the Salesforce records primer copied from this org",
        help_text="Leave unticked to keep them: reconnecting later resumes where syncing stopped.",
    )
