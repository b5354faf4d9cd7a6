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
    TARGET_FIELDS,
    detect_encoding,
    header_auto_map,
    iter_rows,
    read_header,
    row_clean,
)
from audiences.models import CsvList, CsvRow, CsvRowMatch
from audiences.normalise import email_domain, name_key, registrable_domain
from audiences.selectors.compiler import _text, records_of
from connections.models import Connection, Workspace
from ingestion.models import IngestedRecord
from primer_sf.errors import ApplicationError

logger = logging.getLogger(__name__)
BATCH = 2000
PEOPLE = ("Contact", "Lead")


def csv_list_upload(
    *, workspace: Workspace, name: str, kind: str, file: UploadedFile, user: AbstractBaseUser
) -> CsvList:
    """Store an uploaded CSV, detect its encoding and auto-map its header.

    The list then waits for the customer to confirm (or edit) the mapping.
    """
    limit = settings.AUDIENCE_CSV_MAX_BYTES
    if file.size > limit:
        raise ApplicationError(
            f"The file is {file.size / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB."
        )
    encoding = detect_encoding(file)
    header = read_header(file, encoding)
    if not any(header):
        raise ApplicationError("The file is empty: the first row should name the columns.")
    csv_list = CsvList(
        workspace=workspace, name=name, kind=kind, original_name=file.name[:255],
        size_bytes=file.size, encoding=encoding, header=header,
        mapping=header_auto_map(header, kind), created_by=user,
    )  # fmt: skip
    file.seek(0)
    csv_list.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{file.name[-80:]}", file, save=False)
    csv_list.save()
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
    csv_list.status = CsvList.Status.IMPORTING
    csv_list.save(update_fields=["mapping", "status"])
    transaction.on_commit(lambda: async_task("audiences.tasks.csv_list_import", csv_list.pk))
    return csv_list


def csv_list_import(*, csv_list: CsvList) -> CsvList:
    """Read the file as a stream, validate each row, keep every row (valid or not), then
    match the list against each connection of the workspace."""
    CsvRow.objects.filter(csv_list=csv_list).delete()
    counts = {True: 0, False: 0}
    with csv_list.file.open("rb") as stream:
        batch = []
        for number, cells in iter_rows(stream, csv_list.encoding):
            batch.append(_row(csv_list, number, cells))
            counts[batch[-1].is_valid] += 1
            if len(batch) >= BATCH:
                CsvRow.objects.bulk_create(batch)
                batch = []
        CsvRow.objects.bulk_create(batch)
    csv_list.valid_rows, csv_list.invalid_rows = counts[True], counts[False]
    csv_list.total_rows = sum(counts.values())
    csv_list.status, csv_list.imported_at = CsvList.Status.READY, timezone.now()
    csv_list.save()
    for connection in csv_list.workspace.connections.all():
        csv_list_rematch(csv_list=csv_list, connection=connection)
    return csv_list


def _row(csv_list: CsvList, number: int, cells: list[str]) -> CsvRow:
    clean = row_clean(csv_list.kind, cells, csv_list.mapping)
    return CsvRow(
        csv_list=csv_list, row_number=number, is_valid=clean.valid,
        error="; ".join(clean.errors)[:300], raw=cells, **clean.values,
    )  # fmt: skip


# --- matching --------------------------------------------------------------------------------


@transaction.atomic
def csv_list_rematch(*, csv_list: CsvList, connection: Connection) -> int:
    """Rebuild every match of a list's valid rows to the connection's live records (the old
    matches are deleted first); returns rows matched. Counting them is
    ``selectors.csv_list_match_counts``.

    People: by email first, then by first + last name with the company domain (of their
    email, a lead's website, or a contact's account website). Companies: by the domain of the
    account's Website, then by the email domain of its contacts.
    """
    CsvRowMatch.objects.filter(row__csv_list=csv_list, connection=connection).delete()
    rows = list(CsvRow.objects.filter(csv_list=csv_list, is_valid=True))
    if csv_list.kind == CsvList.Kind.PEOPLE:
        matches = _match_people(rows, connection)
    else:
        matches = _match_companies(rows, connection)
    CsvRowMatch.objects.bulk_create(
        [CsvRowMatch(row=r, connection=connection, record_id=p, method=m) for r, p, m in matches],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    return len({r.pk for r, _, _ in matches})


def _match_people(rows: list[CsvRow], connection: Connection) -> list[tuple]:
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


def _match_names(rows: list[CsvRow], connection: Connection) -> list[tuple]:
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


def _match_companies(rows: list[CsvRow], connection: Connection) -> list[tuple]:
    wanted = {row.domain for row in rows if row.domain}
    by_website, by_sf_id = defaultdict(list), {}
    accounts = records_of(connection=connection, sobject="Account")
    for pk, sf_id, site in accounts.values_list("pk", "sf_id", _text("Website")).iterator(
        chunk_size=BATCH
    ):
        by_sf_id[sf_id] = pk
        domain = registrable_domain(site)
        if domain in wanted:
            by_website[domain].append(pk)
    by_contacts = defaultdict(set)
    contacts = records_of(connection=connection, sobject="Contact")
    for email, account_id in contacts.values_list(_text("Email"), _text("AccountId")).iterator(
        chunk_size=BATCH
    ):
        domain = email_domain(email)
        if domain in wanted and account_id in by_sf_id:
            by_contacts[domain].add(by_sf_id[account_id])
    matches = []
    for row in rows:
        if by_website.get(row.domain):
            matches += [(row, pk, CsvRowMatch.Method.WEBSITE) for pk in by_website[row.domain]]
        else:
            matches += [
                (row, pk, CsvRowMatch.Method.CONTACT_EMAIL) for pk in by_contacts[row.domain]
            ]
    return matches
