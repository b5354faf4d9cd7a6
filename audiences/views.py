"""Customer pages for audiences and CSV lists, limited to the workspace's members (404 else)."""

from __future__ import annotations

import csv
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from audiences import services
from audiences.criteria import CriteriaError
from audiences.csv_io import sample_csv
from audiences.forms import AudienceForm, CsvMappingForm, CsvUploadForm
from audiences.models import Audience, CsvList
from audiences.normalise import cell_safe
from audiences.selectors import (
    AudienceSpec,
    audience_criteria_check,
    audience_size_estimate,
    connection_gate,
)
from audiences.selectors.builder import builder_config
from audiences.selectors.lists import (
    csv_list_invalid_rows,
    csv_list_match_counts,
    csv_list_unmatched_rows,
    csv_lists_for_user,
)
from audiences.selectors.members import audience_export_rows, audience_preview, platform_warnings
from connections.selectors import connections_for_user, workspaces_for_user
from primer_sf.errors import ApplicationError


def _audience(request: HttpRequest, pk: int) -> Audience:
    audiences = Audience.objects.filter(workspace__memberships__user=request.user)
    return get_object_or_404(audiences.select_related("connection", "workspace"), pk=pk)


def _csv_list(request: HttpRequest, pk: int) -> CsvList:
    return get_object_or_404(csv_lists_for_user(user=request.user), pk=pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    """Stream rows as CSV; every cell is guarded against spreadsheet formula injection."""
    writer = csv.writer(_Echo())
    body = (writer.writerow([cell_safe(c) for c in row]) for row in rows)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def audience_list(request: HttpRequest) -> HttpResponse:
    """Every audience of the user's workspaces."""
    audiences = (
        Audience.objects.filter(workspace__memberships__user=request.user)
        .exclude(status=Audience.Status.ARCHIVED)
        .select_related("connection", "workspace")
    )
    connections = connections_for_user(user=request.user)
    return render(
        request,
        "audiences/list.html",
        {"audiences": audiences, "connections": connections},
    )


def _save(request, form, connection, audience=None) -> Audience:
    data = form.cleaned_data
    fields = {
        "name": data["name"], "holds": data["holds"], "description": data["description"],
        "criteria": data.get("criteria") or {}, "include": list(data["include"]),
        "exclude": list(data["exclude"]),
    }  # fmt: skip
    if audience is None:
        audience = services.audience_create(
            workspace=connection.workspace, connection=connection, user=request.user, **fields
        )
    else:
        audience = services.audience_update(audience=audience, **fields)
    if "run" in request.POST:
        services.audience_evaluate_enqueue(audience=audience, trigger="customer")
    return audience


def _builder(request: HttpRequest, connection, audience: Audience | None) -> HttpResponse:
    initial = AudienceForm.initial_for(audience) if audience else {}
    form = AudienceForm(request.POST or None, connection=connection, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            audience = _save(request, form, connection, audience)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Saved “{audience.name}”.")
            return redirect("audiences:detail", pk=audience.pk)
    gate = connection_gate(connection=connection)
    context = {
        "form": form,
        "audience": audience,
        "connection": connection,
        "connections": connections_for_user(user=request.user),
        "gate": gate,
        "config": builder_config(
            connection=connection, gate=gate, criteria=form["criteria"].value()
        ),
    }
    return render(request, "audiences/builder.html", context)


@login_required
def audience_new(request: HttpRequest) -> HttpResponse:
    """The builder for a new audience on one of the user's connections."""
    connections = connections_for_user(user=request.user)
    chosen = request.GET.get("connection")
    connection = get_object_or_404(connections, pk=chosen) if chosen else connections.first()
    if connection is None:
        messages.info(request, "Connect a Salesforce org first: audiences are built on its data.")
        return redirect("connections:index")
    return _builder(request, connection, None)


@login_required
def audience_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder for an existing audience."""
    audience = _audience(request, pk)
    return _builder(request, audience.connection, audience)


@login_required
def audience_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Summary, preview, history and export of one audience."""
    audience = _audience(request, pk)
    summary = audience.summary or {}
    evaluations = list(audience.evaluations.all()[:10])
    context = {
        "audience": audience,
        "summary": summary,
        "preview": audience_preview(audience=audience),
        "evaluations": evaluations,
        "last": evaluations[0] if evaluations else None,
        "lists": audience.list_uses.select_related("csv_list"),
        "warnings": platform_warnings(
            size=summary.get("matchable"), minimums=settings.AUDIENCE_PLATFORM_MINIMUMS
        ),
    }
    return render(request, "audiences/detail.html", context)


@login_required
@require_POST
def audience_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Evaluate the audience now (on a worker)."""
    audience = _audience(request, pk)
    try:
        services.audience_evaluate_enqueue(audience=audience, trigger="customer")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("audiences:detail", pk=pk)


@login_required
@require_POST
def audience_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive the audience."""
    audience = services.audience_archive(audience=_audience(request, pk))
    messages.success(request, f"Archived “{audience.name}”.")
    return redirect("audiences:list")


@login_required
def audience_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The members as CSV, with normalised and SHA-256-hashed email and phone."""
    audience = _audience(request, pk)
    return _csv_response(audience_export_rows(audience=audience), f"audience-{audience.pk}.csv")


def _estimate_input(request: HttpRequest):
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise Http404 from None
    connections = connections_for_user(user=request.user)
    connection = get_object_or_404(connections, pk=body.get("connection"))
    lists = {lst.pk: lst for lst in CsvList.objects.filter(workspace=connection.workspace)}
    return connection, body, lists


@login_required
@require_POST
def audience_estimate(request: HttpRequest) -> JsonResponse:
    """Live size estimate for criteria being edited (the builder calls this as they change)."""
    connection, body, lists = _estimate_input(request)
    gate = connection_gate(connection=connection)
    result = {"locked": gate.locked, "message": gate.message, "percent": _percent(gate)}
    criteria, holds = body.get("criteria") or {}, body.get("holds", "people")
    if holds not in Audience.Holds.values:
        return JsonResponse({**result, "errors": ["Unknown audience type."]}, status=400)
    try:
        tree = audience_criteria_check(connection=connection, holds=holds, criteria=criteria)
    except CriteriaError as error:
        return JsonResponse({**result, "errors": error.messages}, status=400)
    spec = AudienceSpec(
        connection=connection,
        holds=holds,
        tree=tree,
        include=tuple(lists[i] for i in body.get("include", []) if i in lists),
        exclude=tuple(lists[i] for i in body.get("exclude", []) if i in lists),
    )
    estimate = audience_size_estimate(spec=spec)
    return JsonResponse({**result, "total": estimate.total, "by_object": estimate.by_object})


def _percent(gate) -> float | None:
    return getattr(gate.progress, "percent", None) if gate.locked else 100.0


@login_required
def connection_gate_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Whether Salesforce criteria are unlocked yet (the builder polls this while locked)."""
    connection = get_object_or_404(connections_for_user(user=request.user), pk=pk)
    gate = connection_gate(connection=connection)
    return JsonResponse({"locked": gate.locked, "message": gate.message, "percent": _percent(gate)})


# --- CSV lists -------------------------------------------------------------------------------


@login_required
def csv_lists(request: HttpRequest) -> HttpResponse:
    """The workspace's CSV lists, and the upload form."""
    workspaces = workspaces_for_user(user=request.user)
    form = CsvUploadForm(request.POST or None, request.FILES or None, workspaces=workspaces)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            csv_list = services.csv_list_upload(
                workspace=data["workspace"], name=data["name"], kind=data["kind"],
                file=data["file"], user=request.user,
            )  # fmt: skip
        except ApplicationError as error:
            form.add_error("file", error.message)
        else:
            return redirect("audiences:csv_list", pk=csv_list.pk)
    lists = csv_lists_for_user(user=request.user)
    return render(request, "audiences/csv_lists.html", {"form": form, "lists": lists})


@login_required
def csv_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Column mapping (before import), then counts, match rates and downloads."""
    csv_list = _csv_list(request, pk)
    form = None
    if csv_list.status == CsvList.Status.MAPPING:
        form = CsvMappingForm(request.POST or None, csv_list=csv_list)
        if request.method == "POST" and form.is_valid():
            try:
                services.csv_list_set_mapping(csv_list=csv_list, mapping=form.mapping())
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Importing “{csv_list.name}”.")
                return redirect("audiences:csv_list", pk=pk)
    matches = [
        csv_list_match_counts(csv_list=csv_list, connection=c)
        for c in csv_list.workspace.connections.all()
    ]
    invalid = csv_list.rows.filter(is_valid=False).order_by("row_number")[:20]
    context = {"csv_list": csv_list, "form": form, "matches": matches, "invalid": invalid}
    return render(request, "audiences/csv_list.html", context)


@login_required
def csv_list_invalid(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Invalid rows with their row number and reason."""
    csv_list = _csv_list(request, pk)
    return _csv_response(csv_list_invalid_rows(csv_list=csv_list), f"list-{pk}-invalid.csv")


@login_required
def csv_list_unmatched(request: HttpRequest, pk: int, connection_pk: int) -> StreamingHttpResponse:
    """Valid rows that matched no record of the connection."""
    csv_list = _csv_list(request, pk)
    connection = get_object_or_404(csv_list.workspace.connections, pk=connection_pk)
    rows = csv_list_unmatched_rows(csv_list=csv_list, connection=connection)
    return _csv_response(rows, f"list-{pk}-unmatched.csv")


@login_required
def csv_sample(request: HttpRequest, kind: str) -> HttpResponse:
    """A sample file of the expected layout."""
    if kind not in CsvList.Kind.values:
        raise Http404
    response = HttpResponse(sample_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sample-{kind}.csv"'
    return response
