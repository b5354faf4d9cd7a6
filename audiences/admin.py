"""Ops UI for audiences and CSV lists.

Saving an audience runs ``Audience.clean``, so the admin refuses Salesforce criteria before the
connection's initial ingestion completes, like every other layer (invariant 9).
"""

from django.contrib import admin, messages

from audiences import services
from audiences.models import (
    Audience,
    AudienceEvaluation,
    AudienceList,
    CsvList,
    CsvRow,
)
from primer_sf.errors import ApplicationError


def as_percent(rate: float | None) -> str:
    """A match rate (0-1) as the customer pages show it: "80%"."""
    return "-" if rate is None else f"{rate * 100:.0f}%"


class MatchRatePercent:
    """The match rate column as a percentage, like every customer page."""

    @admin.display(description="Match rate", ordering="match_rate")
    def match_rate_percent(self, obj) -> str:
        return as_percent(obj.match_rate)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AudienceListInline(admin.TabularInline):
    model = AudienceList
    extra = 0
    raw_id_fields = ["csv_list"]


class AudienceEvaluationInline(MatchRatePercent, ReadOnlyInline):
    model = AudienceEvaluation
    fields = [
        "evaluated_at", "trigger", "size", "previous_size", "added", "removed",
        "match_rate_percent",
    ]  # fmt: skip
    readonly_fields = fields
    ordering = ["-evaluated_at"]
    max_num = 0


@admin.register(Audience)
class AudienceAdmin(MatchRatePercent, admin.ModelAdmin):
    list_display = [
        "name", "workspace", "connection", "holds", "status", "size", "match_rate_percent",
        "last_evaluated_at",
    ]  # fmt: skip
    list_filter = ["status", "holds"]
    list_select_related = ["workspace", "connection"]
    search_fields = ["name", "workspace__name", "connection__label"]
    raw_id_fields = ["workspace", "connection", "created_by"]
    readonly_fields = [
        "status", "progress", "status_message", "size", "match_rate_percent", "summary",
        "last_evaluated_at", "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [AudienceListInline, AudienceEvaluationInline]
    actions = ["evaluate_now"]

    @admin.action(description="Re-evaluate now", permissions=["change"])
    def evaluate_now(self, request, queryset) -> None:
        done = 0
        for audience in queryset.select_related("workspace", "connection"):
            try:
                services.audience_evaluate_enqueue(audience=audience, trigger="admin")
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{audience}: {error.message}", messages.ERROR)
        self.message_user(request, f"Queued {done} audience(s) for evaluation.")


@admin.register(CsvList)
class CsvListAdmin(admin.ModelAdmin):
    list_display = [
        "name", "workspace", "kind", "status", "total_rows", "valid_rows", "invalid_rows",
        "created_at",
    ]  # fmt: skip
    list_filter = ["kind", "status"]
    list_select_related = ["workspace"]
    search_fields = ["name", "workspace__name", "original_name"]
    raw_id_fields = ["workspace", "created_by"]
    readonly_fields = [
        "file", "original_name", "size_bytes", "encoding", "header", "status", "status_message",
        "total_rows", "valid_rows", "invalid_rows", "imported_at", "created_at",
    ]  # fmt: skip


@admin.register(CsvRow)
class CsvRowAdmin(admin.ModelAdmin):
    list_display = ["csv_list", "row_number", "is_valid", "error", "email", "domain"]
    list_filter = ["is_valid"]
    list_select_related = ["csv_list"]
    search_fields = ["email", "domain", "=csv_list__id"]
    raw_id_fields = ["csv_list"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # rows of an imported file: delete the list instead


@admin.register(AudienceEvaluation)
class AudienceEvaluationAdmin(admin.ModelAdmin):
    list_display = [
        "audience",
        "evaluated_at",
        "trigger",
        "size",
        "previous_size",
        "added",
        "removed",
    ]
    list_filter = ["trigger"]
    list_select_related = ["audience"]
    search_fields = ["audience__name"]
    raw_id_fields = ["audience"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audience's history
