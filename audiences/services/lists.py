"""Writes for CSV lists: upload, column mapping, import, and matching to ingested records."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.functions import Lower
from django.db.models.lookups import In
from django.utils import timezone
from django_q.tasks import async_task

from audiences.csv_io import (
    DELIMITERS,
    ENCODINGS,
    PEOPLE_FIELDS,
    TARGET_FIELDS,
    NotTextError,
    detect_delimiter,
    detect_encoding,
    header_auto_map,
    iter_rows,
    raw_cells,
    read_header,
    row_clean,
)
from audiences.models import Audience, AudienceList, CsvList, CsvRow, CsvRowMatch
from audiences.normalise import email_domain, name_key, registrable_domain
from audiences.selectors.compiler import _text, records_of
from audiences.services.bulk import json_value, rows_insert, tables_analyze
from connections.models import Connection, Workspace
from ingestion.models import IngestedRecord
from primer_sf.errors import ApplicationError

logger = logging.getLogger(__name__)
BATCH = 2000
PEOPLE = ("Contact", "Lead")


def csv_list_upload(
    *, workspace: Workspace, name: str, kind: str, file: UploadedFile, user: AbstractBaseUser
) -> CsvList:
    """Store an uploaded CSV, detect its encoding and delimiter, and auto-map its header.

    Files that are not text are refused here, with the reason. The list then waits for the
    customer to confirm (or edit) the mapping, the encoding and the delimiter.
    """
    limit = settings.AUDIENCE_CSV_MAX_BYTES
    if file.size > limit:
        raise ApplicationError(
            f"The file is {file.size / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB."
        )
    try:
        encoding = detect_encoding(file)
    except NotTextError as error:
        raise ApplicationError(str(error)) from None
    delimiter = detect_delimiter(file, encoding)
    header = read_header(file, encoding, delimiter)
    if not any(header):
        raise ApplicationError("The file is empty: the first row should name the columns.")
    csv_list = CsvList(
        workspace=workspace, name=name, kind=kind, original_name=file.name[:255],
        size_bytes=file.size, encoding=encoding, delimiter=delimiter, header=header,
        mapping=header_auto_map(header, kind), created_by=user,
    )  # fmt: skip
    file.seek(0)
    csv_list.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{file.name[-80:]}", file, save=False)
    csv_list.save()
    return csv_list


def csv_list_set_reading(*, csv_list: CsvList, encoding: str, delimiter: str) -> CsvList:
    """Override the detected encoding or delimiter (mapping page); the header is read again
    and auto-mapped when the columns changed."""
    if encoding not in ENCODINGS or delimiter not in DELIMITERS:
        raise ApplicationError("Choose one of the listed encodings and delimiters.")
    if csv_list.status != CsvList.Status.MAPPING:
        raise ApplicationError("The list is already imported.")
    with csv_list.file.open("rb") as stream:
        header = read_header(stream, encoding, delimiter)
    if header != csv_list.header:
        csv_list.header, csv_list.mapping = header, header_auto_map(header, csv_list.kind)
    csv_list.encoding, csv_list.delimiter = encoding, delimiter
    csv_list.save(update_fields=["encoding", "delimiter", "header", "mapping"])
    return csv_list


def csv_list_set_mapping(*, csv_list: CsvList, mapping: dict[str, int | None]) -> CsvList:
    """Confirm the column mapping and queue the import."""
    clean = {t: i for t, i in mapping.items() if i is not None and i != ""}
    if set(clean) - set(TARGET_FIELDS[csv_list.kind]):
        raise ApplicationError("Unknown target field in the mapping.")
    if any(not 0 <= int(i) < len(csv_list.header) for i in clean.values()):
        raise ApplicationError("The mapping names a column the file does not have.")
    if len(set(clean.values())) != len(clean):
        raise ApplicationError("Each column can be mapped to one field only.")
    if not clean:
        raise ApplicationError("Map at least one column.")
    csv_list.mapping = {t: int(i) for t, i in clean.items()}
    csv_list.save(update_fields=["mapping"])
    return _import_enqueue(csv_list)


def csv_list_retry(*, csv_list: CsvList) -> CsvList:
    """Import a list again after it failed (a lost worker fails it too: the task's hook).

    Only from ``error``: retrying a list still importing would race its running import.
    """
    if csv_list.status != CsvList.Status.ERROR:
        raise ApplicationError("Only a list whose import failed can be retried.")
    if not csv_list.mapping:
        raise ApplicationError("Map the list's columns first.")
    return _import_enqueue(csv_list)


def _import_enqueue(csv_list: CsvList) -> CsvList:
    csv_list.status, csv_list.status_message = CsvList.Status.IMPORTING, ""
    csv_list.save(update_fields=["status", "status_message"])
    transaction.on_commit(
        lambda: async_task(
            "audiences.tasks.csv_list_import",
            csv_list.pk,
            hook="audiences.tasks.csv_list_import_done",
        )
    )
    return csv_list


def csv_list_delete(*, csv_list: CsvList) -> list[int]:
    """Delete a list, its rows and its file; audiences that used it drop it and are evaluated
    again. Returns the ids of those audiences."""
    from audiences.services.audiences import audience_evaluate_enqueue

    audiences = list(
        Audience.objects.filter(list_uses__csv_list=csv_list)
        .exclude(status=Audience.Status.ARCHIVED)
        .select_related("connection", "workspace")
        .distinct()
    )
    with transaction.atomic():
        AudienceList.objects.filter(csv_list=csv_list).delete()
        for audience in audiences:
            if audience.status != Audience.Status.DRAFT:
                audience_evaluate_enqueue(audience=audience, trigger="customer")
    _delete_rows(csv_list)
    csv_list.file.delete(save=False)
    csv_list.delete()
    return [a.pk for a in audiences]


def _delete_rows(csv_list: CsvList) -> None:
    """Delete rows (and their matches) a batch per transaction, so the site never waits."""
    rows = CsvRow.objects.filter(csv_list=csv_list)
    while ids := list(rows.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            CsvRowMatch.objects.filter(row_id__in=ids).delete()
            CsvRow.objects.filter(pk__in=ids).delete()


def csv_list_import(*, csv_list: CsvList) -> CsvList:
    """Read the file as a stream, validate each row, keep every row (valid or not), then match
    the list against each connection of the workspace; ``ready`` only after both.

    Rows are written a batch per transaction with the counts updated after each, so the page
    shows progress and the site never waits on one long transaction. Any failure ends the list
    in ``error`` with a message and a Retry, never stuck in ``importing``.
    """
    try:
        _import_rows(csv_list)
        _set_status(csv_list, CsvList.Status.MATCHING)
        for connection in csv_list.workspace.connections.all():
            csv_list_rematch(csv_list=csv_list, connection=connection)
    except Exception as error:  # any failure must end visible (invariant 13), never stuck
        logger.exception("Import of CSV list %s failed", csv_list.pk)
        return csv_list_fail(csv_list=csv_list, message=_failure_message(error))
    csv_list.imported_at = timezone.now()
    CsvList.objects.filter(pk=csv_list.pk).update(imported_at=csv_list.imported_at)
    return _set_status(csv_list, CsvList.Status.READY)


def _failure_message(error: Exception) -> str:
    if isinstance(error, OSError):
        return "The uploaded file could not be read again; upload it once more."
    return (
        "The import stopped on an unexpected problem "
        f"({type(error).__name__}); retry it, or delete the list and upload it again."
    )


def csv_list_fail(*, csv_list: CsvList, message: str) -> CsvList:
    """End a list's import in ``error`` with a message for the customer."""
    csv_list.status_message = message
    CsvList.objects.filter(pk=csv_list.pk).update(status_message=message)
    return _set_status(csv_list, CsvList.Status.ERROR)


def _set_status(csv_list: CsvList, status: str) -> CsvList:
    CsvList.objects.filter(pk=csv_list.pk).update(status=status)
    csv_list.status = status
    return csv_list


def _import_rows(csv_list: CsvList) -> None:
    _delete_rows(csv_list)
    counts = {True: 0, False: 0}
    with csv_list.file.open("rb") as stream:
        batch = []
        for number, cells in iter_rows(stream, csv_list.encoding, csv_list.delimiter):
            batch.append(_row(csv_list, number, cells))
            counts[batch[-1][2]] += 1
            if len(batch) >= BATCH:
                _write_rows(csv_list, batch, counts)
                batch = []
        _write_rows(csv_list, batch, counts)


ROW_FIELDS = ["csv_list", "row_number", "is_valid", "error", "raw", *PEOPLE_FIELDS]


def _write_rows(csv_list: CsvList, batch: list[tuple], counts: dict[bool, int]) -> None:
    with transaction.atomic():
        rows_insert(CsvRow, ROW_FIELDS, batch)
        csv_list.valid_rows, csv_list.invalid_rows = counts[True], counts[False]
        csv_list.total_rows = sum(counts.values())
        CsvList.objects.filter(pk=csv_list.pk).update(
            valid_rows=csv_list.valid_rows,
            invalid_rows=csv_list.invalid_rows,
            total_rows=csv_list.total_rows,
            matched_rows={},
        )


def _row(csv_list: CsvList, number: int, cells: list[str] | str) -> tuple:
    """One row's values in ROW_FIELDS order."""
    if isinstance(cells, str):  # the csv module could not read this row
        empty = [""] * len(PEOPLE_FIELDS)
        return (csv_list.pk, number, False, cells[:300], json_value(CsvRow, "raw", []), *empty)
    clean = row_clean(csv_list.kind, cells, csv_list.mapping)
    values = clean.values if clean.valid else {}
    return (
        csv_list.pk, number, clean.valid, "; ".join(clean.errors)[:300],
        json_value(CsvRow, "raw", raw_cells(cells)),
        *(values.get(name, "") for name in PEOPLE_FIELDS),
    )  # fmt: skip


# --- matching --------------------------------------------------------------------------------


def csv_list_rematch(*, csv_list: CsvList, connection: Connection) -> int:
    """Rebuild every match of a list's valid rows to the connection's live records; returns
    rows matched. Counting them without rebuilding is ``selectors.csv_list_match_counts``.

    People: by email first, then by first + last name with the company domain (of their
    email, a lead's website, or a contact's account website). Companies: by the domain of the
    account's Website, then by the email domain of its contacts.

    A batch of rows per transaction: its old matches are replaced by its new ones at once, so
    readers never see a half-matched batch, and the count matched so far is kept on the list.
    """
    index = _company_index(connection) if csv_list.kind == CsvList.Kind.COMPANIES else None
    matched = 0
    for rows in _valid_row_batches(csv_list):
        if index is None:
            matches = _match_people(rows, connection)
        else:
            matches = _match_companies(rows, index)
        with transaction.atomic():
            ids = [r.pk for r in rows]
            CsvRowMatch.objects.filter(row_id__in=ids, connection=connection).delete()
            rows_insert(
                CsvRowMatch, ["row", "connection", "record", "method"],
                [(r.pk, connection.pk, p, m) for r, p, m in matches], ignore_conflicts=True,
            )  # fmt: skip
        matched += len({r.pk for r, _, _ in matches})
        _count_matched(csv_list, connection, matched)
    _count_matched(csv_list, connection, matched)
    tables_analyze(CsvRow, CsvRowMatch)
    return matched


def _count_matched(csv_list: CsvList, connection: Connection, matched: int) -> None:
    fresh = CsvList.objects.filter(pk=csv_list.pk).values_list("matched_rows", flat=True).first()
    counts = {**(fresh or {}), str(connection.pk): matched}
    CsvList.objects.filter(pk=csv_list.pk).update(matched_rows=counts)
    csv_list.matched_rows = counts


def _valid_row_batches(csv_list: CsvList):
    last = 0
    fields = ("pk", "email", "first_name", "last_name", "domain")
    valid = CsvRow.objects.filter(csv_list=csv_list, is_valid=True).values_list(*fields, named=True)
    while rows := list(valid.filter(pk__gt=last).order_by("pk")[:BATCH]):
        last = rows[-1].pk
        yield rows


def _match_people(rows: list, connection: Connection) -> list[tuple]:
    by_email = defaultdict(list)
    for row in rows:
        if row.email:
            by_email[row.email].append(row)
    matches, matched = [], set()
    emails = list(by_email)
    for start in range(0, len(emails), BATCH):
        people = IngestedRecord.objects.filter(
            connection=connection, sobject__in=PEOPLE, is_deleted=False
        )
        found = people.filter(In(Lower(_text("Email")), emails[start : start + BATCH]))
        for pk, email in found.values_list("pk", Lower(_text("Email"))):
            for row in by_email[email]:
                matches.append((row, pk, CsvRowMatch.Method.EMAIL))
                matched.add(row.pk)
    rest = [r for r in rows if r.pk not in matched and r.first_name and r.last_name and r.domain]
    return matches + _match_names(rest, connection)


def _match_names(rows: list, connection: Connection) -> list[tuple]:
    by_name = defaultdict(list)
    for row in rows:
        by_name[(name_key(row.first_name), name_key(row.last_name))].append(row)
    last_names = sorted({last for _, last in by_name})
    matches = []
    for start in range(0, len(last_names), BATCH):
        people = IngestedRecord.objects.filter(
            connection=connection, sobject__in=PEOPLE, is_deleted=False
        ).filter(In(Lower(_text("LastName")), last_names[start : start + BATCH]))
        candidates = list(people.values_list("pk", "sobject", "data"))
        websites = _account_domains(connection, [d.get("AccountId") for _, _, d in candidates])
        for pk, _, data in candidates:
            key = (name_key(data.get("FirstName")), name_key(data.get("LastName")))
            domains = {
                registrable_domain(data.get("Email")),
                registrable_domain(data.get("Website")),
                websites.get(data.get("AccountId")),
            }
            matches += [
                (row, pk, CsvRowMatch.Method.NAME_DOMAIN)
                for row in by_name.get(key, ())
                if row.domain in domains
            ]
    return matches


def _account_domains(connection: Connection, account_ids: list) -> dict[str, str | None]:
    ids = sorted({a for a in account_ids if a})
    accounts = records_of(connection=connection, sobject="Account").filter(sf_id__in=ids)
    return {
        sf_id: registrable_domain(site)
        for sf_id, site in accounts.values_list("sf_id", _text("Website"))
    }


def _company_index(connection: Connection) -> tuple[dict, dict]:
    """Accounts by the domain of their Website, and by the email domain of their contacts
    (read once per list; each batch of rows then matches in memory)."""
    by_website, by_sf_id = defaultdict(list), {}
    accounts = records_of(connection=connection, sobject="Account")
    for pk, sf_id, site in accounts.values_list("pk", "sf_id", _text("Website")).iterator(
        chunk_size=BATCH
    ):
        by_sf_id[sf_id] = pk
        domain = registrable_domain(site)
        if domain:
            by_website[domain].append(pk)
    by_contacts = defaultdict(set)
    contacts = records_of(connection=connection, sobject="Contact")
    for email, account_id in contacts.values_list(_text("Email"), _text("AccountId")).iterator(
        chunk_size=BATCH
    ):
        domain = email_domain(email)
        if domain and account_id in by_sf_id:
            by_contacts[domain].add(by_sf_id[account_id])
    return by_website, by_contacts


def _match_companies(rows: list, index: tuple[dict, dict]) -> list[tuple]:
    by_website, by_contacts = index
    matches = []
    for row in rows:
        if by_website.get(row.domain):
            matches += [(row, pk, CsvRowMatch.Method.WEBSITE) for pk in by_website[row.domain]]
        else:
            matches += [
                (row, pk, CsvRowMatch.Method.CONTACT_EMAIL)
                for pk in by_contacts.get(row.domain, ())
            ]
    return matches
