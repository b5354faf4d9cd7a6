"""Reads over an audience's materialised members: summary, preview and export rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from django.db.models import Count

from audiences.models import Audience, AudienceMember
from audiences.normalise import cell_safe, email_normalise, phone_e164, sha256
from ingestion.models import IngestedRecord

COUNTRY_FIELD = {"Contact": "MailingCountry", "Lead": "Country", "Account": "BillingCountry"}
PHONE_FIELDS = ("MobilePhone", "Phone")
PLATFORM_NAMES = {"linkedin": "LinkedIn", "meta": "Meta", "google": "Google"}
TOP = 5
CHUNK = 2000
EXPORT_HEADER = [
    "salesforce_id", "object", "first_name", "last_name", "company", "title", "country",
    "email", "email_sha256", "phone", "phone_e164_sha256", "phone_digits_sha256",
]  # fmt: skip


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _accounts(connection_id: int, account_ids: Iterable[str]) -> dict[str, dict]:
    """Account data by Salesforce Id, for the people being described (one query per chunk)."""
    found: dict[str, dict] = {}
    for chunk in _chunks(sorted({a for a in account_ids if a})):
        rows = IngestedRecord.objects.filter(
            connection_id=connection_id, sobject="Account", sf_id__in=chunk, is_deleted=False
        ).values_list("sf_id", "data")
        found.update(rows)
    return found


def _full_name(data: dict) -> str:
    return " ".join(filter(None, [data.get("FirstName"), data.get("LastName")]))


def person_view(sobject: str, data: dict, account: dict | None) -> dict:
    """The key fields of a member, whatever its object."""
    account = account or {}
    company = {"Contact": account.get("Name"), "Lead": data.get("Company")}.get(
        sobject, data.get("Name")
    )
    if data.get("IsPersonAccount"):
        company = None  # a person account's "account" is the person, not an employer
    industry = data.get("Industry") if sobject != "Contact" else account.get("Industry")
    country = data.get(COUNTRY_FIELD[sobject]) or (account.get("BillingCountry") or None)
    phone_raw = next((data[f] for f in PHONE_FIELDS if data.get(f)), None)
    return {
        "sobject": sobject,
        "first_name": data.get("FirstName") or "",
        "last_name": data.get("LastName") or "",
        "name": data.get("Name") or _full_name(data),
        "company": company or "",
        "title": data.get("Title") or "",
        "industry": industry or "",
        "country": country or "",
        "email": email_normalise(data.get("Email")),
        "phone": phone_e164(phone_raw, country) if phone_raw else None,
    }


def _member_views(audience: Audience, member_ids: list[int]) -> Iterator[tuple[str, dict]]:
    """(sf_id, view) of the given records, accounts fetched once per chunk."""
    for chunk in _chunks(member_ids):
        # By connection too: the planner then reads that connection's partition alone, not
        # every partition's leaves and indexes (each one a lock of the query's).
        records = list(
            IngestedRecord.objects.filter(
                connection_id=audience.connection_id, pk__in=chunk
            ).values_list("sf_id", "sobject", "data")
        )
        accounts = _accounts(
            audience.connection_id,
            (d.get("AccountId") for _, s, d in records if s == "Contact"),
        )
        for sf_id, sobject, data in records:
            yield sf_id, person_view(sobject, data, accounts.get(data.get("AccountId")))


def _record_ids(audience: Audience) -> list[int]:
    return list(
        AudienceMember.objects.filter(audience=audience)
        .order_by("id")
        .values_list("record_id", flat=True)
    )


def audience_summary_compute(*, audience: Audience) -> dict:
    """Breakdown by object, top industries/countries/titles, share with an ad identifier.

    Run once per evaluation (it reads every member) and stored on the audience.
    """
    by_object = dict(
        AudienceMember.objects.filter(audience=audience)
        .values_list("sobject")
        .annotate(n=Count("id"))
        .order_by()
    )
    counters = {k: Counter() for k in ("industry", "country", "title")}
    size = with_email = with_phone = matchable = 0
    for _, view in _member_views(audience, _record_ids(audience)):
        size += 1
        for key, counter in counters.items():
            if view[key]:
                counter[view[key]] += 1
        with_email += bool(view["email"])
        with_phone += bool(view["phone"])
        matchable += bool(view["email"] or view["phone"])
    return {
        "by_object": by_object,
        "top_industries": counters["industry"].most_common(TOP),
        "top_countries": counters["country"].most_common(TOP),
        "top_titles": counters["title"].most_common(TOP),
        "with_email": with_email,
        "with_phone": with_phone,
        "matchable": matchable,
        "matchable_share": matchable / size if size else None,
    }


def audience_preview(*, audience: Audience, limit: int = 25) -> list[dict]:
    """The first members with their key fields (two queries)."""
    ids = list(
        AudienceMember.objects.filter(audience=audience)
        .order_by("id")
        .values_list("record_id", flat=True)[:limit]
    )
    return [{"sf_id": sf_id, **view} for sf_id, view in _member_views(audience, ids)]


def export_row(sf_id: str, view: dict) -> list[str]:
    """One CSV row: identifiers normalised and SHA-256 hashed as ad platforms take them.

    Phones: Google hashes E.164 with its "+"; Meta, TikTok and Snap the digits without it.
    The unhashed phone is written as digits so that no cell starts with "+".
    """
    phone = view["phone"]
    digits = phone[1:] if phone else ""
    cells = [
        sf_id, view["sobject"], view["first_name"], view["last_name"], view["company"],
        view["title"], view["country"], view["email"] or "", sha256(view["email"]),
        digits, sha256(phone), sha256(digits),
    ]  # fmt: skip
    return [cell_safe(c) for c in cells]


def audience_export_rows(*, audience: Audience) -> Iterator[list[str]]:
    """The header, then one row per member, streamed a chunk at a time."""
    yield EXPORT_HEADER
    for sf_id, view in _member_views(audience, _record_ids(audience)):
        yield export_row(sf_id, view)


def platform_warnings(*, size: int | None, minimums: dict[str, int]) -> list[str]:
    """A warning per ad platform whose minimum audience size is above ``size``."""
    if size is None:
        return []
    return [
        f"{PLATFORM_NAMES.get(platform, platform.title())} needs at least {minimum:,} matched "
        "members to serve; "
        f"this audience has {size:,} with an ad-matchable identifier."
        for platform, minimum in sorted(minimums.items())
        if size < minimum
    ]
