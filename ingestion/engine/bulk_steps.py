"""The Bulk API 2.0 steps of reading one object: create a window's (or a pass's) job, poll it,
read its result pages (engine/pages.py fetches them ahead), and make the next window's job
while this one is read. A mixin of ObjectReader (engine/objects.py holds the state machine).
"""

from __future__ import annotations

import logging
import time

from django.utils import timezone

from connections.salesforce.exceptions import SalesforceBulkJobCapReached, SalesforceNotFound
from connections.salesforce.types import ResultPage
from ingestion.engine import passes
from ingestion.engine.errors import ObjectFailed
from ingestion.engine.readers import records_from_csv
from ingestion.engine.windows import select_soql

logger = logging.getLogger(__name__)


def poll_wait(age: float, config) -> float:
    """Seconds until a running job of ``age`` seconds is polled again: its age plus
    ``poll_initial_seconds``, at most ``poll_max_seconds``. A job is polled at 1, 3, 7, 15, 31 s
    of age, then every 30 s: a backoff that doubles, counted from the job's creation rather than
    from our own last wait. A job made ahead is first polled when its window's turn comes,
    already old, and used to inherit the doubled wait the job before it ended on (up to 30 s
    more for a job done seconds after that first poll).

    Polling once the age had grown by half instead (at most 50% late, not 100%) saw the
    benchmark's 60 s jobs done at 86.5 s rather than 61 s (bench/README.md, "Job polling").
    """
    return min(max(age, 0.0) + config.poll_initial_seconds, config.poll_max_seconds)


class BulkSteps:
    """The CREATE_JOB, POLL_JOB and READ_RESULT_PAGE steps (a mixin: it uses the reader's
    client, cursor, checkpoint, plan, context, pages and commit helpers)."""

    def _create_job(self) -> None:
        checkpoint = self.checkpoint
        if checkpoint.pass_in_flight:
            soql = passes.pass_soql(self.sobject, checkpoint.pass_in_flight)
        else:
            fields, cursor_field = self.plan.bulk_fields, self.plan.cursor_field
            soql = select_soql(self.sobject, fields, checkpoint.window, cursor_field)
        job = self.client.bulk_create_query_job(soql, include_deleted=True)
        self.ctx.count_job()
        checkpoint.job_created(job.id, timezone.now())
        self.ctx.commit(self._save)
        self.next_action_at = time.monotonic() + self.config.poll_initial_seconds

    def _poll_job(self) -> None:
        checkpoint = self.checkpoint
        try:
            job = self.client.bulk_get_job(checkpoint.job_id)
        except SalesforceNotFound:
            # Jobs live seven days; this one is gone, so its window is read again.
            checkpoint.drop_job()
            self.ctx.commit(self._save)
            return
        if job.state == "JobComplete":
            # Remembered on the cursor, so a later slice reads on without polling again.
            checkpoint.job_completed()
            self._create_job_ahead()
            self.ctx.commit(self._save)
        elif job.is_terminal:
            self._job_failed(job.error_message or job.state)
        elif self._job_age() > self.config.job_deadline_seconds:
            self.client.bulk_abort_job(checkpoint.job_id)
            self._split(f"job {checkpoint.job_id} still {job.state} after the deadline")
        else:
            self.next_action_at = time.monotonic() + poll_wait(self._job_age(), self.config)

    def _job_age(self) -> float:
        created = self.checkpoint.job_created_at
        return (timezone.now() - created).total_seconds() if created else 0.0

    def _create_job_ahead(self) -> None:
        """Salesforce runs the next window's job while this one's pages are read: its latency
        overlaps our writes. Its id is committed with the checkpoint before anything relies on
        it, so a resumed run polls that job and never creates a second one."""
        checkpoint = self.checkpoint
        if checkpoint.next_window_wants_job:
            window, fields = checkpoint.pending[0], self.plan.bulk_fields
            soql = select_soql(self.sobject, fields, window, self.plan.cursor_field)
            try:
                job = self.client.bulk_create_query_job(soql, include_deleted=True)
            except SalesforceBulkJobCapReached:
                # Only a head start: this window's pages are read first, and the next window
                # meets the cap (and pauses the run) when its turn comes.
                logger.info("%s: daily Bulk job cap; no job made ahead", self.sobject)
                return
            self.ctx.count_job()
            checkpoint.job_created_ahead(job.id, timezone.now())

    def _job_failed(self, reason: str) -> None:
        logger.warning("%s: Bulk job %s failed (%s)", self.sobject, self.checkpoint.job_id, reason)
        if self.checkpoint.retry_failed_job():
            self.cursor.last_error = f"Bulk job failed, re-running once: {reason}"
            self.ctx.commit(self._save)
        else:
            self._split(reason)

    def _split(self, reason: str) -> None:
        checkpoint = self.checkpoint
        if checkpoint.pass_in_flight:
            purpose = checkpoint.pass_in_flight.purpose
            raise ObjectFailed("job_failed", f"The {purpose} job failed: {reason}")
        window = checkpoint.window
        halves = window.split(window.start or self._lowest_stamp(window))
        if halves is None:
            raise ObjectFailed("job_failed", f"Bulk job failed and cannot be split: {reason}")
        checkpoint.split_window(*halves)
        self.cursor.last_error = f"Window split after: {reason}"
        self.ctx.commit(self._save)

    def _next_result_page(self) -> ResultPage | None:
        """The job's page at the checkpoint's locator; None when the job is gone."""
        checkpoint = self.checkpoint
        try:
            return self.pages.page(checkpoint.job_id, checkpoint.locator)
        except SalesforceNotFound:
            # The job's results are gone (jobs live seven days): read the window again.
            checkpoint.drop_job()
            self.ctx.commit(self._save)
            return None

    def _read_result_page(self) -> None:
        page = self._next_result_page()
        if page is None:
            return
        with page:
            self._commit_rows(records_from_csv(page.text(), self.plan), page.next_locator)
