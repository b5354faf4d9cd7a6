"""Ops view of alerts: what is open, what was sent to whom. Alerts and emails are records of
what happened, so they are read-only here."""

from django.contrib import admin

from alerts.models import Alert, AlertEmail, AlertPreference


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AlertEmailInline(admin.TabularInline):
    model = AlertEmail
    fields = ["event", "subject", "recipients", "sent_at", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["connection", "workspace", "kind", "title", "opened_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), "opened_at"]
    list_select_related = ["connection", "workspace"]
    search_fields = ["connection__label", "workspace__name", "title", "message"]
    date_hierarchy = "opened_at"
    inlines = [AlertEmailInline]


@admin.register(AlertEmail)
class AlertEmailAdmin(ReadOnlyAdmin):
    list_display = ["subject", "event", "recipient_list", "sent_at", "failed"]
    list_filter = ["event", "sent_at"]
    list_select_related = ["alert"]
    search_fields = ["subject", "recipients"]
    date_hierarchy = "sent_at"

    @admin.display(description="Recipients")
    def recipient_list(self, obj: AlertEmail) -> str:
        return ", ".join(obj.recipients)

    @admin.display(description="Failed", boolean=True)
    def failed(self, obj: AlertEmail) -> bool:
        return bool(obj.error)


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ["workspace", "user", "email"]
    list_filter = ["email"]
    raw_id_fields = ["workspace", "user"]
    search_fields = ["workspace__name", "user__email"]
