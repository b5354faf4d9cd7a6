"""One slice of a sync run: plan every object, then keep several objects in flight at once.

Bulk jobs of up to ``max_bulk_jobs`` objects run at Salesforce in parallel while this worker
polls them with backoff and reads whichever finished first, page by page. The slice stops
starting work at its deadline; everything it did is already committed with its checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from connections.salesforce.errors import bulk_job_cap_resets_at
from connections.salesforce.exceptions import (
    SalesforceAuthError,
    SalesforceBudgetExceeded,
    SalesforceBulkJobCapReached,
    SalesforceError,
    SalesforceNotFound,
    SalesforcePermissionError,
    SalesforceRateLimited,
    SalesforceRequestTooLarge,
    SalesforceUnavailable,
)
from ingestion.engine.context import RunContext
from ingestion.engine.errors import ObjectFailed, RunPaused
from ingestion.engine.objects import ObjectReader
from ingestion.engine.values import parse_datetime
from ingestion.models import ObjectCursor, SyncRun

logger = logging.getLogger(__name__)

ACTIVE, DONE, FAILED, UNREADABLE = "active", "done", "failed", "unreadable"
CONNECTION_LEVEL_PERMISSION_CODES = ("API_CURRENTLY_DISABLED", "API_DISABLED_FOR_ORG")


class SliceRunner:
    """Drives the objects of one run until they are done or the slice's time is up."""

    def __init__(
        self,
        ctx: RunContext,
        sobjects: list[str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.sobjects = sobjects
        self.sleep = sleep
        self.monotonic = monotonic

    def run(self) -> bool:
        """Work until every object is done (True) or the slice deadline passes (False)."""
        readers = self._readers()
        try:
            finished = self._work(readers)
        except BaseException:
            for reader in readers:
                reader.pages.close()  # read again from the checkpoint by whoever resumes
            raise
        for reader in readers:
            reader.pages.keep(reader.cursor.pk)  # for the next slice, if it runs here
        return finished

    def _work(self, readers: list[ObjectReader]) -> bool:
        deadline = self.monotonic() + self.ctx.config.slice_seconds
        worked = False  # every slice does at least one piece of work, however short
        for reader in readers:
            if worked and self.monotonic() >= deadline:
                return False
            if not self._stats(reader).get("planned"):
                self._guarded(reader, reader.prepare, planned=True)
                worked = True
        active = [r for r in readers if self._stats(r)["status"] == ACTIVE]
        while active and (not worked or self.monotonic() < deadline):
            worked = self._tick(active, deadline) or worked
            active = [r for r in active if self._stats(r)["status"] == ACTIVE]
        return not active

    def _jobs_of_other_connections(self) -> int:
        """Bulk jobs in flight for the same org through other connections (the cap is per org,
        like Salesforce's own concurrency limits)."""
        connection = self.ctx.connection
        if not connection.org_id:
            return 0
        return (
            ObjectCursor.objects.filter(connection__org_id=connection.org_id)
            .exclude(connection=connection)
            .exclude(job_id="")
            .count()
        )

    def _readers(self) -> list[ObjectReader]:
        readers = []
        for sobject in self.sobjects:
            status = self.ctx.object_stats(sobject)["status"]
            if status in (DONE, FAILED, UNREADABLE):
                continue
            cursor, _ = ObjectCursor.objects.get_or_create(
                connection=self.ctx.connection, sobject=sobject
            )
            reconcile = self.ctx.run.kind == SyncRun.Kind.RECONCILE
            readers.append(ObjectReader(self.ctx, cursor, reconcile=reconcile))
        return readers

    def _stats(self, reader: ObjectReader) -> dict:
        return self.ctx.object_stats(reader.sobject)

    def _tick(self, active: list[ObjectReader], deadline: float) -> bool:
        in_flight = sum(1 for r in active if r.holds_job_slot)
        free = self.ctx.config.max_bulk_jobs - in_flight
        if free > 0 and any(r.wants_job_slot for r in active):
            free -= self._jobs_of_other_connections()
        now = self.monotonic()
        for reader in active:
            if reader.ready(now, free):
                self._guarded(reader, reader.step)
                active.append(active.pop(active.index(reader)))  # round robin
                return True
        waits = [r.next_action_at for r in active if r.next_action_at > now]
        pause = min([*waits, deadline, now + self.ctx.config.heartbeat_seconds]) - now
        self.sleep(max(pause, 0.05))
        self.ctx.heartbeat()
        return False

    def _guarded(self, reader: ObjectReader, action: Callable[[], None], planned=False) -> None:
        """Run one step, turning Salesforce errors into object or run outcomes."""
        stats = self._stats(reader)
        try:
            action()
        except ObjectFailed as failure:
            self._object_failed(reader, failure)
            return
        except SalesforceAuthError as error:
            raise RunPaused("needs_reauth", _auth_message(error)) from error
        except SalesforceBulkJobCapReached as error:
            resume_at = _job_cap_lifts_at(self.ctx.client, error)
            raise RunPaused("bulk_job_cap", _job_cap_message(error), resume_at) from error
        except SalesforceRateLimited as error:
            raise RunPaused(_limit_code(error), _limit_message(error), _resume_at(error)) from error
        except SalesforcePermissionError as error:
            if error.error_code in CONNECTION_LEVEL_PERMISSION_CODES:
                raise RunPaused("api_disabled", str(error)) from error
            self._object_failed(reader, ObjectFailed(error.error_code or "permission", str(error)))
            return
        except SalesforceNotFound as error:
            failure = ObjectFailed("object_unreadable", str(error), unreadable=True)
            self._object_failed(reader, failure)
            return
        except SalesforceRequestTooLarge as error:
            self._object_failed(reader, _too_large_failure(reader.sobject, error))
            return
        except SalesforceUnavailable as error:
            resume = timezone.now() + timedelta(minutes=5)
            raise RunPaused(
                "salesforce_unavailable",
                f"Salesforce kept failing ({error}); the sync resumes from its checkpoint.",
                resume,
            ) from error
        if planned:
            stats["planned"] = True
        stats["status"] = DONE if reader.done else ACTIVE
        if reader.done:
            self.ctx.commit(lambda: None)

    def _object_failed(self, reader: ObjectReader, failure: ObjectFailed) -> None:
        logger.warning("%s: %s", reader.sobject, failure.message)
        stats = self._stats(reader)
        stats.update(
            status=UNREADABLE if failure.unreadable else FAILED,
            error_code=failure.code,
            error=failure.message,
        )
        reader.cursor.last_error = failure.message
        self.ctx.commit(lambda: reader.cursor.save(update_fields=["last_error", "updated_at"]))


def _auth_message(error: SalesforceAuthError) -> str:
    return f"Salesforce refused the connection's authorisation ({error.reason}): {error.message}"


def _limit_code(error: SalesforceRateLimited) -> str:
    # Our own guard says which limit ("api_budget" or "org_usage_ceiling"); Salesforce's
    # refusal is the org's daily allocation itself.
    if isinstance(error, SalesforceBudgetExceeded):
        return (error.error_code or "api_budget").lower()
    return "daily_limit"


def _limit_message(error: SalesforceRateLimited) -> str:
    return error.message


def _resume_at(error: SalesforceRateLimited):
    return error.resume_at or timezone.now() + timedelta(hours=1)


def _job_cap_message(error: SalesforceBulkJobCapReached) -> str:
    cap = f"{error.cap:,} jobs" if error.cap else "its jobs"
    return (
        f"The org reached Salesforce's daily Bulk API query-job cap ({cap} in any 24 hours; "
        f"Salesforce said: {error.message}). The sync pauses until enough of those jobs are a "
        "day old, then resumes from its checkpoint."
    )


def _job_cap_lifts_at(client, error: SalesforceBulkJobCapReached):
    """When the rolling 24 hours free a job slot: from the org's job list when it holds the
    whole count, else a day after the refusal (jobs deleted since still count, unlisted)."""
    now = timezone.now()
    if not error.cap:
        return error.resume_at
    try:
        created = [
            parse_datetime(j.created_date) for j in client.bulk_list_jobs() if j.created_date
        ]
    except SalesforceError as listing_error:
        logger.warning("Bulk job list unavailable (%s); pausing a full day", listing_error)
        return error.resume_at
    lifts = bulk_job_cap_resets_at(created, error.cap, now)
    return lifts if lifts > now else error.resume_at


def _too_large_failure(sobject: str, error: SalesforceRequestTooLarge) -> ObjectFailed:
    return ObjectFailed(
        "request_too_large",
        f"Salesforce refused a request for {sobject} as too large ({error}). The other "
        "objects carry on; reading it through Bulk (READ_MODE auto) avoids the limit.",
    )
