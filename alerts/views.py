"""The in-app notifications list and each member's alert email setting."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts.selectors import alert_settings_for_user, alerts_for_user
from alerts.services import alert_preference_set
from connections.selectors import workspaces_for_user

SHOWN = 100


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    """Open alerts first, then the most recent resolved ones."""
    alerts = alerts_for_user(user=request.user)
    context = {
        "open_alerts": alerts.filter(resolved_at=None),
        "resolved_alerts": alerts.exclude(resolved_at=None)[:SHOWN],
        "settings_rows": alert_settings_for_user(user=request.user),
    }
    return render(request, "alerts/list.html", context)


@login_required
@require_POST
def alert_email_setting(request: HttpRequest, slug: str) -> HttpResponse:
    """Turn the signed-in member's alert emails for a workspace on or off."""
    workspace = get_object_or_404(workspaces_for_user(user=request.user), slug=slug)
    wants = request.POST.get("email") == "on"
    alert_preference_set(workspace=workspace, user=request.user, email=wants)
    state = "now get" if wants else "no longer get"
    messages.success(request, f"You {state} alert emails for {workspace.name}.")
    return redirect("alerts:list")
