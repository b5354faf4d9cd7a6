"""Reading one object: its window set, Bulk jobs or REST pages, and base64 bodies.

Every step ends in a commit that writes the rows it read together with the cursor's new
checkpoint (invariant 6), so a worker killed at any point loses at most the page in hand.

The state machine. The checkpoint (engine/state.py) decides the next step (``Checkpoint.step``).
Each step's method below makes one transition (a ``Checkpoint`` method) and commits it:

  step              does                                then
  DONE              prepare(): describe, open windows   CREATE_JOB (Bulk) or READ_REST_PAGE (REST)
  CREATE_JOB        create the window's or pass's job   POLL_JOB
  POLL_JOB          poll it, with backoff               complete: READ_RESULT_PAGE/READ_PASS_PAGE
                                                        failed once, or gone: CREATE_JOB again
                                                        failed twice, or past the deadline: the
                                                          window splits, CREATE_JOB for its half
                                                        a large load's first job still running:
                                                          aborted, CREATE_JOB for a probe window
  READ_RESULT_PAGE  write the job's next page of rows   _advance: the same step at the next
  READ_REST_PAGE    write the next REST page of rows      locator; after the last page:
  READ_BLOB_PAGE    merge a page's base64 fields          READ_BLOB_PAGE if there are base64
  READ_PASS_PAGE    apply a page of a pass's job          fields, else the next window, else
                                                          DONE (or a backfill pass: CREATE_JOB)

A REST window that times out moves to Bulk (CREATE_JOB); a Bulk window that times out splits.
A large initial load against a slow Salesforce learns its pace (``Checkpoint.pacing``: trial,
probe, paced; bulk_steps.BulkSteps._probe_first) and cuts each next window to run about
``window_seconds`` there, so its rows are written while Salesforce runs the next.
A wide object's REST page is one query per field group (windows.field_groups: each fits
Salesforce's 16,384-byte request line), merged by Id before it is written; a REST query refused
as too large (414/431) moves its window to Bulk, whose query travels in a POST body.
Only ``_advance`` moves the checkpoint past a page; only ``_save`` writes it.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from connections.salesforce.exceptions import (
    SalesforceNotFound,
    SalesforceQueryError,
    SalesforceRequestTooLarge,
    SalesforceUnavailable,
)
from connections.salesforce.retries import may_try_again
from ingestion.engine import passes
from ingestion.engine.bulk_steps import BulkSteps
from ingestion.engine.context import RunContext
from ingestion.engine.errors import ObjectFailed
from ingestion.engine.pages import PagesAhead
from ingestion.engine.plan import build_plan, plan_difference, plan_hash
from ingestion.engine.readers import join_by_id, records_from_rest
from ingestion.engine.records import ParsedRecord, merge_fields, write_records
from ingestion.engine.state import (
    Checkpoint,
    FieldPlan,
    Pacing,
    Phase,
    Purpose,
    ReadMode,
    Step,
)
from ingestion.engine.values import parse_datetime
from ingestion.engine.windows import (
    Window,
    count_soql,
    field_groups,
    select_soql,
    soql_literal,
    split_evenly,
)
from ingestion.models import ObjectCursor
from ingestion.partitions import index_loaded_object

logger = logging.getLogger(__name__)

BULK, REST = ReadMode.BULK, ReadMode.REST
# Rows in a REST query page: batchSize's default and maximum.
# Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm
REST_PAGE_ROWS = 2000


class ObjectReader(BulkSteps, passes.PassSteps):
    """One object's reading within a slice; the cursor row is the truth between slices."""

    def __init__(self, ctx: RunContext, cursor: ObjectCursor, *, reconcile: bool = False) -> None:
        self.ctx = ctx
        self.cursor = cursor
        self.reconcile = reconcile
        self.config = ctx.config
        self.next_action_at = 0.0
        self.failures = 0
        self.tries_spent = 0  # requests the failed tries of the current step cost
        self.replans = 0
        self.pages = PagesAhead.of(ctx.client, self.config, cursor.pk)
        self._load()

    def _load(self) -> None:
        self.checkpoint = Checkpoint.load(self.cursor)
        self.plan = FieldPlan.from_json(self.cursor.field_plan)

    def _reload(self) -> None:
        """Back to the last commit, after a step that failed (its transaction rolled back)."""
        self.pages.close()
        self.cursor.refresh_from_db()
        self._load()

    def _save(self) -> None:
        """Store the checkpoint and the cursor; called inside a commit."""
        self.checkpoint.store(self.cursor)
        self.cursor.save()

    def _dispatch(self) -> None:
        steps = {
            Step.CREATE_JOB: self._create_job,
            Step.POLL_JOB: self._poll_job,
            Step.READ_RESULT_PAGE: self._read_result_page,
            Step.READ_PASS_PAGE: self._read_pass_page,
            Step.READ_REST_PAGE: self._read_rest_page,
            Step.READ_BLOB_PAGE: self._read_blob_page,
        }
        steps[self.checkpoint.step]()

    def _advance(self, next_locator: str | None) -> None:
        """Move the checkpoint past the page just written, in the same transaction as its rows."""
        checkpoint = self.checkpoint
        if checkpoint.page_read(next_locator):
            if checkpoint.pass_in_flight:
                self._finish_pass()
            elif checkpoint.phase == Phase.ROWS and self.plan.rest_fields:
                checkpoint.read_blobs()
            else:
                self._finish_window()
        self._save()

    def _finish_window(self) -> None:
        cursor = self.cursor
        cursor.watermark = self.checkpoint.next_window().end
        cursor.last_error = ""
        if self.checkpoint.window is not None:
            self._first_poll_of_job_made_ahead()
            return
        if not cursor.initial_load_complete:
            cursor.initial_load_complete = True
            cursor.initial_load_completed_at = timezone.now()
            if self._load_is_paced():
                # Salesforce was slow: the other objects' loads wait on it more than on our
                # CPU, which the leaf's index builds can use now (partitions.LeafIndexer).
                loaded = partial(
                    index_loaded_object, connection_id=cursor.connection_id, sobject=cursor.sobject
                )
                transaction.on_commit(loaded)
        elif cursor.backfill_fields:
            backfill = passes.new_pass(Purpose.BACKFILL, self.plan, cursor.backfill_fields)
            self.checkpoint.start_pass(backfill)

    def _load_is_paced(self) -> bool:
        """Whether Salesforce was seen slow in this connection's load: this object's or
        another's first job still ran at its first poll (``Pace``, bulk_steps)."""
        if self.checkpoint.pace is not None:
            return True
        cursors = ObjectCursor.objects.filter(connection_id=self.cursor.connection_id)
        return cursors.filter(job_pace__has_key="seconds_per_record").exists()

    # -- what the runner asks -------------------------------------------------------------------
    @property
    def sobject(self) -> str:
        return self.cursor.sobject

    @property
    def client(self):
        return self.ctx.client

    @property
    def done(self) -> bool:
        return self.checkpoint.done

    @property
    def holds_job_slot(self) -> bool:
        """A Bulk job of ours is open at Salesforce (it counts against the org's job cap), or
        one is made ahead for the next window."""
        step = self.checkpoint.step
        reading = step in (Step.POLL_JOB, Step.READ_RESULT_PAGE, Step.READ_PASS_PAGE)
        return reading or bool(self.checkpoint.jobs_ahead) or self._probe_to_create

    @property
    def wants_job_slot(self) -> bool:
        """About to create a Bulk job (and so needs one of the org's job slots)."""
        return self.checkpoint.step == Step.CREATE_JOB and not self._probe_to_create

    @property
    def _probe_to_create(self) -> bool:
        """The probe's job replaces the job just aborted, in its slot: were the slot freed,
        the objects waiting for one would take it, and this load (the largest) would wait
        for them (19 s late in the latency bench)."""
        checkpoint = self.checkpoint
        return checkpoint.pacing == Pacing.PROBE and checkpoint.step == Step.CREATE_JOB

    def ready(self, now: float, free_slots: int) -> bool:
        if self.done or now < self.next_action_at:
            return False
        return free_slots > 0 if self.wants_job_slot else True

    # -- planning -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Describe, plan the fields, and open this run's window set if none is in progress."""
        self._replan()
        if self.reconcile:
            reconcile = passes.new_pass(Purpose.RECONCILE, self.plan, self.cursor.backfill_fields)
            self.checkpoint.start_pass(reconcile)
            self.ctx.commit(self._save)
            return
        if not self.done:
            self.ctx.commit(self._save)
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
        if not plan.queryable or not plan.cursor_field:
            raise ObjectFailed("object_not_queryable", f"{self.sobject} cannot be queried.")
        rest_read = self.checkpoint.step in (Step.READ_REST_PAGE, Step.READ_BLOB_PAGE)
        if rest_read and plan_hash(plan) != self.cursor.field_plan_hash:
            # A REST locator goes on with the old field list's query (and a wide object's
            # Id order, which its field groups rely on): read the window again from its start.
            self.checkpoint.restart_pages()
        if self.cursor.field_plan:
            appeared, disappeared = plan_difference(self.plan, plan)
            noted = set(self.cursor.removed_fields) | set(disappeared)
            self.cursor.removed_fields = sorted(noted)
            pending = set(self.cursor.backfill_fields) | set(appeared)
            self.cursor.backfill_fields = sorted(pending)
        self.plan = plan
        self.cursor.field_plan = plan.to_json()
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
        soql = count_soql(self.sobject, window, self.plan.cursor_field)
        total = self.client.count(soql, include_deleted=True)
        self.cursor.estimated_total = total
        self.ctx.object_stats(self.sobject)["expected"] = total  # this run's total, for progress
        self.cursor.records_ingested = 0
        if total == 0:
            self.checkpoint.open_windows([window], self._large_mode)
            self.ctx.commit(lambda: (self._finish_window(), self._save()))
            return
        windows = self._sized(window, total)
        trial = self._large_mode == BULK and total >= self.config.probe_min_records
        self.checkpoint.open_windows(windows, self._large_mode, trial=trial)
        self.ctx.commit(self._save)

    @property
    def _large_mode(self) -> str:
        return REST if self.config.read_mode == "rest" else BULK

    def _open_incremental(self, window: Window) -> None:
        # One REST call both counts the window (totalSize) and, when it is small, reads it:
        # cheaper than a COUNT() followed by a query.
        groups = self._field_groups()
        try:
            first = next(self._rest_pages(window, groups[0], by_id=len(groups) > 1))
        except SalesforceRequestTooLarge:
            if self._large_mode != BULK:
                raise
            self.checkpoint.open_windows([window], BULK)  # the query goes in a POST body
            self.ctx.commit(self._save)
            return
        total = first.total_size
        self.ctx.object_stats(self.sobject)["expected"] = total  # for progress
        # Rows per REST page as Salesforce served them (200 when two long text areas are
        # selected, else up to 2,000).
        page_rows = len(first.records) if first.next_records_url else REST_PAGE_ROWS
        if self._large_mode == BULK and (
            total > self.config.rest_threshold
            or self._bulk_is_cheaper(total, len(groups), page_rows)
        ):
            self.checkpoint.open_windows(self._sized(window, total), BULK)
            self.ctx.commit(self._save)
            return
        self.checkpoint.open_windows([window], REST)
        records = records_from_rest(self._joined(window, first.records, groups), self.plan)
        self._commit_rows(records, first.next_records_url)

    def _bulk_is_cheaper(self, total: int, groups: int, page_rows: int) -> bool:
        """Whether a Bulk job reads a window in fewer API calls than REST queries do.

        REST costs a query page per ``page_rows`` rows for each field group (the first page
        of the first group is read already); a Bulk job costs its create, its polls (one at
        least) and a result page per ``page_max_records`` rows. Measured on the emulator
        (Account with 650 custom fields: 2 groups, 200 rows a page): a window after 1,000
        random changes cost 2 calls over REST against 4 through Bulk (the counting REST page
        included); 450 new accounts 6 against 4. On a tie REST wins: no job counts against
        the org's daily job cap, and nothing waits for a job to run.
        """
        rest_calls = groups * math.ceil(total / max(page_rows, 1)) - 1
        bulk_calls = 2 + math.ceil(total / self.config.page_max_records)
        return bulk_calls < rest_calls

    def _sized(self, window: Window, total: int) -> list[Window]:
        parts = math.ceil(total / self.config.max_window_records)
        if parts <= 1:
            return [window]
        return split_evenly(window, self._lowest_stamp(window), parts)

    def _lowest_stamp(self, window: Window) -> datetime:
        field = self.plan.cursor_field
        soql = (
            f"SELECT {field} FROM {self.sobject} WHERE {field} < {soql_literal(window.end)} "
            f"ORDER BY {field} ASC LIMIT 1"
        )
        first = next(iter(self.client.query(soql, include_deleted=True)), None)
        return parse_datetime(first[field]) if first else window.end

    # -- stepping -----------------------------------------------------------------------------
    def step(self) -> None:
        """Do the next piece of work: create, poll, read a page, or read REST."""
        retries_before = self.client.retries
        try:
            self._step()
            self.failures = self.tries_spent = 0
        except SalesforceUnavailable:
            self._reload()
            self.failures += 1
            self.tries_spent += 1 + self.client.retries - retries_before
            if not may_try_again(spent=self.tries_spent, request_tries=self.client.retry_attempts):
                raise  # the retry bound: connections/salesforce/retries.py
            wait = min(2**self.failures, self.config.retry_max_wait_seconds)
            logger.warning(
                "%s: transient failure %s, retrying in %ss", self.sobject, self.failures, wait
            )
            self.next_action_at = time.monotonic() + wait
        except Exception:
            self._reload()
            raise

    def _step(self) -> None:
        try:
            self._dispatch()
        except SalesforceQueryError as error:
            self._query_refused(error)
        except SalesforceRequestTooLarge:
            # Field groups keep REST queries under the limit; should one still be refused, a
            # Bulk job reads the window (its query travels in the POST body).
            self._reload()
            if not self._to_bulk():
                raise

    def _query_refused(self, error: SalesforceQueryError) -> None:
        code = error.error_code
        if code == "INVALID_QUERY_LOCATOR":
            # REST locators expire after 15 idle minutes: read the window again from its start.
            self.checkpoint.restart_pages()
            self.ctx.commit(self._save)
            return
        if code == "QUERY_TIMEOUT":
            self._timed_out()
            return
        if code == "INVALID_FIELD" and self.replans < 3:
            # A field went away between describe and query: describe again and carry on.
            self.replans += 1
            self._replan()
            self.ctx.commit(self._save)
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

    # -- REST -------------------------------------------------------------------------------------
    def _rest_pages(self, window: Window, fields: Iterable[str], *, by_id: bool = False):
        soql = select_soql(self.sobject, fields, window, self.plan.cursor_field, by_id=by_id)
        return self.client.query_pages(
            soql, include_deleted=True, next_records_url=self.checkpoint.locator or None
        )

    def _field_groups(self) -> list[list[str]]:
        """The window read's fields, in groups whose queries fit Salesforce's request line."""
        return field_groups(self.sobject, self.plan.bulk_fields, self.plan.cursor_field)

    def _joined(self, window: Window, records: list[dict], groups: list[list[str]]) -> list[dict]:
        """A page of the first field group, with the other groups' fields merged in by Id.

        The page is ordered by Id, so each other group is one query over its Id range (its
        pages followed to the end) within the same window.
        """
        if len(groups) == 1 or not records:
            return records
        ids = (records[0]["Id"], records[-1]["Id"])
        cursor_field = self.plan.cursor_field
        for fields in groups[1:]:
            soql = select_soql(self.sobject, fields, window, cursor_field, ids=ids)
            rows = self.client.query(soql, include_deleted=True)
            records = join_by_id(records, rows, cursor_field)
        return records

    def _timed_out(self) -> None:
        # A REST window too slow for a synchronous query moves to Bulk; a Bulk window halves.
        if not self._to_bulk():
            self._split("QUERY_TIMEOUT")

    def _to_bulk(self) -> bool:
        """Move a REST window's rows to a Bulk job, if Bulk may be used; True if moved."""
        checkpoint = self.checkpoint
        rest_rows = checkpoint.read_mode == REST and checkpoint.phase == Phase.ROWS
        if not (rest_rows and self._large_mode == BULK):
            return False
        checkpoint.move_to_bulk()
        self.ctx.commit(self._save)
        return True

    def _read_rest_page(self) -> None:
        groups = self._field_groups()
        page = next(self._rest_pages(self.checkpoint.window, groups[0], by_id=len(groups) > 1))
        records = self._joined(self.checkpoint.window, page.records, groups)
        self._commit_rows(records_from_rest(records, self.plan), page.next_records_url)

    def _read_blob_page(self) -> None:
        fields = self.plan.rest_fields
        page = next(self._rest_pages(self.checkpoint.window, ["Id", *fields]))
        values = {record["Id"]: self._blobs(record, fields) for record in page.records}

        def work() -> None:
            merge_fields(connection_id=self.ctx.connection.pk, sobject=self.sobject, values=values)
            self._advance(page.next_records_url)

        self.ctx.commit(work)

    def _blobs(self, record: dict, fields: Iterable[str]) -> dict[str, str | None]:
        # A base64 field comes back from a query as the URL of its blob; one GET each.
        return {
            field: base64.b64encode(self.client.get_blob(record[field])).decode()
            if record.get(field)
            else None
            for field in fields
        }

    # -- committing ---------------------------------------------------------------------------
    def _commit_rows(self, records: Iterable[ParsedRecord], next_locator: str | None) -> None:
        cursor, ctx = self.cursor, self.ctx

        def work() -> None:
            stats = write_records(
                connection_id=ctx.connection.pk,
                sobject=self.sobject,
                run_id=ctx.run.pk,
                records=records,
                now=timezone.now(),
                batch_size=self.config.write_batch,
                loaded=cursor.initial_load_complete,
                lanes=self.config.write_lanes,
                helper=self.config.parse_helper,
            )
            ctx.count_write(self.sobject, stats)
            if not cursor.initial_load_complete:
                cursor.records_ingested += stats.written
            self._advance(next_locator)

        ctx.commit(work)
