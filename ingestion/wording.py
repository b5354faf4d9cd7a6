"""Sync run outcomes in plain words for customers: what happened and what to do, never a raw
error code or Salesforce's own terse message on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingestion.models import SyncRun

# error_code -> (what happened, what to do). Codes are the engine's (ingestion/engine/runner.py)
# and the run services' (ingestion/services/runs.py, sync.py).
RUN_PROBLEMS: dict[str, tuple[str, str]] = {
    "api_budget": (
        "Paused: this connection used the share of the org's daily API calls you allowed it.",
        "Nothing to do: it resumes by itself as the last 24 hours' calls age out. To resume "
        "sooner, raise the API budget in Settings.",
    ),
    "org_usage_ceiling": (
        "Paused: your Salesforce org as a whole has used most of its daily API calls, past "
        "the ceiling you set for syncs.",
        "Nothing to do: it resumes by itself when the org's usage drops. If your other tools "
        "can spare calls, raise the ceiling in Settings.",
    ),
    "daily_limit": (
        "Paused: Salesforce refused further API calls because the org's daily allocation is spent.",
        "Nothing to do: it resumes by itself when Salesforce allows calls again. Lower the "
        "API budget if other tools need the calls.",
    ),
    "needs_reauth": (
        "Paused: Salesforce no longer accepts this connection's authorization.",
        "Reconnect the connection; the sync then resumes where it stopped.",
    ),
    "api_disabled": (
        "Paused: the connected Salesforce user may no longer use the API.",
        "Enable “API Enabled” on the user's profile or a permission set, then click “Check again”.",
    ),
    "salesforce_unavailable": (
        "Paused: Salesforce kept failing to answer.",
        "Nothing to do: the sync resumes by itself from where it stopped.",
    ),
    "objects_skipped": (
        "Some objects could not be read; the others were synced.",
        "See the permission checks below, fix what they say, then click “Check again”.",
    ),
    "internal_error": (
        "The sync stopped on an unexpected error on our side.",
        "Nothing to do: our team is alerted and the next sync tries again.",
    ),
    "connection_inactive": ("Not run: the connection was not active.", ""),
    "connection_disconnected": ("Not run: the connection was disconnected.", ""),
    "cancelled": ("Cancelled.", ""),
}
PAUSE_CODES_BUDGET = ("api_budget", "org_usage_ceiling", "daily_limit")
# Salesforce's error codes as they prefix its messages ("INVALID_FIELD: No such column …").
_RAW_CODE = re.compile(r"\b[A-Z][A-Z0-9_]{3,}: ")


@dataclass(frozen=True)
class RunWords:
    """A run's outcome for a customer."""

    headline: str
    detail: str
    fix: str


def run_words(run: SyncRun) -> RunWords | None:
    """What went wrong in ``run``, in words (``None`` when nothing did)."""
    if not run.error_code and not run.error_message:
        return None
    headline, fix = RUN_PROBLEMS.get(
        run.error_code,
        ("The sync did not finish.", "Nothing to do: the next sync tries again."),
    )
    return RunWords(headline=headline, detail=_detail(run), fix=fix)


def _detail(run: SyncRun) -> str:
    """The run's own specifics: when it resumes, or which objects failed and why."""
    if run.error_code in PAUSE_CODES_BUDGET or run.error_code == "salesforce_unavailable":
        if run.resume_at and run.status == SyncRun.Status.PAUSED:
            return f"It resumes around {run.resume_at:%H:%M} UTC on {run.resume_at:%b %-d}."
        return ""
    if run.error_code == "objects_skipped":
        return _RAW_CODE.sub("", run.error_message)
    if run.error_code in RUN_PROBLEMS:
        return ""
    return _RAW_CODE.sub("", run.error_message)
