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
from audiences.csv_io import DELIMITER_NAMES, ENCODINGS, sample_csv
from audiences.forms import (
    AudienceForm,
    ConnectionQueryForm,
    CsvMappingForm,
    CsvReadingForm,
    CsvUploadForm,
    EstimateForm,
    FieldValuesForm,
)
from audiences.models import Audience, CsvList
from audiences.normalise import cell_safe
from audiences.selectors import (
    AudienceSpec,
    audience_criteria_check,
    audience_size_estimate,
    connection_gate,
)
from audiences.selectors.builder import audience_criteria_words, builder_config, field_values
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


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


KEPT_CRITERIA = (
    "Salesforce filters are locked until the connection's first ingestion completes, so this "
    "audience's filters were kept exactly as they were."
)


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
        "criteria": data["criteria"], "include": list(data["include"]),
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
    gate = connection_gate(connection=connection)
    form = AudienceForm(
        request.POST or None,
        connection=connection,
        audience=audience,
        locked=gate.locked,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            audience = _save(request, form, connection, audience)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Saved “{audience.name}”.")
            if form.keeps_criteria:
                messages.info(request, KEPT_CRITERIA)
            return redirect("audiences:detail", pk=audience.pk)
    context = {
        "form": form,
        "audience": audience,
        "connection": connection,
        "connections": connections_for_user(user=request.user),
        "gate": gate,
        "kept_criteria": KEPT_CRITERIA if form.keeps_criteria else "",
        "config": builder_config(
            connection=connection, gate=gate, criteria=form["criteria"].value()
        ),
    }
    return render(request, "audiences/builder.html", context)


@login_required
def audience_new(request: HttpRequest) -> HttpResponse:
    """The builder for a new audience on one of the user's connections."""
    connections = connections_for_user(user=request.user)
    query = ConnectionQueryForm(request.GET)
    if not query.is_valid():
        return _bad_request("?connection= takes a connection id.")
    chosen = query.cleaned_data["connection"]
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
        "criteria_words": audience_criteria_words(audience=audience),
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


def _estimate_input(request: HttpRequest) -> EstimateForm:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    return EstimateForm(body if isinstance(body, dict) else {"connection": None})


@login_required
@require_POST
def audience_estimate(request: HttpRequest) -> JsonResponse:
    """Live size estimate for criteria being edited (the builder calls this as they change)."""
    form = _estimate_input(request)
    if not form.is_valid():
        errors = [f"{name}: {' '.join(e)}" for name, e in form.errors.items()]
        return JsonResponse({"errors": errors}, status=400)
    data = form.cleaned_data
    connections = connections_for_user(user=request.user)
    connection = get_object_or_404(connections, pk=data["connection"])
    lists = {lst.pk: lst for lst in CsvList.objects.filter(workspace=connection.workspace)}
    gate = connection_gate(connection=connection)
    result = {"locked": gate.locked, "message": gate.message, "percent": _percent(gate)}
    try:
        tree = audience_criteria_check(
            connection=connection, holds=data["holds"], criteria=data["criteria"]
        )
    except CriteriaError as error:
        return JsonResponse({**result, "errors": error.messages}, status=400)
    spec = AudienceSpec(
        connection=connection,
        holds=data["holds"],
        tree=tree,
        include=tuple(lists[i] for i in data["include"] if i in lists),
        exclude=tuple(lists[i] for i in data["exclude"] if i in lists),
    )
    estimate = audience_size_estimate(spec=spec)
    return JsonResponse({**result, "total": estimate.total, "by_object": estimate.by_object})


@login_required
def field_values_search(request: HttpRequest) -> JsonResponse:
    """One page of the values of a list-valued field matching ``q`` (the builder's picker):
    campaigns by name, or picklist values. Another workspace's connection is a 404."""
    form = FieldValuesForm(request.GET)
    if not form.is_valid():
        errors = [f"{name}: {' '.join(e)}" for name, e in form.errors.items()]
        return JsonResponse({"errors": errors}, status=400)
    data = form.cleaned_data
    connection = get_object_or_404(connections_for_user(user=request.user), pk=data["connection"])
    found = field_values(
        connection=connection,
        sobject=data["object"],
        field=data["field"],
        query=data["q"],
        page=data["page"],
    )
    if found is None:
        return JsonResponse({"errors": ["This field has no list of values."]}, status=400)
    return JsonResponse({"results": found.results, "page": found.page, "has_more": found.has_more})


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
    lists = list(csv_lists_for_user(user=request.user))
    working = any(lst.working for lst in lists)
    context = {"form": form, "lists": lists, "working": working}
    return render(request, "audiences/csv_lists.html", context)


@login_required
def csv_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Reading options and column mapping (before import), then progress, counts, match rates
    and downloads."""
    csv_list = _csv_list(request, pk)
    form = reading = None
    if csv_list.status == CsvList.Status.MAPPING:
        reading = CsvReadingForm(
            request.POST if "reading" in request.POST else None,
            initial={"encoding": csv_list.encoding, "delimiter": csv_list.delimiter},
        )
        form = CsvMappingForm(
            request.POST if request.method == "POST" and "reading" not in request.POST else None,
            csv_list=csv_list,
        )
        done = _reading_post(request, csv_list, reading) or _mapping_post(request, csv_list, form)
        if done:
            return redirect("audiences:csv_list", pk=csv_list.pk)
    matches = [
        csv_list_match_counts(csv_list=csv_list, connection=c)
        for c in csv_list.workspace.connections.all()
    ]
    invalid = csv_list.rows.filter(is_valid=False).order_by("row_number")[:20]
    context = {
        "csv_list": csv_list,
        "form": form,
        "reading": reading,
        "matches": matches,
        "invalid": invalid,
        "delimiter_name": DELIMITER_NAMES.get(csv_list.delimiter, csv_list.delimiter),
        "encoding_name": ENCODINGS.get(csv_list.encoding, csv_list.encoding),
        "uses": csv_list.uses.select_related("audience"),
    }
    return render(request, "audiences/csv_list.html", context)


def _reading_post(request: HttpRequest, csv_list: CsvList, form: CsvReadingForm) -> bool:
    if not form.is_bound or not form.is_valid():
        return False
    try:
        services.csv_list_set_reading(csv_list=csv_list, **form.cleaned_data)
    except ApplicationError as error:
        form.add_error(None, error.message)
        return False
    messages.success(request, "Read the file again with the encoding and delimiter you chose.")
    return True


def _mapping_post(request: HttpRequest, csv_list: CsvList, form: CsvMappingForm) -> bool:
    if not form.is_bound or not form.is_valid():
        return False
    try:
        services.csv_list_set_mapping(csv_list=csv_list, mapping=form.mapping())
    except ApplicationError as error:
        form.add_error(None, error.message)
        return False
    messages.success(request, f"Importing “{csv_list.name}”.")
    return True


@login_required
@require_POST
def csv_list_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Import a failed (or stalled) list again."""
    csv_list = _csv_list(request, pk)
    try:
        services.csv_list_retry(csv_list=csv_list)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Importing “{csv_list.name}” again.")
    return redirect("audiences:csv_list", pk=csv_list.pk)


@login_required
@require_POST
def csv_list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a list; audiences that used it drop it and are evaluated again."""
    csv_list = _csv_list(request, pk)
    name = csv_list.name
    dropped = services.csv_list_delete(csv_list=csv_list)
    note = f" {len(dropped)} audience(s) no longer use it and are re-evaluated." if dropped else ""
    messages.success(request, f"Deleted “{name}”.{note}")
    return redirect("audiences:csv_lists")


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
