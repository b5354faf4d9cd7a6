"""Reads of CSV lists: what a user may see, match rates, invalid and unmatched rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet

from audiences.models import CsvList, CsvRow, CsvRowMatch
from connections.models import Connection


def csv_lists_for_user(*, user: AbstractBaseUser) -> QuerySet[CsvList]:
    """Lists of every workspace ``user`` belongs to."""
    return CsvList.objects.filter(workspace__memberships__user=user).select_related("workspace")


def _matched(connection: Connection):
    return Exists(CsvRowMatch.objects.filter(row=OuterRef("pk"), connection=connection))


@dataclass(frozen=True)
class ListMatch:
    """How a list matched one connection's records."""

    connection: Connection
    valid: int
    matched: int

    @property
    def rate(self) -> float | None:
        """Matched rows over valid rows."""
        return self.matched / self.valid if self.valid else None


def csv_list_match_counts(*, csv_list: CsvList, connection: Connection) -> ListMatch:
    """Valid and matched row counts of a list against one connection (one query; it reads the
    stored matches, which ``services.csv_list_rematch`` rebuilds)."""
    matched = CsvRow.objects.filter(csv_list=csv_list, is_valid=True).filter(_matched(connection))
    return ListMatch(connection, csv_list.valid_rows, matched.count())


def csv_lists_match_rate(*, csv_lists, connection: Connection) -> float | None:
    """Matched over valid rows across several lists (an audience's included lists)."""
    results = [csv_list_match_counts(csv_list=lst, connection=connection) for lst in csv_lists]
    valid = sum(r.valid for r in results)
    return sum(r.matched for r in results) / valid if valid else None


def csv_list_invalid_rows(*, csv_list: CsvList) -> Iterator[list[str]]:
    """Header, then row number, reason and original cells of each invalid row."""
    yield ["row", "reason", *csv_list.header]
    rows = CsvRow.objects.filter(csv_list=csv_list, is_valid=False).order_by("row_number")
    for row in rows.values_list("row_number", "error", "raw").iterator(chunk_size=2000):
        yield [str(row[0]), row[1], *row[2]]


def csv_list_unmatched_rows(*, csv_list: CsvList, connection: Connection) -> Iterator[list[str]]:
    """Header, then the original cells of each valid row that matched no record."""
    yield ["row", *csv_list.header]
    rows = (
        CsvRow.objects.filter(csv_list=csv_list, is_valid=True)
        .filter(~_matched(connection))
        .order_by("row_number")
    )
    for number, raw in rows.values_list("row_number", "raw").iterator(chunk_size=2000):
        yield [str(number), *raw]
