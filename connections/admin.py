"""Ops UI for workspaces and connections. Tokens are never shown, listed or editable."""

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from connections.models import ApiUsage, Connection, Membership, OrgUsage, Workspace
from connections.services import (
    ApiBudget,
    connection_pause,
    connection_resume,
    connection_run_preflight,
)
from connections.services.visibility import visibility_fix
from ingestion.models import SyncRun
from ingestion.services.cursors import connection_sync_now
from primer_sf.admin_confirm import action_confirmed, confirmation_page
from primer_sf.errors import ApplicationError


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
        "status_reason",
        "org_id",
        "sf_username",
        "initial_ingestion",
        "next_sync_at",
    ]
    list_filter = ["status", "status_reason", "environment"]
    list_select_related = ["workspace"]
    actions = ["run_preflight", "sync_now", "full_resync", "pause", "resume"]
    search_fields = ["label", "org_id", "sf_username", "workspace__name"]
    exclude = ["access_token", "refresh_token", "preflight", "field_visibility"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # The tenant and the status change only through services (connect, checks, pause, resume,
    # disconnect): a hand-set "Active" would skip the checks, a new workspace move the org.
    readonly_fields = [
        "workspace",
        "status",
        "instance_url",
        "org_id",
        "sf_user_id",
        "sf_username",
        "token_issued_at",
        "scopes",
        "status_reason",
        "status_message",
        "status_fix",
        "status_changed_at",
        "initial_sync_started_at",
        "initial_sync_completed_at",
        "checklist",
        "preflight_checked_at",
        "hidden_fields",
        "api_calls_24h",
        "org_api_used",
        "org_api_max",
        "org_api_checked_at",
        "created_at",
        "updated_at",
        "related_links",
    ]

    def has_add_permission(self, request) -> bool:
        # A connection is born from an OAuth grant (the customer's connect page), never typed.
        return False

    def has_sync_permission(self, request) -> bool:
        """Queuing syncs spends the org's API calls: change a connection and add sync runs."""
        user = request.user
        return user.has_perm("connections.change_connection") and user.has_perm(
            "ingestion.add_syncrun"
        )

    @admin.display(description="Initial ingestion", boolean=True)
    def initial_ingestion(self, obj: Connection) -> bool:
        return obj.initial_sync_complete

    @admin.display(description="API calls, last 24 h")
    def api_calls_24h(self, obj: Connection) -> str:
        used = ApiBudget(obj).used_24h()
        if not obj.org_api_max:
            return f"{used:,} (the org's allocation is not known yet)"
        budget = obj.api_budget_percent * obj.org_api_max // 100
        return f"{used:,} of this connection's budget of {budget:,} ({obj.api_budget_percent}%)"

    @admin.display(description="Permission checks")
    def checklist(self, obj: Connection) -> str:
        items = (obj.preflight or {}).get("items", [])
        return render_to_string("connections/_checklist.html", {"checklist": items})

    @admin.display(description="Fields hidden by field-level security")
    def hidden_fields(self, obj: Connection) -> str:
        report = obj.field_visibility or {}
        if not report.get("checked_at"):
            return "Not checked yet."
        objects = report.get("objects", {})
        if not objects:
            return f"None: every field is visible to {obj.sf_username or 'the connected user'}."
        return format_html_join(
            "",
            "<p><strong>{}</strong>: {}</p>",
            ((name, _field_names(fields)) for name, fields in objects.items()),
        ) + format_html("<p>{}</p>", visibility_fix(obj.sf_username))

    @admin.action(description="Run the permission checks (preflight)", permissions=["change"])
    def run_preflight(self, request, queryset) -> None:
        for connection in queryset:
            result = connection_run_preflight(connection=connection)["result"]
            level = messages.SUCCESS if result == "pass" else messages.WARNING
            self.message_user(request, f"{connection}: checks {result}.", level)

    @admin.action(description="Sync now (incremental)", permissions=["sync"])
    def sync_now(self, request, queryset) -> None:
        self._enqueue(request, queryset, SyncRun.Kind.INCREMENTAL)

    @admin.action(description="Full resync (re-read everything)", permissions=["sync"])
    def full_resync(self, request, queryset):
        if not action_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                action="full_resync",
                title="Full resync?",
                consequence=(
                    "A full resync re-reads every enabled object of these orgs from Salesforce: "
                    "one Bulk job per object and window, spending API calls from each "
                    "connection's budget, and it replaces any sync in progress. Records are "
                    "kept and overwritten in place."
                ),
                button="Yes, re-read everything",
            )
        self._enqueue(request, queryset, SyncRun.Kind.FULL_RESYNC)
        return None

    def _enqueue(self, request, queryset, kind: str) -> None:
        for connection in queryset:
            try:
                run = connection_sync_now(
                    connection=connection, kind=kind, trigger=SyncRun.Trigger.ADMIN
                )
            except ApplicationError as refused:
                self.message_user(request, refused.message, messages.WARNING)
            else:
                self.message_user(request, f"{connection}: {run.get_kind_display()} queued.")

    @admin.action(description="Pause syncing", permissions=["change"])
    def pause(self, request, queryset):
        if not action_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                action="pause",
                title="Pause syncing?",
                consequence=(
                    "Paused connections stop syncing (a sync in progress stops at its next "
                    "checkpoint) until someone resumes them; their audiences go stale meanwhile. "
                    "The customer sees that ops paused the connection."
                ),
                button="Yes, pause them",
            )
        done = [c for c in queryset if connection_pause(connection=c)]
        self.message_user(request, f"Paused {len(done)} of {len(queryset)} (only active ones).")
        return None

    @admin.action(description="Resume syncing", permissions=["change"])
    def resume(self, request, queryset) -> None:
        done = [c for c in queryset if connection_resume(connection=c)]
        self.message_user(request, f"Resumed {len(done)} of {len(queryset)} (only paused ones).")

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
    list_display = ["connection", "hour", "call_count"]
    list_select_related = ["connection"]
    list_filter = ["hour"]
    date_hierarchy = "hour"
    search_fields = ["connection__label", "connection__org_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the budget is computed from these rows

    @admin.display(description="Calls", ordering="calls")
    def call_count(self, obj: ApiUsage) -> str:
        return f"{obj.calls:,}"


def _field_names(fields: list[dict]) -> str:
    return ", ".join(f"{f['label']} ({f['name']})" for f in fields)


@admin.register(OrgUsage)
class OrgUsageAdmin(admin.ModelAdmin):
    """Each org's API usage as the budget guard knows it (written by the guard only)."""

    list_display = ["org_key", "used", "maximum", "checked_at", "calls_in_flight", "probe_until"]
    search_fields = ["=org_key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="In flight")
    def calls_in_flight(self, obj: OrgUsage) -> int:
        return len(obj.in_flight or {})
