"""Whole-object passes: one Bulk job of ``Id`` plus a few fields, outside the windows.

Two purposes share the machinery (and, in a reconciliation, one job per object):
- reconcile: every Id present in Salesforce is staged, and stored records not among them were
  hard-deleted (emptied from the recycle bin, or CampaignMember, which has none); the formula
  fields ride along, because formulas change without moving SystemModstamp.
- backfill: a field that appeared since the last describe gets its values for every record,
  without a full resync.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone

from ingestion.engine.records import WriteStats, merge_fields, stage_seen_ids, sweep_unseen
from ingestion.engine.state import FieldPlan, PassState, Purpose
from ingestion.engine.values import csv_converters, facet_fields, typed_from_csv


def formula_fields(plan: FieldPlan) -> list[str]:
    """Calculated fields Bulk can read."""
    bulk = set(plan.bulk_fields)
    return [name for name, info in plan.fields.items() if info.calculated and name in bulk]


def new_pass(purpose: Purpose, plan: FieldPlan, backfill: list[str]) -> PassState:
    """A pass of ``purpose`` over the object, starting now."""
    readable = set(plan.bulk_fields)
    fields = [f for f in backfill if f in readable]
    if purpose == Purpose.RECONCILE:
        fields = sorted(set(fields) | set(formula_fields(plan)))
    return PassState(purpose, tuple(fields), timezone.now())


def pass_soql(sobject: str, state: PassState) -> str:
    fields = [f for f in state.fields if f != "Id"]
    return f"SELECT {', '.join(['Id', *fields])} FROM {sobject}"


def pass_rows(lines: Iterable[str], plan: FieldPlan) -> Iterator[dict[str, Any]]:
    reader = csv.reader(lines)
    columns = next(reader, None)
    if not columns:
        return
    converters = csv_converters(plan, columns)
    for row in reader:
        yield typed_from_csv(row, columns, converters)


def apply_pass_page(
    *,
    connection_id: int,
    sobject: str,
    run_id: int,
    state: PassState,
    rows: Iterable[dict],
    facet_fields: frozenset[str] = frozenset(),
) -> tuple[int, int]:
    """Stage Ids and merge field values of one page; returns (rows read, records changed)."""
    values: dict[str, dict[str, Any]] = {}
    ids: list[str] = []
    for row in rows:
        sf_id = row.pop("Id")
        ids.append(sf_id)
        if row:
            values[sf_id] = row
    if state.purpose == Purpose.RECONCILE:
        stage_seen_ids(run_id=run_id, sobject=sobject, ids=ids)
    changed = merge_fields(
        connection_id=connection_id, sobject=sobject, values=values, facet_fields=facet_fields
    )
    return len(ids), changed


def finish_pass(*, connection_id: int, sobject: str, run_id: int, state: PassState) -> int:
    """Sweep after a reconciliation; returns how many records were found hard-deleted."""
    if state.purpose != Purpose.RECONCILE:
        return 0
    return sweep_unseen(
        connection_id=connection_id,
        sobject=sobject,
        run_id=run_id,
        seen_before=state.started,
        now=timezone.now(),
    )


class PassSteps:
    """The ObjectReader steps that read a pass's pages and finish it (a mixin: it uses the
    reader's client, cursor, checkpoint, context and job helpers)."""

    def _read_pass_page(self) -> None:
        page = self._next_result_page()
        if page is None:
            return
        with page:
            self.ctx.commit(lambda: self._apply_pass_page(page))

    def _apply_pass_page(self, page) -> None:
        read, changed = apply_pass_page(
            connection_id=self.ctx.connection.pk,
            sobject=self.sobject,
            run_id=self.ctx.run.pk,
            state=self.checkpoint.pass_in_flight,
            rows=pass_rows(page.text(), self.plan),
            facet_fields=facet_fields(self.plan),
        )
        self.ctx.count_write(self.sobject, WriteStats(read=read, written=changed))
        self._advance(page.next_locator)

    def _finish_pass(self) -> None:
        state, cursor = self.checkpoint.pass_in_flight, self.cursor
        deleted = finish_pass(
            connection_id=self.ctx.connection.pk,
            sobject=self.sobject,
            run_id=self.ctx.run.pk,
            state=state,
        )
        self.ctx.count_write(self.sobject, WriteStats(deleted=deleted))
        now = timezone.now()
        if state.purpose == Purpose.RECONCILE:
            cursor.last_reconciled_at = now
            if formula_fields(self.plan):
                cursor.last_formula_refresh_at = now
        cursor.backfill_fields = sorted(set(cursor.backfill_fields) - set(state.fields))
        self.checkpoint.end_pass()
