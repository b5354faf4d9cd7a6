"""Customer pages: the workspace's Salesforce connections, the OAuth connect flow, and each
connection's settings page. Members only (anyone else gets 404); every form carries CSRF.

The views are thin: they check membership, validate a form and call one service. The OAuth
callback is the one view that reaches Salesforce, through ``connection_authorize_complete``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from connections.charts import bar_chart
from connections.forms import ConnectForm, ConnectionSettingsForm, DisconnectForm
from connections.models import Connection, ReconnectCandidate, Workspace
from connections.problems import problem_for
from connections.salesforce.exceptions import SalesforceError
from connections.selectors import (
    connection_api_usage,
    connection_daily_api_calls,
    connections_for_user,
    connections_sharing_username,
    workspaces_for_user,
)
from connections.services import (
    connection_authorize_complete,
    connection_authorize_start,
    connection_disconnect,
    connection_reconnect_confirm,
    connection_reconnect_discard,
    connection_run_preflight,
    connection_update_settings,
)
from connections.services.reconnect import candidate_expired, reconnect_review_reasons
from connections.services.visibility import hidden_count, visibility_fix
from ingestion.history import connection_daily_records, connection_run_history
from ingestion.models import SyncRun
from ingestion.selectors import (
    connection_current_run,
    connection_data_purge,
    connection_last_finished_run,
    connection_progress,
    run_progress,
)
from ingestion.services.cursors import connection_sync_now
from ingestion.wording import run_words
from primer_sf.errors import ApplicationError

logger = logging.getLogger(__name__)

PENDING_KEY = "salesforce_oauth"
PENDING_TTL = timedelta(minutes=30)
PENDING_KEPT = 5


def salesforce_configured(view):
    """404 when the connected app is not configured (no client id or secret)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (settings.SALESFORCE_CLIENT_ID and settings.SALESFORCE_CLIENT_SECRET):
            raise Http404("Salesforce is not configured.")
        return view(request, *args, **kwargs)

    return wrapper


def _workspace(request: HttpRequest, slug: str) -> Workspace:
    return get_object_or_404(workspaces_for_user(user=request.user), slug=slug)


def _connection(request: HttpRequest, pk: int) -> Connection:
    return get_object_or_404(connections_for_user(user=request.user), pk=pk)


def _redirect_uri(request: HttpRequest) -> str:
    return settings.SALESFORCE_CALLBACK_URL or request.build_absolute_uri(
        reverse("connections:callback")
    )


def _remember(request: HttpRequest, pending: dict) -> None:
    """Keep a started authorization in the session under its state (a few at most)."""
    flows = dict(request.session.get(PENDING_KEY, {}))
    flows[pending["state"]] = pending
    newest = sorted(flows.values(), key=lambda p: p["started_at"])[-PENDING_KEPT:]
    request.session[PENDING_KEY] = {p["state"]: p for p in newest}


def _recall(request: HttpRequest, state: str) -> dict | None:
    """The authorization this state belongs to (used once), or ``None``."""
    flows = dict(request.session.get(PENDING_KEY, {}))
    pending = flows.pop(state, None) if state else None
    request.session[PENDING_KEY] = flows
    if pending and timezone.now() - datetime.fromisoformat(pending["started_at"]) > PENDING_TTL:
        return None
    return pending


# --- pages ------------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The connections of every workspace the user belongs to."""
    workspaces = list(workspaces_for_user(user=request.user).prefetch_related("connections"))
    _label_statuses([c for w in workspaces for c in w.connections.all()])
    return render(request, "connections/index.html", {"workspaces": workspaces})


@login_required
def workspace_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A workspace's connections and the form to connect another org."""
    return _render_workspace(request, _workspace(request, slug), ConnectForm())


def _render_workspace(request, workspace: Workspace, form: ConnectForm, status=200):
    context = {
        "workspace": workspace,
        "connections": _label_statuses(list(workspace.connections.order_by("label"))),
        "form": form,
    }
    return render(request, "connections/workspace.html", context, status=status)


@login_required
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A connection's settings page: status, checklist, usage, progress and settings."""
    connection = _connection(request, pk)
    return _render_connection(request, connection, ConnectionSettingsForm(instance=connection))


def _render_connection(request, connection: Connection, form, status=200) -> HttpResponse:
    current = connection_current_run(connection=connection)
    last = connection_last_finished_run(connection=connection)
    context = {
        "connection": connection,
        "workspace": connection.workspace,
        "form": form,
        "usage": connection_api_usage(connection=connection),
        "progress": connection_progress(connection=connection),
        "current": current,
        "current_progress": run_progress(run=current) if current else None,
        "current_words": run_words(current) if current else None,
        "run_active": bool(current and current.status in SyncRun.ACTIVE_STATUSES),
        "last_run": last,
        "last_words": run_words(last) if last else None,
        "history": connection_run_history(connection=connection),
        "display_status": _display_status(connection, current),
        "hidden_fields": (connection.field_visibility or {}).get("objects", {}),
        "hidden_count": hidden_count(connection.field_visibility),
        "visibility_fix": visibility_fix(connection.sf_username),
        "refresh_seconds": settings.CONNECTION_PAGE_REFRESH_SECONDS,
        **_charts(connection),
        "purge": connection_data_purge(connection=connection),
        "checklist": (connection.preflight or {}).get("items", []),
        "shared_user_connections": connections_sharing_username(
            username=connection.sf_username, exclude_pk=connection.pk
        ),
    }
    return render(request, "connections/connection.html", context, status=status)


def _display_status(connection: Connection, current: SyncRun | None) -> tuple[str, str]:
    """The header badge (label, class): what is happening, not only the stored status, so a
    run paused on the API budget never sits under a green "Active"."""
    if connection.status != Connection.Status.ACTIVE or current is None:
        return connection.get_status_display(), connection.status
    if current.status == SyncRun.Status.PAUSED:
        return "Paused", "paused"
    if current.status == SyncRun.Status.RUNNING:
        return "Syncing", "syncing"
    return "Sync queued", "queued"


def _label_statuses(connections: list[Connection]) -> list[Connection]:
    """Give each connection its ``display_status`` (see ``_display_status``), in one query."""
    current = {}
    for run in SyncRun.objects.filter(
        connection__in=connections,
        status__in=[*SyncRun.ACTIVE_STATUSES, SyncRun.Status.PAUSED],
    ).order_by("created_at"):
        current[run.connection_id] = run
    for connection in connections:
        connection.display_status = _display_status(connection, current.get(connection.pk))
    return connections


def _charts(connection: Connection) -> dict:
    """Records ingested and API calls per day over 30 days; calls against the daily budget."""
    budget = (
        connection.api_budget_percent * connection.org_api_max // 100
        if connection.org_api_max
        else None
    )
    calls = connection_daily_api_calls(connection=connection, days=30)
    return {
        "records_chart": bar_chart(connection_daily_records(connection=connection, days=30)),
        "calls_chart": bar_chart(calls, limit=budget),
        "daily_budget": budget,
    }


# --- the OAuth flow -----------------------------------------------------------------------------


@salesforce_configured
@login_required
@require_POST
def connect(request: HttpRequest, slug: str) -> HttpResponse:
    """Start connecting an org: validate the environment, then off to Salesforce's login."""
    workspace = _workspace(request, slug)
    form = ConnectForm(request.POST)
    if not form.is_valid():
        return _render_workspace(request, workspace, form, status=400)
    url, pending = connection_authorize_start(
        workspace=workspace,
        environment=form.cleaned_data["environment"],
        login_url=form.cleaned_data["login_url"],
        redirect_uri=_redirect_uri(request),
        label=form.cleaned_data["label"],
    )
    _remember(request, pending)
    return redirect(url)


@salesforce_configured
@login_required
@require_POST
def reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-authorize the same connection row (its cursors and records carry on)."""
    connection = _connection(request, pk)
    url, pending = connection_authorize_start(
        workspace=connection.workspace,
        environment=connection.environment,
        login_url=connection.login_host,
        redirect_uri=_redirect_uri(request),
        connection=connection,
    )
    _remember(request, pending)
    return redirect(url)


@salesforce_configured
@login_required
def callback(request: HttpRequest) -> HttpResponse:
    """Salesforce's redirect back: check the state, then finish (or report the cancellation)."""
    pending = _recall(request, request.GET.get("state", ""))
    if pending is None:
        return render(request, "connections/oauth_error.html", status=400)
    workspace = _workspace_by_id(request, pending["workspace_id"])
    back = _back_url(workspace, pending)
    error = request.GET.get("error", "")
    if error:
        return _authorization_refused(request, error, back)
    code = request.GET.get("code", "")
    if not code:
        return render(request, "connections/oauth_error.html", status=400)
    try:
        outcome = connection_authorize_complete(
            pending=pending, code=code, redirect_uri=_redirect_uri(request), user=request.user
        )
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect(back)
    except SalesforceError as failure:
        problem = problem_for(failure)
        messages.error(request, f"Connecting failed. {problem.cause} {problem.fix}")
        return redirect(back)
    if outcome.candidate is not None:
        return redirect(
            "connections:reconnect_review", pk=outcome.connection.pk, candidate=outcome.candidate.pk
        )
    _report_connected(request, outcome)
    return redirect("connections:detail", pk=outcome.connection.pk)


@login_required
def reconnect_review(request: HttpRequest, pk: int, candidate: int) -> HttpResponse:
    """The stored and the new authorization side by side; the customer keeps one (POST)."""
    connection = _connection(request, pk)
    held = get_object_or_404(ReconnectCandidate, pk=candidate, connection=connection)
    if candidate_expired(held):
        connection_reconnect_discard(candidate=held)
        messages.warning(request, "That sign-in is too old to use: reconnect again.")
        return redirect("connections:detail", pk=pk)
    if request.method == "POST":
        return _reconnect_decide(request, connection, held)
    who = {"user_id": held.sf_user_id, "username": held.sf_username}
    context = {
        "connection": connection,
        "workspace": connection.workspace,
        "candidate": held,
        "reasons": reconnect_review_reasons(
            connection=connection, who=who, checklist=held.checklist
        ),
        "current_checklist": (connection.preflight or {}).get("items", []),
        "new_checklist": held.checklist.get("items", []),
    }
    return render(request, "connections/reconnect_review.html", context)


def _reconnect_decide(request: HttpRequest, connection: Connection, held) -> HttpResponse:
    if request.POST.get("choice") == "new":
        outcome = connection_reconnect_confirm(candidate=held)
        _report_connected(request, outcome)
    else:
        connection_reconnect_discard(candidate=held)
        who = connection.sf_username or "the connected user"
        messages.info(request, f"Nothing changed: {connection.label} still signs in as {who}.")
    return redirect("connections:detail", pk=connection.pk)


def _workspace_by_id(request: HttpRequest, workspace_id: int) -> Workspace:
    return get_object_or_404(workspaces_for_user(user=request.user), pk=workspace_id)


def _back_url(workspace: Workspace, pending: dict) -> str:
    if pending.get("connection_id"):
        return reverse("connections:detail", args=[pending["connection_id"]])
    return reverse("connections:workspace", args=[workspace.slug])


def _authorization_refused(request: HttpRequest, error: str, back: str) -> HttpResponse:
    if error in ("access_denied", "access-denied"):
        messages.info(request, "You cancelled connecting Salesforce. Nothing was changed.")
    else:
        description = request.GET.get("error_description", "") or error
        messages.error(request, f"Salesforce did not authorize the connection: {description}")
    return redirect(back)


def _report_connected(request: HttpRequest, outcome) -> None:
    connection = outcome.connection
    who = connection.sf_username or "the Salesforce user"
    verb = "Connected" if outcome.created else "Reconnected"
    messages.success(request, f"{verb} {connection.label} as {who}.")
    for notice in outcome.notices:
        messages.warning(request, notice)


# --- actions on a connection ----------------------------------------------------------------


@login_required
@require_POST
def connection_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the API budget, the org ceiling and the sync interval."""
    connection = _connection(request, pk)
    form = ConnectionSettingsForm(request.POST, instance=Connection.objects.get(pk=pk))
    if not form.is_valid():
        return _render_connection(request, connection, form, status=400)
    connection_update_settings(connection=connection, **form.cleaned_data)
    messages.success(request, "Settings saved.")
    return redirect("connections:detail", pk=pk)


@login_required
@require_POST
def connection_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue an incremental sync now."""
    connection = _connection(request, pk)
    try:
        connection_sync_now(
            connection=connection,
            kind=SyncRun.Kind.INCREMENTAL,
            trigger=SyncRun.Trigger.CUSTOMER,
        )
    except ApplicationError as refused:
        messages.warning(request, refused.message)
    else:
        messages.success(request, "Sync queued: it starts within a minute.")
    return redirect("connections:detail", pk=pk)


@login_required
@require_POST
def connection_preflight(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the permission checks again."""
    connection = _connection(request, pk)
    result = connection_run_preflight(connection=connection)["result"]
    text = {"pass": "Every check passed.", "warn": "Checked: see the warnings below."}
    messages.info(request, text.get(result, "Checked: some checks failed, see below."))
    return redirect("connections:detail", pk=pk)


@login_required
def connection_disconnect_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for confirmation (GET), then disconnect (POST)."""
    connection = _connection(request, pk)
    form = DisconnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        connection_disconnect(connection=connection, delete_data=form.cleaned_data["delete_data"])
        kept = "being deleted" if form.cleaned_data["delete_data"] else "kept"
        messages.success(request, f"{connection.label} is disconnected; its data is {kept}.")
        return redirect("connections:workspace", slug=connection.workspace.slug)
    status = 400 if request.method == "POST" else 200
    context = {"connection": connection, "form": form}
    return render(request, "connections/disconnect.html", context, status=status)
