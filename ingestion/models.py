"""Sync runs, per-object cursors and the ingested Salesforce records."""

from django.db import models
from django.db.models import Q

from connections.models import Connection
from ingestion.expressions import FieldText


class SyncRun(models.Model):
    """One sync of one connection: what was asked, how it went, what it cost."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial load"
        INCREMENTAL = "incremental", "Incremental"
        FULL_RESYNC = "full_resync", "Full resync"
        OBJECT_RESYNC = "object_resync", "Object resync"
        RECONCILE = "reconcile", "Reconcile"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"
        CUSTOMER = "customer", "Customer"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partial"
        PAUSED = "paused", "Paused"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
    FINISHED_STATUSES = (
        Status.SUCCEEDED,
        Status.PARTIAL,
        Status.FAILED,
        Status.CANCELLED,
    )

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    sobjects = models.JSONField(default=list, blank=True, help_text="Empty means all enabled.")

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True)

    records_read = models.PositiveBigIntegerField(default=0)
    records_written = models.PositiveBigIntegerField(default=0)
    records_deleted = models.PositiveBigIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    api_calls_by_kind = models.JSONField(default=dict, blank=True)
    bulk_jobs = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    slices = models.PositiveIntegerField(default=0)
    object_stats = models.JSONField(default=dict, blank=True)

    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Held by the worker executing a slice; a stale heartbeat lets another worker take over.
    lease_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Invariant 7: one sync per connection at a time, enforced by the database.
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(status__in=["queued", "running"]),
                name="sync_run_one_active_per_connection",
            ),
        ]
        indexes = [
            models.Index(fields=["connection", "-created_at"], name="sync_run_recent_idx"),
            models.Index(fields=["status", "resume_at"], name="sync_run_resume_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of {self.connection}"

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from start to finish (or to the last heartbeat while running)."""
        end = self.finished_at or self.heartbeat_at
        if not (self.started_at and end):
            return None
        return max((end - self.started_at).total_seconds(), 0.0)


class ObjectCursor(models.Model):
    """Where ingestion of one object of one connection stands: the watermark and checkpoint."""

    class ReadMode(models.TextChoices):
        BULK = "bulk", "Bulk API 2.0"
        REST = "rest", "REST query"

    class Phase(models.TextChoices):
        ROWS = "rows", "Rows"
        BLOBS = "blobs", "base64 fields"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="cursors")
    sobject = models.CharField(max_length=80)
    watermark = models.DateTimeField(
        null=True, blank=True, help_text="SystemModstamp up to which every row is committed."
    )
    initial_load_complete = models.BooleanField(default=False)
    initial_load_completed_at = models.DateTimeField(null=True, blank=True)

    # The checkpoint (ingestion.engine.state.Checkpoint): the window being read, the job or
    # query reading it, and the page reached. Committed with the rows it covers.
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    job_id = models.CharField(max_length=18, blank=True)
    job_created_at = models.DateTimeField(null=True, blank=True)
    locator = models.CharField(max_length=255, blank=True)
    pending_windows = models.JSONField(default=list, blank=True)
    read_mode = models.CharField(max_length=8, choices=ReadMode.choices, default=ReadMode.BULK)
    phase = models.CharField(max_length=8, choices=Phase.choices, default=Phase.ROWS)
    job_complete = models.BooleanField(default=False)
    job_failures = models.PositiveSmallIntegerField(default=0)
    pass_in_flight = models.JSONField(
        null=True, blank=True, help_text="The whole-object pass being read (reconcile, backfill)."
    )
    job_pace = models.JSONField(
        null=True,
        blank=True,
        help_text="How fast Salesforce ran this load's first (probe) job; sizes its windows.",
    )

    # ingestion.engine.state.FieldPlan, as JSON: the fields read and how.
    field_plan = models.JSONField(default=dict, blank=True)
    field_plan_hash = models.CharField(max_length=64, blank=True)
    removed_fields = models.JSONField(default=list, blank=True)
    backfill_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="New fields whose values a backfill pass has yet to read.",
    )

    estimated_total = models.PositiveBigIntegerField(null=True, blank=True)
    records_ingested = models.PositiveBigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    last_formula_refresh_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["connection", "sobject"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "sobject"], name="object_cursor_unique_object"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sobject} of {self.connection}"


class IngestedRecord(models.Model):
    """One Salesforce record as last read, with typed values in ``data``.

    Deleted records stay, marked: audiences and history need to know they existed.
    """

    id = models.BigAutoField(primary_key=True)
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="records", db_index=False
    )
    sobject = models.CharField(max_length=80)
    sf_id = models.CharField("Salesforce Id", max_length=18)
    data = models.JSONField(default=dict)
    # The non-null picklist, multi-select and checkbox values of data: what audience filters
    # test by equality. Only this narrow copy has a GIN index (PostgreSQL, migration 0005).
    facets = models.JSONField(default=dict, blank=True)
    # The Id of the account the record belongs to, as audiences join people and
    # opportunities to accounts. A column, not ``data->>'AccountId'``: an index on an
    # expression over data never serves an index-only scan, and counting the contacts of 400K
    # accounts then read 560K rows from the heap (issue 16). Stored, so the index holds it.
    account_sf_id = models.GeneratedField(
        expression=models.Case(
            models.When(
                sobject__in=["Contact", "Opportunity"],
                then=FieldText("AccountId", "data"),
            ),
            models.When(sobject="Lead", then=FieldText("ConvertedAccountId", "data")),
        ),
        output_field=models.TextField(null=True),
        db_persist=True,
    )
    system_modstamp = models.DateTimeField()
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # No database constraint: runs may be pruned while millions of records keep the id.
    last_sync_run = models.ForeignKey(
        SyncRun,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "sobject", "sf_id"], name="ingested_record_unique_id"
            )
        ]
        indexes = [
            # Audiences' joins to accounts (ingestion migration 0013); partial, so records of
            # other objects and deleted ones cost no index entry.
            models.Index(
                fields=["connection", "sobject", "account_sf_id"],
                condition=Q(is_deleted=False, account_sf_id__isnull=False),
                name="ingested_record_account_idx",
            )
        ]
        # Otherwise deliberately no B-tree index: each one slows the bulk upsert, and every
        # lookup starts with (connection, sobject). PostgreSQL also gets GIN indexes on facets,
        # one per object audience criteria filter on (migrations 0005, 0011), and expression
        # indexes for audiences (audiences migrations 0002, 0004). On PostgreSQL the table is
        # partitioned by connection, each loaded partition by object, and its primary key is
        # (id, connection_id, sobject) (migrations 0010, 0015; ingestion/partitions.py).

    def __str__(self) -> str:
        return f"{self.sobject} {self.sf_id}"


class RecordLoad(models.Model):
    """A connection's first load or full resync being written into a table of its own
    (PostgreSQL; see ingestion/partitions.py). Named here so a resumed run writes on into it;
    gone once the table is indexed and attached as the connection's partition."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=63)
    # The connection's previous copy is rows in the DEFAULT partition (stored before
    # partitioning), not a partition: the swap carries over from them and deletes them.
    from_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Load of {self.connection} into {self.table}"


class ReconcileSeenId(models.Model):
    """An Id a reconciliation saw in Salesforce; the run's rows are dropped when it ends.

    Reconciliation reads every Id of an object (one Bulk job) across several pages and slices,
    then marks local records it did not see as hard-deleted. Keeping the seen Ids in a narrow
    table costs far less than touching every wide IngestedRecord row.
    """

    id = models.BigAutoField(primary_key=True)
    # No database constraint: every staged Id queued a deferred check of it, run at the page's
    # commit (0.35 s per 100,000 Ids, 35 s of a 10M-record reconciliation). The run's rows are
    # deleted when it ends, and with it (Django cascades: one DELETE, nothing loaded).
    run = models.ForeignKey(
        SyncRun, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    sobject = models.CharField(max_length=80)
    sf_id = models.CharField(max_length=18)

    class Meta:
        indexes = [
            models.Index(fields=["run", "sobject", "sf_id"], name="reconcile_seen_lookup_idx")
        ]

    def __str__(self) -> str:
        return f"{self.sobject} {self.sf_id} seen by run {self.run_id}"


class DataPurge(models.Model):
    """Deleting one connection's ingested records in the background, batch by batch.

    Requested when a customer disconnects and asks for the data to go. Each batch commits on
    its own, so a killed worker loses nothing: the next task carries on with what is left.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Deleting"
        DONE = "done", "Done"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="purges")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    records_total = models.PositiveBigIntegerField(null=True, blank=True)
    records_deleted = models.PositiveBigIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    # The key of the last record deleted: the next slice starts after it, instead of stepping
    # over the dead index entries of every batch before.
    after_sobject = models.CharField(max_length=80, blank=True)
    after_sf_id = models.CharField(max_length=18, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Held by the worker deleting; a stale heartbeat lets the scheduler hand it out again.
    lease_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(status__in=["queued", "running"]),
                name="data_purge_one_active_per_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"Deleting the data of {self.connection}"

    @property
    def percent(self) -> float | None:
        """How far along, from the count taken when deleting started."""
        if not self.records_total:
            return None
        return min(100.0, 100.0 * self.records_deleted / self.records_total)
