"""Writes for audiences: create, update, archive, evaluate (materialise members), refresh."""

from __future__ import annotations

import logging
import time

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from audiences.criteria import CriteriaError
from audiences.models import (
    Audience,
    AudienceEvaluation,
    AudienceList,
    AudienceMember,
    CsvList,
)
from audiences.selectors import audience_criteria_check, audience_records, audience_spec
from audiences.selectors.lists import csv_lists_match_rate
from audiences.selectors.members import audience_summary_compute
from audiences.services.lists import csv_list_rematch
from connections.models import Connection, Workspace
from primer_sf.errors import ApplicationError

logger = logging.getLogger(__name__)
BATCH = 5000


def _check(
    *, workspace: Workspace, connection: Connection, holds: str, criteria: dict, lists: list
) -> None:
    if connection.workspace_id != workspace.pk:
        raise ApplicationError("That connection belongs to another workspace.")
    if any(lst.workspace_id != workspace.pk for lst in lists):
        raise ApplicationError("That CSV list belongs to another workspace.")
    try:
        audience_criteria_check(connection=connection, holds=holds, criteria=criteria)
    except CriteriaError as error:
        raise ApplicationError(" ".join(error.messages), {"criteria": error.messages}) from None


def _set_lists(audience: Audience, include: list[CsvList], exclude: list[CsvList]) -> None:
    audience.list_uses.all().delete()
    AudienceList.objects.bulk_create(
        [AudienceList(audience=audience, csv_list=lst, mode="include") for lst in include]
        + [AudienceList(audience=audience, csv_list=lst, mode="exclude") for lst in exclude]
    )


@transaction.atomic
def audience_create(
    *,
    workspace: Workspace,
    connection: Connection,
    name: str,
    holds: str = Audience.Holds.PEOPLE,
    description: str = "",
    criteria: dict | None = None,
    include: list[CsvList] = (),
    exclude: list[CsvList] = (),
    user: AbstractBaseUser | None = None,
) -> Audience:
    """Create a draft audience. Salesforce criteria are refused until the connection's
    initial ingestion completes (invariant 9); CSV lists are allowed at any time."""
    criteria = criteria or {}
    _check(workspace=workspace, connection=connection, holds=holds, criteria=criteria,
           lists=[*include, *exclude])  # fmt: skip
    audience = Audience.objects.create(
        workspace=workspace, connection=connection, name=name, holds=holds,
        description=description, criteria=criteria, created_by=user,
    )  # fmt: skip
    _set_lists(audience, list(include), list(exclude))
    return audience


@transaction.atomic
def audience_update(
    *,
    audience: Audience,
    name: str,
    holds: str,
    description: str = "",
    criteria: dict | None = None,
    include: list[CsvList] = (),
    exclude: list[CsvList] = (),
) -> Audience:
    """Change an audience's definition (same rules as creating one); it becomes a draft
    until evaluated again.

    Criteria identical to the stored ones are kept as they are, unchecked: an unchanged save
    stores what the page loaded (invariant 13), even while the gate is closed after the
    connection's data was deleted.
    """
    criteria = criteria or {}
    changed = criteria != (audience.criteria or {}) or holds != audience.holds
    _check(workspace=audience.workspace, connection=audience.connection, holds=holds,
           criteria=criteria if changed else {}, lists=[*include, *exclude])  # fmt: skip
    audience.name, audience.holds, audience.description = name, holds, description
    audience.criteria = criteria
    if audience.status != Audience.Status.MATCHING:
        audience.status = Audience.Status.DRAFT
    audience.save()
    _set_lists(audience, list(include), list(exclude))
    return audience


def audience_archive(*, audience: Audience) -> Audience:
    """Archive an audience: no more refreshes; its members are dropped."""
    audience.status = Audience.Status.ARCHIVED
    audience.save(update_fields=["status", "updated_at"])
    AudienceMember.objects.filter(audience=audience).delete()
    return audience


def audience_evaluate_enqueue(*, audience: Audience, trigger: str) -> Audience:
    """Mark the audience as matching and evaluate it on a worker once this transaction commits."""
    if audience.status == Audience.Status.ARCHIVED:
        raise ApplicationError("An archived audience is not evaluated.")
    _check(workspace=audience.workspace, connection=audience.connection, holds=audience.holds,
           criteria=audience.criteria, lists=[])  # fmt: skip
    Audience.objects.filter(pk=audience.pk).update(status=Audience.Status.MATCHING, progress=0)
    audience.status, audience.progress = Audience.Status.MATCHING, 0
    transaction.on_commit(
        lambda: async_task(
            "audiences.tasks.audience_evaluate",
            audience.pk,
            trigger,
            None,
            hook="audiences.tasks.audience_evaluate_done",
        )
    )
    return audience


def audience_refresh_enqueue(*, connection: Connection, sync_run_id: int | None) -> int:
    """Queue a re-evaluation of each ready audience of the connection; returns how many."""
    ids = list(
        Audience.objects.filter(connection=connection, status=Audience.Status.READY).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        transaction.on_commit(
            lambda pk=pk: async_task(
                "audiences.tasks.audience_evaluate",
                pk,
                AudienceEvaluation.Trigger.SYNC,
                sync_run_id,
                task_name=f"audience-{pk}-after-{sync_run_id}",
                group=f"connection-{connection.pk}-audiences",
                hook="audiences.tasks.audience_evaluate_done",
            )
        )
    return len(ids)


def _progress(audience: Audience, percent: int) -> None:
    Audience.objects.filter(pk=audience.pk).update(progress=percent)


def audience_evaluate(
    *, audience: Audience, trigger: str, sync_run_id: int | None = None
) -> AudienceEvaluation | None:
    """Materialise the members, diff them against the last evaluation, record the history.

    Failures (e.g. criteria that no longer validate) become the audience's ``error`` status
    with a message; the task still ends normally.
    """
    if audience.status == Audience.Status.ARCHIVED:
        return None
    started = time.monotonic()
    Audience.objects.filter(pk=audience.pk).update(status=Audience.Status.MATCHING, progress=5)
    try:
        return _evaluate(audience, trigger, sync_run_id, started)
    except CriteriaError as error:
        _fail(audience, " ".join(error.messages))
    except Exception:  # any failure must end visible with a retry (invariant 13), never stuck
        logger.exception("Evaluation of audience %s failed", audience.pk)
        _fail(audience, "The evaluation stopped on an unexpected problem; re-evaluate to retry.")
    return None


def _evaluate(audience: Audience, trigger: str, sync_run_id, started: float):
    spec = audience_spec(audience=audience)
    for csv_list in (*spec.include, *spec.exclude):
        csv_list_rematch(csv_list=csv_list, connection=audience.connection)
    _progress(audience, 40)
    wanted = {
        pk: target
        for target in spec.targets
        for pk in audience_records(spec=spec, target=target).values_list("pk", flat=True)
    }
    _progress(audience, 70)
    return _record(audience, spec, wanted, trigger, sync_run_id, started)


def _record(audience, spec, wanted: dict[int, str], trigger, sync_run_id, started):
    """Apply the member diff a batch per transaction (never one over the whole audience, so
    sign-ins and pages never wait on it), then the new size and history in one small one."""
    existing = set(
        AudienceMember.objects.filter(audience=audience).values_list("record_id", flat=True)
    )
    added = [pk for pk in wanted if pk not in existing]
    removed = [pk for pk in existing if pk not in wanted]
    for start in range(0, len(removed), BATCH):
        with transaction.atomic():
            chunk = removed[start : start + BATCH]
            AudienceMember.objects.filter(audience=audience, record_id__in=chunk).delete()
    for start in range(0, len(added), BATCH):
        with transaction.atomic():
            AudienceMember.objects.bulk_create(
                [AudienceMember(audience=audience, record_id=pk, sobject=wanted[pk])
                 for pk in added[start : start + BATCH]],
                ignore_conflicts=True,
            )  # fmt: skip
    _progress(audience, 90)
    summary = audience_summary_compute(audience=audience)
    match_rate = (
        csv_lists_match_rate(csv_lists=spec.include, connection=audience.connection)
        if spec.include
        else None
    )
    with transaction.atomic():
        return _finish(audience, spec, wanted, summary, match_rate, trigger, sync_run_id,
                       started, len(added), len(removed))  # fmt: skip


def _finish(audience, spec, wanted, summary, match_rate, trigger, sync_run_id, started,
            added: int, removed: int) -> AudienceEvaluation:  # fmt: skip
    previous = audience.size if audience.last_evaluated_at else None
    audience.size, audience.match_rate, audience.summary = len(wanted), match_rate, summary
    audience.status, audience.progress, audience.status_message = Audience.Status.READY, 100, ""
    audience.last_evaluated_at = timezone.now()
    audience.save()
    return AudienceEvaluation.objects.create(
        audience=audience, trigger=trigger, sync_run_id=sync_run_id, size=audience.size,
        previous_size=previous, added=added, removed=removed,
        match_rate=audience.match_rate, criteria=audience.criteria,
        lists=[{"list": lst.name, "id": lst.pk, "mode": mode}
               for mode, lists in (("include", spec.include), ("exclude", spec.exclude))
               for lst in lists],
        duration_ms=int((time.monotonic() - started) * 1000),
    )  # fmt: skip


def audience_fail(*, audience: Audience, message: str) -> None:
    """End an evaluation in ``error`` with a message (Re-evaluate is the retry)."""
    _fail(audience, message)


def _fail(audience: Audience, message: str) -> None:
    logger.warning("Audience %s could not be evaluated: %s", audience.pk, message)
    Audience.objects.filter(pk=audience.pk).update(
        status=Audience.Status.ERROR, progress=0, status_message=message
    )
    audience.status, audience.status_message = Audience.Status.ERROR, message
