"""Ops UI for sync runs, cursors and ingested records (Salesforce's data: read-only)."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection as db_connection
from django.utils.functional import cached_property

from connections.models import DEFAULT_OBJECTS
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun


class ReadOnlyAdminMixin:
    """Rows written by the sync engine only; ops look, never edit."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
        "records_written",
        "records_per_second",
        "api_calls",
        "bulk_jobs",
    ]
    list_filter = ["status", "kind", "trigger"]
    list_select_related = ["connection"]
    search_fields = ["=id", "connection__label", "connection__org_id", "error_code"]
    raw_id_fields = ["connection"]
    date_hierarchy = "created_at"

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
        "records_ingested",
        "estimated_total",
        "job_id",
        "updated_at",
    ]
    list_filter = ["initial_load_complete", "read_mode", "sobject"]
    list_select_related = ["connection"]
    search_fields = ["connection__label", "connection__org_id", "sobject", "job_id"]
    raw_id_fields = ["connection"]
    readonly_fields = [f.name for f in ObjectCursor._meta.fields if f.name != "id"]

    def has_add_permission(self, request) -> bool:
        return False


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows, or reads PostgreSQL's estimate for the whole table.

    The record table holds millions of rows; an exact COUNT(*) on every changelist view would
    be the slowest query of the admin.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where and db_connection.vendor == "postgresql":
            with db_connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.CAP:
                return row[0]
        return queryset.order_by()[: self.CAP].count()


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
    search_fields = ["=sf_id", "data__Email__iexact", "data__Name__icontains"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    raw_id_fields = ["connection"]

    @admin.display(description="Name")
    def display_name(self, obj: IngestedRecord) -> str:
        data = obj.data or {}
        return data.get("Name") or data.get("Email") or "-"
