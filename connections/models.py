"""Workspaces (the tenant boundary), their members, and their Salesforce connections."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from connections.fields import EncryptedTextField
from connections.gate import validate_login_host

DEFAULT_OBJECTS = ["Lead", "Contact", "Account", "Opportunity", "Campaign", "CampaignMember"]


def default_objects() -> list[str]:
    """The objects a new connection ingests."""
    return list(DEFAULT_OBJECTS)


class Workspace(models.Model):
    """A customer account. Every customer page is limited to its members."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="workspaces"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's membership of a workspace."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace}"


class Connection(models.Model):
    """One Salesforce org connected to a workspace over OAuth, and how it is synced."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", "Production"
        SANDBOX = "sandbox", "Sandbox"
        MY_DOMAIN = "my_domain", "My Domain"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        NEEDS_REAUTH = "needs_reauth", "Needs reconnecting"
        PAUSED = "paused", "Paused"
        DISCONNECTED = "disconnected", "Disconnected"
        ERROR = "error", "Error"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="connections")
    label = models.CharField(max_length=200)
    environment = models.CharField(
        max_length=16, choices=Environment.choices, default=Environment.PRODUCTION
    )
    login_host = models.URLField(
        max_length=255,
        help_text="Where OAuth happens, e.g. https://login.salesforce.com",
        # The same credential gate the client and the OAuth calls use (invariant 11).
        validators=[validate_login_host],
    )
    instance_url = models.URLField(max_length=255, blank=True)
    org_id = models.CharField("Salesforce org id", max_length=18, blank=True)
    sf_user_id = models.CharField("Salesforce user id", max_length=18, blank=True)
    sf_username = models.CharField("Salesforce username", max_length=255, blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(max_length=64, blank=True)
    status_message = models.TextField(blank=True, help_text="The cause, in plain words.")
    status_fix = models.TextField(blank=True, help_text="What the customer should do about it.")
    status_changed_at = models.DateTimeField(null=True, blank=True)

    api_budget_percent = models.PositiveSmallIntegerField(
        default=50, help_text="Share of the org's daily API allocation syncs may use."
    )
    org_usage_ceiling_percent = models.PositiveSmallIntegerField(
        default=80, help_text="Org-wide API usage past which syncs pause."
    )
    sync_interval_minutes = models.PositiveIntegerField(default=10)
    enabled_objects = models.JSONField(default=default_objects)

    initial_sync_started_at = models.DateTimeField(null=True, blank=True)
    initial_sync_completed_at = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True)

    preflight = models.JSONField(default=dict, blank=True)
    preflight_checked_at = models.DateTimeField(null=True, blank=True)
    # Fields that exist in the org but field-level security hides from the connected user:
    # {"checked_at": ISO, "objects": {"Contact": [{"name": "Birthdate", "label": "Birthdate"}]}}
    field_visibility = models.JSONField(default=dict, blank=True)
    org_api_used = models.PositiveIntegerField(null=True, blank=True)
    org_api_max = models.PositiveIntegerField(null=True, blank=True)
    org_api_checked_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workspace", "label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(api_budget_percent__gte=1, api_budget_percent__lte=100),
                name="connection_budget_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(org_usage_ceiling_percent__gte=1, org_usage_ceiling_percent__lte=100),
                name="connection_ceiling_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(sync_interval_minutes__gte=1, sync_interval_minutes__lte=1440),
                name="connection_sync_interval_range",
            ),
            # One row per org per workspace: reconnecting the same org reuses its row, so its
            # cursors and ingested records carry on.
            models.UniqueConstraint(
                fields=["workspace", "org_id"],
                condition=~Q(org_id=""),
                name="connection_unique_org_per_workspace",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_sync_at"], name="connection_due_idx")]

    def __str__(self) -> str:
        return self.label or self.org_id or f"Connection {self.pk}"

    @property
    def initial_sync_complete(self) -> bool:
        """Whether every required object has finished its initial load."""
        return self.initial_sync_completed_at is not None


class ApiUsage(models.Model):
    """API calls one connection made in one hour; 24 rows give the rolling-24-hour figure."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="api_usage")
    hour = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "hour"], name="api_usage_unique_hour")
        ]

    def __str__(self) -> str:
        return f"{self.connection} {self.hour:%Y-%m-%d %H}:00 {self.calls} calls"


class ReconnectCandidate(models.Model):
    """A new authorization of an org that is already connected, held until the customer
    confirms it may replace the stored one: it signs in as a different Salesforce user, or its
    permission checks fail. Until then the working connection is left exactly as it was.
    Its tokens are encrypted like the connection's, and it is discarded after a while."""

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="reconnect_candidates"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True)
    instance_url = models.URLField(max_length=255)
    identity_url = models.URLField(max_length=255, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    issued_at_ms = models.BigIntegerField(null=True, blank=True)
    environment = models.CharField(max_length=16, choices=Connection.Environment.choices)
    login_host = models.URLField(max_length=255)
    label = models.CharField(max_length=200, blank=True)
    sf_user_id = models.CharField("Salesforce user id", max_length=18, blank=True)
    sf_username = models.CharField("Salesforce username", max_length=255, blank=True)
    checklist = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.sf_username or 'new authorization'} for {self.connection}"


class OrgUsage(models.Model):
    """One Salesforce org's daily API usage as we know it, shared by every connection to it.

    Each counted call is reserved here before it is sent (under a row lock), so connections of
    one org on any number of workers never pass the org's ceiling between two readings.
    """

    # The org id, or "connection:<pk>" for a connection whose org is not known yet.
    org_key = models.CharField(max_length=40, unique=True)
    # Salesforce's last reading, raised by every call reserved since (never lowered by a
    # reading that predates calls still in flight).
    used = models.PositiveIntegerField(default=0)
    maximum = models.PositiveIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # Calls reserved and not yet answered: {reservation key: ISO time it expires}. A worker
    # killed mid-call never answers, so its entry lapses after the request timeout.
    in_flight = models.JSONField(default=dict, blank=True)
    # While the maximum is unknown or the reading stale, one call at a time reads it.
    probe_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.org_key}: {self.used}/{self.maximum or '?'}"
