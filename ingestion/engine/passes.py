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
from ingestion.engine.values import csv_converters, facet_fields, typed_from_csv

RECONCILE, BACKFILL = "reconcile", "backfill"


def formula_fields(plan: dict[str, Any]) -> list[str]:
    """Calculated fields Bulk can read."""
    bulk = set(plan["bulk_fields"])
    return [name for name, info in plan["fields"].items() if info["calculated"] and name in bulk]


def new_pass(purpose: str, plan: dict[str, Any], backfill: list[str]) -> dict[str, Any]:
    """The pass state kept on the cursor while a pass is in flight."""
    readable = set(plan["bulk_fields"])
    fields = [f for f in backfill if f in readable]
    if purpose == RECONCILE:
        fields = sorted(set(fields) | set(formula_fields(plan)))
    return {"purpose": purpose, "fields": fields, "started": timezone.now().isoformat()}


def pass_soql(sobject: str, state: dict[str, Any]) -> str:
    fields = [f for f in state["fields"] if f != "Id"]
    return f"SELECT {', '.join(['Id', *fields])} FROM {sobject}"


def pass_rows(lines: Iterable[str], plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
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
    state: dict,
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
    if state["purpose"] == RECONCILE:
        stage_seen_ids(run_id=run_id, sobject=sobject, ids=ids)
    changed = merge_fields(
        connection_id=connection_id, sobject=sobject, values=values, facet_fields=facet_fields
    )
    return len(ids), changed


def finish_pass(*, connection_id: int, sobject: str, run_id: int, state: dict) -> int:
    """Sweep after a reconciliation; returns how many records were found hard-deleted."""
    if state["purpose"] != RECONCILE:
        return 0
    started = timezone.datetime.fromisoformat(state["started"])
    return sweep_unseen(
        connection_id=connection_id,
        sobject=sobject,
        run_id=run_id,
        seen_before=started,
        now=timezone.now(),
    )


class PassSteps:
    """The ObjectReader steps that read a pass's pages and finish it (a mixin: it uses the
    reader's client, cursor, context and job helpers)."""

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
            state=self.pass_state,
            rows=pass_rows(page.text(), self.plan),
            facet_fields=facet_fields(self.plan),
        )
        self.ctx.count_write(self.sobject, WriteStats(read=read, written=changed))
        if page.next_locator:
            self.cursor.locator = page.next_locator
        else:
            self._finish_pass()
        self.cursor.save()

    def _finish_pass(self) -> None:
        state, cursor = self.pass_state, self.cursor
        deleted = finish_pass(
            connection_id=self.ctx.connection.pk,
            sobject=self.sobject,
            run_id=self.ctx.run.pk,
            state=state,
        )
        self.ctx.count_write(self.sobject, WriteStats(deleted=deleted))
        now = timezone.now()
        if state["purpose"] == RECONCILE:
            cursor.last_reconciled_at = now
            if formula_fields(self.plan):
                cursor.last_formula_refresh_at = now
        pending = set(cursor.last_counts.get("backfill_fields", [])) - set(state["fields"])
        cursor.last_counts["backfill_fields"] = sorted(pending)
        cursor.last_counts.pop("pass", None)
        self._clear_job()
