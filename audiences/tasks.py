"""Queue entry points. Ids in, one service call, a small summary out."""

from audiences import services
from audiences.models import Audience, CsvList

WORKING = (CsvList.Status.IMPORTING, CsvList.Status.MATCHING)


def audience_evaluate(audience_id: int, trigger: str, sync_run_id: int | None = None) -> dict:
    """Evaluate one audience (after a save, a sync, or an ops action)."""
    audience = Audience.objects.select_related("connection", "workspace").get(pk=audience_id)
    evaluation = services.audience_evaluate(
        audience=audience, trigger=trigger, sync_run_id=sync_run_id
    )
    return {"audience": audience_id, "size": evaluation.size if evaluation else None}


def csv_list_import(csv_list_id: int) -> dict:
    """Import an uploaded CSV list once its mapping is confirmed."""
    csv_list = services.csv_list_import(csv_list=CsvList.objects.get(pk=csv_list_id))
    return {"list": csv_list_id, "valid": csv_list.valid_rows, "invalid": csv_list.invalid_rows}


def csv_list_import_done(task) -> None:
    """django-q hook: a worker killed or timed out mid-import leaves the list in ``error``
    with a Retry, not ``importing`` forever (the service records every other failure)."""
    if task.success:
        return
    csv_list = CsvList.objects.filter(pk=task.args[0], status__in=WORKING).first()
    if csv_list is not None:
        services.csv_list_fail(
            csv_list=csv_list,
            message="The import was interrupted (the worker stopped or ran out of time); retry it.",
        )


def audience_evaluate_done(task) -> None:
    """django-q hook: an evaluation whose worker was killed or timed out ends in ``error``
    with a message, not ``matching`` forever."""
    if task.success:
        return
    audience = Audience.objects.filter(pk=task.args[0], status=Audience.Status.MATCHING).first()
    if audience is not None:
        services.audience_fail(
            audience=audience,
            message="The evaluation was interrupted (the worker stopped or ran out of time); "
            "re-evaluate to retry.",
        )
