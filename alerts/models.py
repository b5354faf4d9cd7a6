"""Alerts: one row per incident of a connection, the emails sent about it, and who gets them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from connections.models import Connection, Workspace


class Alert(models.Model):
    """One incident of one connection, from the moment it is seen until it is resolved.

    At most one alert per connection and kind is open at a time (a database constraint), so an
    incident that persists for hours sends one email, not one every sync.
    """

    class Kind(models.TextChoices):
        NEEDS_REAUTH = "needs_reauth", "Connection needs reconnecting"
        CONNECTION_ERROR = "connection_error", "Connection stopped"
        SYNC_FAILED = "sync_failed", "Sync failed or incomplete"
        RUN_PAUSED = "run_paused", "Sync paused on the API budget"
        APPROVAL_LIMIT = "approval_limit", "Salesforce approval limit near"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="alerts")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    message = models.TextField(help_text="What happened, in plain words.")
    fix = models.TextField(blank=True, help_text="What to do about it.")
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_per_kind",
            )
        ]
        indexes = [models.Index(fields=["workspace", "-opened_at"], name="alert_recent_idx")]

    def __str__(self) -> str:
        return f"{self.connection}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class AlertEmail(models.Model):
    """An email sent (or attempted) about an alert: when it opened or when it was resolved."""

    class Event(models.TextChoices):
        OPENED = "opened", "Opened"
        RESOLVED = "resolved", "Resolved"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="emails")
    event = models.CharField(max_length=16, choices=Event.choices)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField()
    error = models.TextField(blank=True, help_text="Why sending failed; empty when it was sent.")

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.get_event_display()}: {self.subject}"


class AlertPreference(models.Model):
    """Whether a member of a workspace gets alert emails. Without a row, owners do and other
    members do not; a row overrides that either way."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="alert_preferences"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preferences"
    )
    email = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="alert_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace}: {'email' if self.email else 'no email'}"
