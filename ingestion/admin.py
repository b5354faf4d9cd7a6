"""Ops UI for sync runs, cursors and ingested records (Salesforce's data: read-only)."""

import json
import re

from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.db import connection as db_connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from connections.admin import ConnectionAdmin
from connections.models import DEFAULT_OBJECTS, Connection
from ingestion.models import DataPurge, IngestedRecord, ObjectCursor, SyncRun
from ingestion.services.cursors import cursor_reset
from ingestion.services.runs import sync_run_cancel
from primer_sf.admin_confirm import action_confirmed, confirmation_page


class ReadOnlyAdminMixin:
    """Rows written by the sync engine only; ops look, never edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def number(value) -> str:
    """12345 as "12,345" (admin columns of counts)."""
    return "-" if value is None else intcomma(value)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "connection",
        "kind",
        "trigger",
        "status",
        "started_at",
        "duration",
        "records",
        "records_per_second",
        "calls",
        "bulk_jobs",
    ]
    list_filter = ["status", "kind", "trigger"]
    list_select_related = ["connection"]
    search_fields = ["=id", "connection__label", "connection__org_id", "error_code"]
    raw_id_fields = ["connection"]
    date_hierarchy = "created_at"
    actions = ["cancel_runs"]
    readonly_fields = ["duration", "records_per_second", "per_object", "calls_by_kind"]
    fieldsets = [
        (None, {"fields": ["connection", "kind", "trigger", "status", "sobjects"]}),
        (
            "Timing",
            {
                "fields": [
                    "created_at",
                    "started_at",
                    "finished_at",
                    "heartbeat_at",
                    "resume_at",
                    "duration",
                    "slices",
                ]
            },
        ),
        (
            "Counts",
            {
                "fields": [
                    "records_read",
                    "records_written",
                    "records_deleted",
                    "records_per_second",
                    "api_calls",
                    "calls_by_kind",
                    "bulk_jobs",
                    "retries",
                ]
            },
        ),
        ("Per object", {"fields": ["per_object"]}),
        ("Outcome", {"fields": ["error_code", "error_message", "task_id"]}),
    ]

    @admin.display(description="Records written", ordering="records_written")
    def records(self, obj: SyncRun) -> str:
        return number(obj.records_written)

    @admin.display(description="API calls", ordering="api_calls")
    def calls(self, obj: SyncRun) -> str:
        return number(obj.api_calls)

    @admin.display(description="API calls by kind")
    def calls_by_kind(self, obj: SyncRun) -> str:
        items = sorted(obj.api_calls_by_kind.items())
        return ", ".join(f"{kind}: {n}" for kind, n in items) or "-"

    @admin.display(description="Objects")
    def per_object(self, obj: SyncRun) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    name,
                    stats.get("status", "-"),
                    stats.get("records_read", 0),
                    stats.get("records_written", 0),
                    stats.get("records_deleted", 0),
                    stats.get("error", ""),
                )
                for name, stats in sorted(obj.object_stats.items())
            ),
        )
        head = (
            "<tr><th>Object</th><th>Status</th><th>Read</th><th>Written</th>"
            "<th>Deleted</th><th>Error</th></tr>"
        )
        return format_html("<table>{}{}</table>", mark_safe(head), rows) if rows else "-"

    def has_cancel_permission(self, request) -> bool:
        """Cancelling writes a run's status, which this (read-only) admin otherwise never does."""
        return request.user.has_perm("ingestion.change_syncrun")

    @admin.action(description="Cancel the selected runs", permissions=["cancel"])
    def cancel_runs(self, request, queryset):
        if not action_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                action="cancel_runs",
                title="Cancel these runs?",
                consequence=(
                    "A cancelled run stops at its next checkpoint and is not resumed; what it "
                    "read so far is kept. The next scheduled sync starts afresh from the "
                    "cursors. Finished runs are left as they are."
                ),
                button="Yes, cancel them",
            )
        cancelled = sum(
            sync_run_cancel(run=run, reason=f"Cancelled by {request.user}.") for run in queryset
        )
        self.message_user(request, f"Cancelled {cancelled} run(s); finished runs are unchanged.")
        return None

    @admin.display(description="Duration")
    def duration(self, obj: SyncRun) -> str:
        seconds = obj.duration_seconds
        return "-" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description="Records/s")
    def records_per_second(self, obj: SyncRun) -> str:
        seconds = obj.duration_seconds
        if not seconds:
            return "-"
        return f"{obj.records_written / seconds:,.0f}"


@admin.register(ObjectCursor)
class ObjectCursorAdmin(admin.ModelAdmin):
    list_display = [
        "connection",
        "sobject",
        "watermark",
        "initial_load_complete",
        "read_mode",
        "ingested",
        "estimate",
        "job_id",
        "updated_at",
    ]
    list_filter = ["initial_load_complete", "read_mode", "sobject"]
    list_select_related = ["connection"]
    search_fields = ["connection__label", "connection__org_id", "sobject", "job_id"]
    raw_id_fields = ["connection"]
    readonly_fields = [f.name for f in ObjectCursor._meta.fields if f.name != "id"]
    actions = ["reset_cursors"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Records ingested", ordering="records_ingested")
    def ingested(self, obj: ObjectCursor) -> str:
        return number(obj.records_ingested)

    @admin.display(description="Estimated total", ordering="estimated_total")
    def estimate(self, obj: ObjectCursor) -> str:
        return number(obj.estimated_total)

    @admin.action(
        description="Reset cursors (reload these objects on the next run)", permissions=["change"]
    )
    def reset_cursors(self, request, queryset):
        if not action_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset.select_related("connection"),
                action="reset_cursors",
                title="Reset cursors?",
                consequence=(
                    "Resetting a cursor forgets where ingestion of that object stands: the next "
                    "run reloads it in full from Salesforce (one Bulk job per window). Ingested "
                    "records are kept and overwritten in place. These cursors will be reset:"
                ),
                button="Yes, reset them",
            )
        reset = 0
        for connection_id in set(queryset.values_list("connection_id", flat=True)):
            names = list(
                queryset.filter(connection_id=connection_id).values_list("sobject", flat=True)
            )
            reset += cursor_reset(connection=Connection(pk=connection_id), sobjects=names)
        self.message_user(
            request,
            f"Reset {reset} cursor(s); the next run reloads those objects (records are kept).",
            messages.SUCCESS,
        )
        return None


class CappedCountPaginator(Paginator):
    """Counts exactly up to ``CAP`` rows; past that, says "about N" from PostgreSQL's planner.

    The record table holds millions of rows; an exact COUNT(*) on every changelist view would
    be the slowest query of the admin. ``estimated`` tells the template the count is not exact
    (on SQLite, which has no estimate, the count is then a lower bound).
    """

    CAP = 10_000
    estimated = False
    lower_bound = False  # the estimate is only "more than CAP" (no planner to ask)

    @cached_property
    def count(self) -> int:
        queryset = self.object_list.order_by()
        exact = queryset[: self.CAP + 1].count()
        if exact <= self.CAP:
            return exact
        self.estimated = True
        if db_connection.vendor == "postgresql":
            return max(planner_estimate(queryset), self.CAP + 1)
        self.lower_bound = True
        return self.CAP


def planner_estimate(queryset) -> int:
    """PostgreSQL's estimate of the rows ``queryset`` returns (EXPLAIN, nothing is read).

    Reference: https://www.postgresql.org/docs/current/using-explain.html
    """
    sql, params = queryset.query.sql_with_params()
    with db_connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class SObjectFilter(admin.SimpleListFilter):
    """Filter by object without a DISTINCT over the record table."""

    title = "object"
    parameter_name = "sobject"

    def lookups(self, request, model_admin):
        names = set(DEFAULT_OBJECTS) | set(
            ObjectCursor.objects.values_list("sobject", flat=True).distinct()
        )
        return [(name, name) for name in sorted(names)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(sobject=self.value())
        return queryset


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}")
_EMAIL_SQL = "lower(ingestion_ingestedrecord.data ->> 'Email')"
# PostgreSQL: one index on the reversed email (migration 0008) serves both searches: an exact
# email is an equality, a domain a prefix ("elpmaxe.emca@…"), so a single index costs the
# writes of one.
_REVERSED_SQL = f"reverse({_EMAIL_SQL})"


def _email_key(queryset, reversed_: bool):
    sql = _REVERSED_SQL if reversed_ else _EMAIL_SQL
    return queryset.alias(email_key=RawSQL(sql, (), output_field=TextField()))


def records_with_email(queryset, email: str):
    """Records whose Email is ``email`` (lower case), through the index on PostgreSQL."""
    if db_connection.vendor == "postgresql":
        return _email_key(queryset, True).filter(email_key=email[::-1])
    return _email_key(queryset, False).filter(email_key=email)


def records_at_domain(queryset, domain: str):
    """Records whose Email is at ``domain`` (lower case), through the same index."""
    if db_connection.vendor == "postgresql":
        return _email_key(queryset, True).filter(email_key__startswith=f"@{domain}"[::-1])
    return _email_key(queryset, False).filter(email_key__endswith=f"@{domain}")


@admin.register(IngestedRecord)
class IngestedRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "sf_id",
        "sobject",
        "display_name",
        "connection",
        "system_modstamp",
        "is_deleted",
        "last_seen_at",
    ]
    list_filter = [SObjectFilter, "is_deleted"]
    list_select_related = ["connection"]
    search_fields = ["=sf_id", "data__Name__icontains"]
    search_help_text = (
        "An exact email (ada@acme.example), an email domain (acme.example), a Salesforce Id, "
        "or part of a name."
    )
    show_full_result_count = False
    paginator = CappedCountPaginator
    raw_id_fields = ["connection"]

    def get_search_results(self, request, queryset, search_term):
        """Emails and domains through their indexes (migration 0008); the rest as usual."""
        term = search_term.strip().lower()
        if EMAIL.fullmatch(term):
            return records_with_email(queryset, term), False
        if DOMAIN.fullmatch(term.removeprefix("@")):
            return records_at_domain(queryset, term.removeprefix("@")), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Name")
    def display_name(self, obj: IngestedRecord) -> str:
        data = obj.data or {}
        return data.get("Name") or data.get("Email") or "-"


@admin.register(DataPurge)
class DataPurgeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Deletions of disconnected connections' records, as the worker goes through them."""

    list_display = [
        "connection",
        "status",
        "records_deleted",
        "records_total",
        "batches",
        "created_at",
        "heartbeat_at",
        "finished_at",
    ]
    list_filter = ["status"]
    list_select_related = ["connection"]
    raw_id_fields = ["connection"]
    exclude = ["lease_token"]


class CursorProgressInline(admin.TabularInline):
    """Initial-ingestion progress per object, on the Connection page."""

    model = ObjectCursor
    extra = 0
    can_delete = False
    fields = [
        "sobject",
        "progress",
        "initial_load_complete",
        "watermark",
        "read_mode",
        "job_id",
        "last_error",
    ]
    readonly_fields = fields
    verbose_name_plural = "Ingestion progress per object"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Records ingested")
    def progress(self, cursor: ObjectCursor) -> str:
        total = cursor.estimated_total
        if cursor.initial_load_complete:
            return f"{cursor.records_ingested:,} (initial load done)"
        if not total:
            return f"{cursor.records_ingested:,}"
        percent = min(cursor.records_ingested / total * 100, 100)
        return f"{cursor.records_ingested:,} of {total:,} ({percent:.0f}%)"


class IngestionConnectionAdmin(ConnectionAdmin):
    """The Connection page, with the ingestion app's progress per object."""

    inlines = [*ConnectionAdmin.inlines, CursorProgressInline]


admin.site.unregister(Connection)
admin.site.register(Connection, IngestionConnectionAdmin)
