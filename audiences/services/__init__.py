"""Writes of the audiences app: ``audiences`` (definition, evaluation, refresh) and ``lists``
(CSV upload, mapping, import, matching)."""

from audiences.services.audiences import (
    audience_archive,
    audience_create,
    audience_evaluate,
    audience_evaluate_enqueue,
    audience_fail,
    audience_refresh_enqueue,
    audience_update,
)
from audiences.services.lists import (
    csv_list_delete,
    csv_list_fail,
    csv_list_import,
    csv_list_rematch,
    csv_list_retry,
    csv_list_set_mapping,
    csv_list_set_reading,
    csv_list_upload,
)

__all__ = [
    "audience_archive",
    "audience_create",
    "audience_evaluate",
    "audience_evaluate_enqueue",
    "audience_fail",
    "audience_refresh_enqueue",
    "audience_update",
    "csv_list_delete",
    "csv_list_fail",
    "csv_list_import",
    "csv_list_rematch",
    "csv_list_retry",
    "csv_list_set_mapping",
    "csv_list_set_reading",
    "csv_list_upload",
]
