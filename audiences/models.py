"""Audiences: who they hold, their criteria, CSV lists, materialised members and history."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from connections.models import Connection, Workspace
from ingestion.models import IngestedRecord


class Audience(models.Model):
    """A set of people or companies built from Salesforce criteria and CSV lists.

    ``criteria`` is a tree of AND/OR groups of conditions (shape in ``audiences/criteria.py``).
    Members are materialised in ``AudienceMember`` so size, preview and export are cheap and
    each evaluation can be diffed against the last.
    """

    class Holds(models.TextChoices):
        PEOPLE = "people", "People (contacts and leads)"
        CONTACTS = "contacts", "Contacts"
        LEADS = "leads", "Leads"
        COMPANIES = "companies", "Companies (accounts)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        MATCHING = "matching", "Matching"
        READY = "ready", "Ready"
        ERROR = "error", "Error"
        ARCHIVED = "archived", "Archived"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audiences")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="audiences")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    holds = models.CharField(max_length=16, choices=Holds.choices, default=Holds.PEOPLE)
    criteria = models.JSONField(default=dict, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent, while matching.")
    status_message = models.TextField(blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    match_rate = models.FloatField(
        null=True, blank=True, help_text="Matched rows over valid rows of the included CSV lists."
    )
    summary = models.JSONField(default=dict, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["connection", "status"], name="audience_connection_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="audience_progress_percent"
            ),
            models.CheckConstraint(
                condition=models.Q(match_rate__isnull=True)
                | models.Q(match_rate__gte=0, match_rate__lte=1),
                name="audience_match_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sobjects(self) -> tuple[str, ...]:
        """The Salesforce objects whose records can be members."""
        return HOLDS_OBJECTS[self.holds]

    @property
    def people(self) -> bool:
        return self.holds != self.Holds.COMPANIES

    def clean(self) -> None:
        # Invariant 9 lives here as well as in the services, so the admin and any ModelForm
        # refuse Salesforce criteria before the initial ingestion completes.
        from audiences.criteria import CriteriaError
        from audiences.selectors import audience_criteria_check

        if self.connection_id and self.workspace_id:
            if self.connection.workspace_id != self.workspace_id:
                raise ValidationError(
                    {"connection": "The connection belongs to another workspace."}
                )
            try:
                audience_criteria_check(
                    connection=self.connection, holds=self.holds, criteria=self.criteria
                )
            except CriteriaError as error:
                raise ValidationError({"criteria": error.messages}) from None


HOLDS_OBJECTS = {
    Audience.Holds.PEOPLE: ("Contact", "Lead"),
    Audience.Holds.CONTACTS: ("Contact",),
    Audience.Holds.LEADS: ("Lead",),
    Audience.Holds.COMPANIES: ("Account",),
}


def _csv_upload_to(instance: CsvList, filename: str) -> str:
    return f"audiences/csv/{instance.workspace_id}/{filename}"


class CsvList(models.Model):
    """An uploaded CSV of people or companies, reusable by every audience of its workspace."""

    class Kind(models.TextChoices):
        PEOPLE = "people", "People"
        COMPANIES = "companies", "Companies"

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for column mapping"
        IMPORTING = "importing", "Importing"
        MATCHING = "matching", "Matching"
        READY = "ready", "Ready"
        ERROR = "error", "Error"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="csv_lists")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to=_csv_upload_to, max_length=300)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    encoding = models.CharField(max_length=16, blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    header = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Target field -> index of the CSV column."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.MAPPING)
    status_message = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    matched_rows = models.JSONField(
        default=dict, blank=True, help_text="Connection id -> valid rows matched so far."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def working(self) -> bool:
        """Importing or matching: the page refreshes itself until this ends."""
        return self.status in (self.Status.IMPORTING, self.Status.MATCHING)

    @property
    def match_rates(self) -> list[float | None]:
        """Matched over valid rows, per connection matched so far."""
        if not self.valid_rows:
            return [None for _ in self.matched_rows]
        return [n / self.valid_rows for n in self.matched_rows.values()]


class CsvRow(models.Model):
    """One data row of a CSV list: the original cells, and normalised values when valid."""

    csv_list = models.ForeignKey(CsvList, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(help_text="1 is the first row after the header.")
    is_valid = models.BooleanField()
    error = models.CharField(max_length=300, blank=True)
    raw = models.JSONField(default=list)
    email = models.CharField(max_length=254, blank=True)
    first_name = models.CharField(max_length=200, blank=True)
    last_name = models.CharField(max_length=200, blank=True)
    company_name = models.CharField(max_length=300, blank=True)
    domain = models.CharField(max_length=253, blank=True)
    linkedin_url = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["csv_list", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["csv_list", "row_number"], name="csv_row_unique_number")
        ]
        indexes = [models.Index(fields=["csv_list", "is_valid"], name="csv_row_valid_idx")]

    def __str__(self) -> str:
        return f"Row {self.row_number} of {self.csv_list}"


class CsvRowMatch(models.Model):
    """A CSV row matched to an ingested record of one connection."""

    class Method(models.TextChoices):
        EMAIL = "email", "Email"
        NAME_DOMAIN = "name_domain", "Name and company domain"
        WEBSITE = "website", "Company website"
        CONTACT_EMAIL = "contact_email", "Contacts' email domain"

    row = models.ForeignKey(CsvRow, on_delete=models.CASCADE, related_name="matches")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    # No database constraint: on PostgreSQL the records table is partitioned by connection, so
    # its id alone is not unique there (ingestion migration 0010). Deleting records deletes
    # these rows first (ingestion.signals.records_deleting, records_dropping).
    record = models.ForeignKey(
        IngestedRecord, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    method = models.CharField(max_length=16, choices=Method.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["row", "connection", "record"], name="csv_row_match_unique"
            )
        ]
        indexes = [models.Index(fields=["connection", "row"], name="csv_row_match_conn_idx")]

    def __str__(self) -> str:
        return f"{self.row} -> {self.record_id}"


class AudienceList(models.Model):
    """A CSV list used by an audience: members must be within it, or are excluded by it."""

    class Mode(models.TextChoices):
        INCLUDE = "include", "Is within"
        EXCLUDE = "exclude", "Exclude all"

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="list_uses")
    csv_list = models.ForeignKey(CsvList, on_delete=models.PROTECT, related_name="uses")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.INCLUDE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "csv_list"], name="audience_list_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.csv_list}"


class AudienceMember(models.Model):
    """A record in an audience as of its last evaluation."""

    id = models.BigAutoField(primary_key=True)
    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="members")
    # No database constraint: on PostgreSQL the records table is partitioned by connection, so
    # its id alone is not unique there (ingestion migration 0010). Deleting records deletes
    # these rows first (ingestion.signals.records_deleting, records_dropping).
    record = models.ForeignKey(
        IngestedRecord, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    sobject = models.CharField(max_length=80)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "record"], name="audience_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sobject} {self.record_id} in {self.audience_id}"


class AudienceEvaluation(models.Model):
    """One evaluation of an audience: its size, the change, and the filters at the time."""

    class Trigger(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        SYNC = "sync", "After a sync"
        ADMIN = "admin", "Admin"

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="evaluations")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    sync_run_id = models.BigIntegerField(null=True, blank=True)
    evaluated_at = models.DateTimeField(auto_now_add=True)
    size = models.PositiveIntegerField()
    previous_size = models.PositiveIntegerField(null=True, blank=True)
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    match_rate = models.FloatField(null=True, blank=True)
    criteria = models.JSONField(default=dict, blank=True)
    lists = models.JSONField(default=list, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        indexes = [
            models.Index(fields=["audience", "-evaluated_at"], name="audience_eval_recent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.audience} at {self.evaluated_at:%Y-%m-%d %H:%M}: {self.size}"

    @property
    def change(self) -> int | None:
        """Size change since the previous evaluation (None for the first)."""
        return None if self.previous_size is None else self.size - self.previous_size
