"""The Bulk API 2.0 steps of reading one object: create a window's (or a pass's) job, poll it,
read its result pages (engine/pages.py fetches them ahead), and make the next window's job
while this one is read. A mixin of ObjectReader (engine/objects.py holds the state machine).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from django.utils import timezone

from connections.salesforce.exceptions import (
    SalesforceBulkJobCapReached,
    SalesforceError,
    SalesforceNotFound,
)
from connections.salesforce.types import BulkJob, ResultPage
from ingestion.engine import passes
from ingestion.engine.errors import ObjectFailed
from ingestion.engine.readers import CsvPage
from ingestion.engine.state import Pace, Pacing
from ingestion.engine.values import parse_datetime
from ingestion.engine.windows import Window, paced_cut, select_soql, with_probe

logger = logging.getLogger(__name__)


def poll_wait(age: float, config, expected: float | None = None) -> float:
    """Seconds until a running job of ``age`` seconds is polled again: its age plus
    ``poll_initial_seconds``, at most ``poll_max_seconds``. A job is polled at 1, 3, 7, 15, 31 s
    of age, then every 30 s: a backoff that doubles, counted from the job's creation rather than
    from our own last wait. A job made ahead is first polled when its window's turn comes,
    already old, and used to inherit the doubled wait the job before it ended on (up to 30 s
    more for a job done seconds after that first poll).

    Polling once the age had grown by half instead (at most 50% late, not 100%) saw the
    benchmark's 60 s jobs done at 86.5 s rather than 61 s (bench/README.md, "Job polling").

    A job whose run time is ``expected`` (a window cut by the load's pace: Pace) is first
    polled at EXPECTED_SHARE of it, then every EXPECTED_STEP of it (at least
    ``poll_initial_seconds``) until it overruns the estimate by EXPECTED_STEP, and from then
    on a wait that grows by the overrun. A window's size is estimated from the one before it,
    so a job may finish a little before or after its estimate; doubling from the first poll
    instead saw 11 s jobs done 4 s late, window after window (bench/README.md, "Paced
    windows").
    """
    if not expected:
        return min(max(age, 0.0) + config.poll_initial_seconds, config.poll_max_seconds)
    start = EXPECTED_SHARE * expected
    if age < start:
        return min(start - age, config.poll_max_seconds)
    step = max(EXPECTED_STEP * expected, config.poll_initial_seconds)
    overrun = max(age - (expected + step), 0.0)
    return min(step + overrun, config.poll_max_seconds)


# Of a job's expected run time: when it is first polled, and how often around it (poll_wait).
EXPECTED_SHARE = 0.75
EXPECTED_STEP = 0.1


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
        self._schedule_poll()

    def _poll_job(self) -> None:
        checkpoint = self.checkpoint
        try:
            job = self.client.bulk_get_job(checkpoint.job_id)
        except SalesforceNotFound:
            # Jobs live seven days; this one is gone, so its window is read again.
            checkpoint.drop_job()
            self.ctx.commit(self._save)
            return
        pacing = Pacing.NONE if checkpoint.pass_in_flight else checkpoint.pacing
        if job.state == "JobComplete":
            if pacing == Pacing.TRIAL:
                checkpoint.trial_passed()
            elif pacing in (Pacing.PROBE, Pacing.PACED):
                self._pace_windows(job)
            # Remembered on the cursor, so a later slice reads on without polling again.
            checkpoint.job_completed()
            self._create_job_ahead()
            self.ctx.commit(self._save)
        elif job.is_terminal:
            checkpoint.trial_passed()  # what a failure does to its window is enough
            self._job_failed(job.error_message or job.state)
        elif pacing == Pacing.TRIAL:
            self._probe_first()
        elif self._job_age() > self.config.job_deadline_seconds:
            self.client.bulk_abort_job(checkpoint.job_id)
            self._split(f"job {checkpoint.job_id} still {job.state} after the deadline")
        else:
            self._schedule_poll()

    def _job_age(self) -> float:
        created = self.checkpoint.job_created_at
        return (timezone.now() - created).total_seconds() if created else 0.0

    def _schedule_poll(self) -> None:
        """The job's next poll, as poll_wait says for its age (and expected run, if paced)."""
        wait = poll_wait(self._job_age(), self.config, self._expected_run())
        self.next_action_at = time.monotonic() + wait

    def _first_poll_of_job_made_ahead(self) -> None:
        """The next window's turn: its job, made ahead, is first polled when poll_wait says
        for its age, if its run is expected (not at once, at a fraction of its run)."""
        checkpoint = self.checkpoint
        if self._expected_run() and checkpoint.job_id and not checkpoint.job_complete:
            self._schedule_poll()

    def _expected_run(self) -> float | None:
        """Seconds the current window's job should run, once a probe has paced the load."""
        checkpoint = self.checkpoint
        if checkpoint.pace is None or checkpoint.pass_in_flight or checkpoint.window is None:
            return None
        return checkpoint.pace.expected_run(checkpoint.window)

    def _probe_first(self) -> None:
        """A large load's first job is still running at its first poll: Salesforce is slow,
        and one job for the window would have us wait its whole run before writing a row.
        Abort it, and read a small first window (the probe) whose job measures the pace; the
        rest is then read in windows cut by it (``_pace_windows``). A quick org (the emulator
        without ``--processing-rate``) completes the job by then, and reads as before: no
        window boundary, whose first page no page fetched ahead would overlap (9 s more on
        the 800K initial sync when every large load was probed)."""
        checkpoint = self.checkpoint
        windows = [checkpoint.window, *checkpoint.pending]
        probed = with_probe(windows, self._lowest_stamp(windows[0]), self.config.probe_parts)
        if len(probed) == len(windows) or not self._aborted(checkpoint.job_id):
            checkpoint.trial_passed()  # too narrow to cut, or done meanwhile: read the job
        else:
            checkpoint.probe_first(probed)
        self.ctx.commit(self._save)

    def _aborted(self, job_id: str) -> bool:
        """Abort a running job; False if it finished meanwhile (Salesforce refuses to abort a
        finished job; the errorCode INVALIDJOBSTATE is the emulator's, unverified on a real
        org, where any other refusal fails the step as before).
        https://developer.salesforce.com/docs/platform/api-asynch/guide/query-abort-job.md"""
        try:
            self.client.bulk_abort_job(job_id)
        except SalesforceNotFound:
            return True  # gone already (jobs live seven days): nothing left to abort
        except SalesforceError as error:
            if error.error_code != "INVALIDJOBSTATE":
                raise
            return False
        return True

    def _pace_windows(self, job: BulkJob) -> None:
        """A job of a paced load is complete: cut the next window to run about
        ``window_seconds`` at Salesforce (windows.paced_cut). After the probe's job, measure
        Salesforce's pace from the job's own info. When Salesforce is quick (the emulator
        without ``--processing-rate``) the windows stay as they were: each window's first page
        costs a request that no page fetched ahead overlaps. When it is slow, a load in one
        window would wait the whole job's run before writing a row; in short windows each
        one's rows are written while Salesforce runs the next (bench/README.md, "Paced
        windows")."""
        checkpoint = self.checkpoint
        window, pending, read = checkpoint.window, checkpoint.pending, job.number_records_processed
        if checkpoint.pacing == Pacing.PROBE:
            pace = self._measured_pace(job, pending)
        elif window.start is not None and window.end > window.start:
            density = read / (window.end - window.start).total_seconds()
            pace = replace(checkpoint.pace, density=density)
        else:
            pace = checkpoint.pace
        cut = paced_cut(
            pending,
            pace.density,
            pace.seconds_per_record,
            pace.window_seconds,
            self.config.min_window_records,
        )
        checkpoint.paced(pace, cut)
        if cut != pending:
            logger.info(
                "%s: %s records read in %s; the next window should hold about %.0f",
                self.sobject,
                read,
                window.to_json(),
                pace.records_in(cut[0]),
            )

    def _measured_pace(self, job: BulkJob, pending: list[Window]) -> Pace:
        """Salesforce's pace, from the probe's job info (``totalProcessingTime`` in ms,
        ``numberRecordsProcessed``, ``createdDate`` and ``systemModstamp``: the queue is the
        run less the processing); the density of the rest from the object's count (the probe's
        own span starts at no known moment).
        https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_one_job.htm"""
        read = job.number_records_processed
        run = _seconds_between(job.created_date, job.system_modstamp)
        processing = job.total_processing_time_ms / 1000 or run
        span = sum((w.end - w.start).total_seconds() for w in pending if w.start is not None)
        remaining = max((self.cursor.estimated_total or 0) - read, 0)
        logger.info(
            "%s: probe job read %s records in %.1f s (%.1f s queued)",
            self.sobject,
            read,
            run,
            max(run - processing, 0.0),
        )
        per_record = processing / max(read, 1)
        # Windows of window_seconds, or fewer and longer ones for a long load: each window
        # costs a job, its polls and a first page no page fetched ahead overlaps.
        window_seconds = max(
            self.config.window_seconds, remaining * per_record / self.config.max_paced_windows
        )
        return Pace(
            queue_seconds=max(run - processing, 0.0),
            seconds_per_record=per_record,
            density=remaining / span if span > 0 else 0.0,
            window_seconds=window_seconds,
        )

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
            self._commit_rows(CsvPage(page.text(), self.plan), page.next_locator)


def _seconds_between(start: str, end: str) -> float:
    """Seconds between two Salesforce timestamps of a job's info; 0 if either is missing."""
    if not start or not end:
        return 0.0
    return max((parse_datetime(end) - parse_datetime(start)).total_seconds(), 0.0)
