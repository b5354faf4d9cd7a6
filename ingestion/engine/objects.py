"""Reading one object: its window set, Bulk jobs or REST pages, and base64 bodies.

Every step ends in a commit that writes the rows it read together with the cursor's new
checkpoint (invariant 6), so a worker killed at any point loses at most the page in hand.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from connections.salesforce.exceptions import (
    SalesforceNotFound,
    SalesforceQueryError,
    SalesforceUnavailable,
)
from connections.salesforce.types import ResultPage
from ingestion.engine import passes
from ingestion.engine.context import RunContext
from ingestion.engine.errors import ObjectFailed
from ingestion.engine.plan import build_plan, plan_difference, plan_hash
from ingestion.engine.readers import records_from_csv, records_from_rest
from ingestion.engine.records import ParsedRecord, merge_fields, write_records
from ingestion.engine.values import parse_datetime
from ingestion.engine.windows import Window, count_soql, select_soql, soql_literal, split_evenly
from ingestion.models import ObjectCursor

logger = logging.getLogger(__name__)

BULK, REST = ObjectCursor.ReadMode.BULK, ObjectCursor.ReadMode.REST
ROWS, BLOBS = "rows", "blobs"


class ObjectReader(passes.PassSteps):
    """One object's reading within a slice; the cursor row is the truth between slices."""

    def __init__(self, ctx: RunContext, cursor: ObjectCursor, *, reconcile: bool = False) -> None:
        self.ctx = ctx
        self.cursor = cursor
        self.reconcile = reconcile
        self.config = ctx.config
        self.next_action_at = 0.0
        self.poll_interval = self.config.poll_initial_seconds
        self.job_ready = bool(cursor.last_counts.get("job_complete"))
        self.failures = 0
        self.replans = 0

    @property
    def sobject(self) -> str:
        return self.cursor.sobject

    @property
    def client(self):
        return self.ctx.client

    @property
    def plan(self) -> dict:
        return self.cursor.field_plan

    @property
    def window(self) -> Window:
        return Window(self.cursor.window_start, self.cursor.window_end)

    @property
    def pass_state(self) -> dict | None:
        return self.cursor.last_counts.get("pass")

    @property
    def done(self) -> bool:
        return self.cursor.window_end is None and not self.pass_state

    @property
    def phase(self) -> str:
        return self.cursor.last_counts.get("phase", ROWS)

    @property
    def holds_job_slot(self) -> bool:
        bulk = self.cursor.read_mode == BULK or self.pass_state
        return not self.done and bool(bulk) and bool(self.cursor.job_id)

    # -- planning -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Describe, plan the fields, and open this run's window set if none is in progress."""
        self._replan()
        if self.reconcile:
            backfill = self.cursor.last_counts.get("backfill_fields", [])
            self.cursor.last_counts["pass"] = passes.new_pass(passes.RECONCILE, self.plan, backfill)
            self._clear_job()
            self.ctx.commit(self.cursor.save)
            return
        if not self.done:
            self.ctx.commit(self.cursor.save)
            return
        for _attempt in range(3):
            try:
                self._open_window_set()
                return
            except SalesforceQueryError as error:
                if error.error_code != "INVALID_FIELD":
                    raise self._object_failure(error) from error
                self._replan()  # a field vanished between describe and query
        raise ObjectFailed("schema_unstable", f"{self.sobject} kept changing while planning.")

    def _replan(self) -> None:
        try:
            describe = self.client.describe(self.sobject)
        except SalesforceNotFound as error:
            raise ObjectFailed(
                "object_unreadable",
                f"The connected user cannot read {self.sobject} (describe says it does not "
                "exist for them). Grant Read on it in the user's profile or a permission set.",
                unreadable=True,
            ) from error
        plan = build_plan(describe)
        if not plan["queryable"] or not plan["cursor_field"]:
            raise ObjectFailed("object_not_queryable", f"{self.sobject} cannot be queried.")
        appeared, disappeared = plan_difference(self.cursor.field_plan or {}, plan)
        if self.cursor.field_plan and disappeared:
            noted = set(self.cursor.removed_fields) | set(disappeared)
            self.cursor.removed_fields = sorted(noted)
        if self.cursor.field_plan and appeared:
            pending = set(self.cursor.last_counts.get("backfill_fields", [])) | set(appeared)
            self.cursor.last_counts["backfill_fields"] = sorted(pending)
        self.cursor.field_plan = plan
        self.cursor.field_plan_hash = plan_hash(plan)

    def _server_now(self) -> datetime:
        # The org's clock, not ours: window ends must be in the same time as SystemModstamp.
        # The Date header has whole seconds, so the org's true now is before the next second:
        # every row visible now is stamped before it. A row stamped earlier but committed
        # later is caught by the next window's lookback.
        moment = getattr(self.client, "last_server_time", None) or timezone.now()
        return moment.replace(microsecond=0) + timedelta(seconds=1)

    def _open_window_set(self) -> None:
        end = self._server_now()
        if self.cursor.initial_load_complete and self.cursor.watermark:
            self._open_incremental(Window(self.cursor.watermark - self.config.lookback, end))
        else:
            self._open_initial(Window(None, end))

    def _open_initial(self, window: Window) -> None:
        total = self.client.count(count_soql(self.sobject, window, self.plan), include_deleted=True)
        self.cursor.estimated_total = total
        self.ctx.object_stats(self.sobject)["expected"] = total  # this run's total, for progress
        self.cursor.records_ingested = 0
        if total == 0:
            self._set_windows([window], self._large_mode)
            self.ctx.commit(lambda: (self._finish_window(skip_blobs=True), self.cursor.save()))
            return
        self._set_windows(self._sized(window, total), self._large_mode)
        self.ctx.commit(self.cursor.save)

    @property
    def _large_mode(self) -> str:
        return REST if self.config.read_mode == "rest" else BULK

    def _open_incremental(self, window: Window) -> None:
        # One REST call both counts the window (totalSize) and, when it is small, reads it:
        # cheaper than a COUNT() followed by a query.
        soql = select_soql(self.sobject, self.plan["bulk_fields"], window, self.plan)
        first = next(self.client.query_pages(soql, include_deleted=True))
        self.ctx.object_stats(self.sobject)["expected"] = first.total_size  # for progress
        if first.total_size > self.config.rest_threshold and self._large_mode == BULK:
            self._set_windows(self._sized(window, first.total_size), BULK)
            self.ctx.commit(self.cursor.save)
            return
        self._set_windows([window], REST)
        records = records_from_rest(first.records, self.plan)
        self._commit_rows(records, lambda: self._advance(first.next_records_url))

    def _sized(self, window: Window, total: int) -> list[Window]:
        parts = math.ceil(total / self.config.max_window_records)
        if parts <= 1:
            return [window]
        return split_evenly(window, self._lowest_stamp(window), parts)

    def _lowest_stamp(self, window: Window) -> datetime:
        field = self.plan["cursor_field"]
        soql = (
            f"SELECT {field} FROM {self.sobject} WHERE {field} < {soql_literal(window.end)} "
            f"ORDER BY {field} ASC LIMIT 1"
        )
        first = next(iter(self.client.query(soql, include_deleted=True)), None)
        return parse_datetime(first[field]) if first else window.end

    def _set_windows(self, windows: list[Window], mode: str) -> None:
        first, *rest = windows
        self.cursor.window_start, self.cursor.window_end = first.start, first.end
        self.cursor.pending_windows = [w.to_json() for w in rest]
        self.cursor.read_mode = mode
        self._clear_job()

    def _clear_job(self) -> None:
        self.cursor.job_id = ""
        self.cursor.job_created_at = None
        self.cursor.locator = ""
        self.cursor.last_counts.pop("job_complete", None)
        self.job_ready = False

    # -- stepping -----------------------------------------------------------------------------
    @property
    def wants_job_slot(self) -> bool:
        """About to create a Bulk job (and so needs one of the org's job slots)."""
        if self.done or self.cursor.job_id:
            return False
        return bool(self.pass_state) or (self.cursor.read_mode == BULK and self.phase == ROWS)

    def ready(self, now: float, free_slots: int) -> bool:
        if self.done or now < self.next_action_at:
            return False
        return free_slots > 0 if self.wants_job_slot else True

    def step(self) -> None:
        """Do the next piece of work: create, poll, read a page, or read REST."""
        try:
            self._step()
            self.failures = 0
        except SalesforceUnavailable:
            self.cursor.refresh_from_db()
            self.failures += 1
            if self.failures >= self.config.page_attempts:
                raise
            wait = min(2**self.failures, self.config.retry_max_wait_seconds)
            logger.warning(
                "%s: transient failure %s, retrying in %ss", self.sobject, self.failures, wait
            )
            self.next_action_at = time.monotonic() + wait
        except Exception:
            self.cursor.refresh_from_db()
            raise

    def _step(self) -> None:
        try:
            self._dispatch()
        except SalesforceQueryError as error:
            self._query_refused(error)

    def _dispatch(self) -> None:
        if self.pass_state:
            if not self.cursor.job_id:
                self._create_job()
            elif not self.job_ready:
                self._poll_job()
            else:
                self._read_pass_page()
        elif self.phase == BLOBS:
            self._read_blob_page()
        elif self.cursor.read_mode == REST:
            self._read_rest_page()
        elif not self.cursor.job_id:
            self._create_job()
        elif not self.job_ready:
            self._poll_job()
        else:
            self._read_result_page()

    # -- Bulk API 2.0 ----------------------------------------------------------------------------
    def _create_job(self) -> None:
        if self.pass_state:
            soql = passes.pass_soql(self.sobject, self.pass_state)
        else:
            soql = select_soql(self.sobject, self.plan["bulk_fields"], self.window, self.plan)
        job = self.client.bulk_create_query_job(soql, include_deleted=True)
        self.ctx.count_job()
        self.cursor.job_id = job.id
        self.cursor.job_created_at = timezone.now()
        self.cursor.locator = ""
        self.ctx.commit(self.cursor.save)
        self.poll_interval = self.config.poll_initial_seconds
        self.next_action_at = time.monotonic() + self.poll_interval

    def _query_refused(self, error: SalesforceQueryError) -> None:
        code = error.error_code
        if code == "INVALID_QUERY_LOCATOR":
            # REST locators expire after 15 idle minutes: read the window again from its start.
            self.cursor.locator = ""
            self.ctx.commit(self.cursor.save)
            return
        if code == "QUERY_TIMEOUT":
            self._timed_out()
            return
        if code == "INVALID_FIELD" and self.replans < 3:
            # A field went away between describe and query: describe again and carry on.
            self.replans += 1
            self._replan()
            self.ctx.commit(self.cursor.save)
            return
        raise self._object_failure(error) from error

    def _object_failure(self, error: SalesforceQueryError) -> ObjectFailed:
        if error.error_code == "INVALID_TYPE":
            return ObjectFailed(
                "object_unreadable",
                f"Read access to {self.sobject} was lost during the sync. Grant Read on it to "
                "the connected user.",
                unreadable=True,
            )
        return ObjectFailed(error.error_code or "query_refused", str(error))

    def _poll_job(self) -> None:
        try:
            job = self.client.bulk_get_job(self.cursor.job_id)
        except SalesforceNotFound:
            # Jobs live seven days; this one is gone, so its window is read again.
            self._clear_job()
            self.ctx.commit(self.cursor.save)
            return
        if job.state == "JobComplete":
            # Remembered on the cursor, so a later slice reads on without polling again.
            self.cursor.last_counts["job_complete"] = True
            self.ctx.commit(self.cursor.save)
            self.job_ready = True
        elif job.is_terminal:
            self._job_failed(job.error_message or job.state)
        elif timezone.now() - self.cursor.job_created_at > self.config.job_deadline:
            self.client.bulk_abort_job(self.cursor.job_id)
            self._split(f"job {self.cursor.job_id} still {job.state} after the deadline")
        else:
            self.poll_interval = min(self.poll_interval * 2, self.config.poll_max_seconds)
            self.next_action_at = time.monotonic() + self.poll_interval

    def _job_failed(self, reason: str) -> None:
        failures = self.cursor.last_counts.get("job_failures", 0) + 1
        logger.warning("%s: Bulk job %s failed (%s)", self.sobject, self.cursor.job_id, reason)
        if failures == 1:
            self.cursor.last_counts["job_failures"] = 1
            self.cursor.last_error = f"Bulk job failed, re-running once: {reason}"
            self._clear_job()
            self.ctx.commit(self.cursor.save)
        else:
            self._split(reason)

    def _split(self, reason: str) -> None:
        if self.pass_state:
            raise ObjectFailed(
                "job_failed", f"The {self.pass_state['purpose']} job failed: {reason}"
            )
        window = self.window
        halves = window.split(window.start or self._lowest_stamp(window))
        if halves is None:
            raise ObjectFailed("job_failed", f"Bulk job failed and cannot be split: {reason}")
        first, second = halves
        self.cursor.window_start, self.cursor.window_end = first.start, first.end
        self.cursor.pending_windows = [second.to_json(), *self.cursor.pending_windows]
        self.cursor.last_counts["job_failures"] = 0
        self.cursor.last_error = f"Window split after: {reason}"
        self._clear_job()
        self.ctx.commit(self.cursor.save)

    def _next_result_page(self) -> ResultPage | None:
        """The job's page at the checkpoint's locator; None when the job is gone."""
        try:
            return self.client.bulk_result_page(
                self.cursor.job_id,
                locator=self.cursor.locator or None,
                max_records=self.config.page_max_records,
            )
        except SalesforceNotFound:
            # The job's results are gone (jobs live seven days): read the window again.
            self._clear_job()
            self.ctx.commit(self.cursor.save)
            return None

    def _read_result_page(self) -> None:
        page = self._next_result_page()
        if page is None:
            return
        with page:
            records = records_from_csv(page.text(), self.plan)
            self._commit_rows(records, lambda: self._advance(page.next_locator))

    # -- REST -------------------------------------------------------------------------------------
    def _rest_pages(self, fields: list[str]):
        soql = select_soql(self.sobject, fields, self.window, self.plan)
        return self.client.query_pages(
            soql, include_deleted=True, next_records_url=self.cursor.locator or None
        )

    def _timed_out(self) -> None:
        # A REST window too slow for a synchronous query moves to Bulk; a Bulk window halves.
        if self.cursor.read_mode == REST and self.phase == ROWS and self._large_mode == BULK:
            self.cursor.read_mode = BULK
            self._clear_job()
            self.ctx.commit(self.cursor.save)
        else:
            self._split("QUERY_TIMEOUT")

    def _read_rest_page(self) -> None:
        page = next(self._rest_pages(self.plan["bulk_fields"]))
        records = records_from_rest(page.records, self.plan)
        self._commit_rows(records, lambda: self._advance(page.next_records_url))

    def _read_blob_page(self) -> None:
        fields = self.plan["rest_fields"]
        page = next(self._rest_pages(["Id", *fields]))
        values = {record["Id"]: self._blobs(record, fields) for record in page.records}

        def work() -> None:
            merge_fields(connection_id=self.ctx.connection.pk, sobject=self.sobject, values=values)
            self._advance(page.next_records_url)
            self.cursor.save()

        self.ctx.commit(work)

    def _blobs(self, record: dict, fields: list[str]) -> dict[str, str | None]:
        # A base64 field comes back from a query as the URL of its blob; one GET each.
        return {
            field: base64.b64encode(self.client.get_blob(record[field])).decode()
            if record.get(field)
            else None
            for field in fields
        }

    # -- committing ---------------------------------------------------------------------------
    def _commit_rows(self, records: Iterable[ParsedRecord], after: Callable[[], None]) -> None:
        cursor, ctx = self.cursor, self.ctx

        def work() -> None:
            stats = write_records(
                connection_id=ctx.connection.pk,
                sobject=self.sobject,
                run_id=ctx.run.pk,
                records=records,
                now=timezone.now(),
                batch_size=self.config.write_batch,
            )
            ctx.count_write(self.sobject, stats)
            if not cursor.initial_load_complete:
                cursor.records_ingested += stats.written
            after()
            cursor.save()

        ctx.commit(work)

    def _advance(self, next_locator: str | None) -> None:
        if next_locator:
            self.cursor.locator = next_locator
        else:
            self._finish_window()

    def _finish_window(self, *, skip_blobs: bool = False) -> None:
        cursor = self.cursor
        if self.phase == ROWS and self.plan["rest_fields"] and not skip_blobs:
            cursor.last_counts["phase"] = BLOBS
            self._clear_job()
            return
        cursor.watermark = cursor.window_end
        cursor.last_counts.update(phase=ROWS, job_failures=0)
        backfill = cursor.last_counts.get("backfill_fields")
        cursor.last_error = ""
        if cursor.pending_windows:
            following = Window.from_json(cursor.pending_windows[0])
            cursor.pending_windows = cursor.pending_windows[1:]
            cursor.window_start, cursor.window_end = following.start, following.end
        else:
            cursor.window_start = cursor.window_end = None
            if not cursor.initial_load_complete:
                cursor.initial_load_complete = True
                cursor.initial_load_completed_at = timezone.now()
            elif backfill:
                cursor.last_counts["pass"] = passes.new_pass(passes.BACKFILL, self.plan, backfill)
        self._clear_job()
