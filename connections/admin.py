"""Ops UI for workspaces and connections. Tokens are never shown, listed or editable."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from connections.models import ApiUsage, Connection, Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "connection_count", "created_at"]
    search_fields = ["name", "slug", "memberships__user__email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_total=Count("memberships", distinct=True),
                connection_total=Count("connections", distinct=True),
            )
        )

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, obj: Workspace) -> int:
        return obj.member_total

    @admin.display(description="Connections", ordering="connection_total")
    def connection_count(self, obj: Workspace) -> int:
        return obj.connection_total


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "workspace",
        "environment",
        "status",
        "org_id",
        "sf_username",
        "initial_ingestion",
        "next_sync_at",
    ]
    list_filter = ["status", "environment"]
    list_select_related = ["workspace"]
    search_fields = ["label", "org_id", "sf_username", "workspace__name"]
    raw_id_fields = ["workspace"]
    exclude = ["access_token", "refresh_token"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = [
        "instance_url",
        "org_id",
        "sf_user_id",
        "sf_username",
        "token_issued_at",
        "scopes",
        "status_changed_at",
        "initial_sync_started_at",
        "initial_sync_completed_at",
        "preflight",
        "preflight_checked_at",
        "org_api_used",
        "org_api_max",
        "org_api_checked_at",
        "created_at",
        "updated_at",
        "related_links",
    ]

    @admin.display(description="Initial ingestion", boolean=True)
    def initial_ingestion(self, obj: Connection) -> bool:
        return obj.initial_sync_complete

    @admin.display(description="Related")
    def related_links(self, obj: Connection) -> str:
        if not obj.pk:
            return "-"
        query = f"?connection__id__exact={obj.pk}"
        runs = reverse("admin:ingestion_syncrun_changelist") + query
        records = reverse("admin:ingestion_ingestedrecord_changelist") + query
        return format_html('<a href="{}">Sync runs</a> · <a href="{}">Records</a>', runs, records)


@admin.register(ApiUsage)
class ApiUsageAdmin(admin.ModelAdmin):
    list_display = ["connection", "hour", "calls"]
    list_select_related = ["connection"]
    list_filter = ["hour"]
    date_hierarchy = "hour"
    search_fields = ["connection__label", "connection__org_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
