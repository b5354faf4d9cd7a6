"""The emulator's answers to a load's planning queries without a scan: ``ORDER BY
SystemModstamp ASC LIMIT n`` stops once no later record can be among the first n, and a
COUNT() whose window holds every generated stamp counts only the changed records one by one
(emulator/engine.py). The answers must be those of the whole scan: the same query without its
LIMIT, sliced, and the rows an Id query returns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator import Org, engine, queries
from emulator.clock import FORMATS

USER = "integration@example.com"


def run(org, soql: str, include_deleted: bool = False) -> dict:
    return queries.run(
        org, USER, soql, include_deleted=include_deleted, options=None, version="62.0"
    )


def ids(org, soql: str, **kw) -> list[str]:
    return [r["Id"] for r in run(org, soql, **kw)["records"]]


def soql_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 8 records, so the 150 contacts of the tiny org span many of them."""
    monkeypatch.setattr(engine, "CHUNK", 8)


def _changed(org: Org) -> dict[str, str]:
    """Irregular records of every kind, on the tiny org's contacts; returns their Ids by role."""
    every = ids(org, "SELECT Id FROM Contact ORDER BY SystemModstamp")
    lowest, second, third, late = every[0], every[1], every[2], every[-1]
    org.clock.advance(5)
    org.update("Contact", lowest, {"Title": "Moved on"})  # the lowest stamp moves to now
    org.delete("Contact", second)  # still seen by queryAll
    org.purge("Contact", third)  # seen by nothing
    # A stamp set back before every other (the way only a system field's value can move)
    first = org.stores["Contact"].stamp_floor(0)
    org.set_field_value_without_modstamp("Contact", late, "SystemModstamp", soql_time(first - 60))
    created = org.create("Contact", {"LastName": "Newman"})
    return {
        "updated": lowest,
        "deleted": second,
        "purged": third,
        "backdated": late,
        "new": created,
    }


@pytest.mark.parametrize("field", ["SystemModstamp", "LastModifiedDate", "CreatedDate"])
@pytest.mark.parametrize("include_deleted", [False, True])
@pytest.mark.parametrize(("limit", "offset"), [(1, None), (3, None), (5, 7), (40, 100), (1, 150)])
def test_a_limited_stamp_order_is_the_whole_order_sliced_after_changes(
    org, small_chunks, field, include_deleted, limit, offset
):
    changed = _changed(org)
    soql = f"SELECT Id FROM Contact ORDER BY {field}"
    whole = ids(org, soql, include_deleted=include_deleted)
    tail = f" LIMIT {limit}" + (f" OFFSET {offset}" if offset is not None else "")
    page = ids(org, soql + tail, include_deleted=include_deleted)
    start = offset or 0
    assert page == whole[start : start + limit]
    if field == "SystemModstamp":
        assert whole[0] == changed["backdated"]  # found though it lies past the stopping point
        assert (changed["deleted"] in whole) is include_deleted
        assert changed["purged"] not in whole


def test_a_limited_stamp_order_with_a_filter_and_a_window(org, small_chunks):
    _changed(org)
    stamps = sorted(r["SystemModstamp"] for r in org.iter_records("Contact"))
    lo = stamps[20][:19] + "Z"
    for where in (
        f"WHERE SystemModstamp >= {lo}",
        "WHERE LeadSource = 'Web'",
        f"WHERE SystemModstamp >= {lo} AND Title != null",
    ):
        soql = f"SELECT Id FROM Contact {where} ORDER BY SystemModstamp ASC"
        whole = ids(org, soql)
        assert len(whole) > 4
        assert ids(org, soql + " LIMIT 4") == whole[:4]


def test_a_null_stamp_sorts_first_though_no_generated_record_has_one(org, small_chunks):
    """Nulls come first in an ascending order; only a changed record can hold one."""
    every = ids(org, "SELECT Id FROM Contact ORDER BY SystemModstamp")
    nulled = ids(org, "SELECT Id FROM Contact ORDER BY Id")[3]  # in the first chunk scanned
    org.set_field_value_without_modstamp("Contact", nulled, "SystemModstamp", None)
    others = [sf_id for sf_id in every if sf_id != nulled]
    page = ids(org, "SELECT Id FROM Contact ORDER BY SystemModstamp LIMIT 2")
    assert page == [nulled, others[0]]


def test_a_stamp_field_added_anew_is_ordered_by_its_own_values(org, small_chunks):
    """A field removed and added again through the control API has values of its own, which
    the time model does not bound: no shortcut then."""
    org.remove_field("Contact", "CreatedDate")
    org.add_field("Contact", "CreatedDate", "int")
    whole = ids(org, "SELECT Id FROM Contact ORDER BY CreatedDate")
    assert ids(org, "SELECT Id FROM Contact ORDER BY CreatedDate LIMIT 3") == whole[:3]
    org.remove_field("Contact", "SystemModstamp")
    org.add_field("Contact", "SystemModstamp", "int")
    where = "WHERE SystemModstamp < 2000000000"
    count = run(org, f"SELECT COUNT() FROM Contact {where}", True)["totalSize"]
    assert count == len(ids(org, f"SELECT Id FROM Contact {where}", include_deleted=True))


def test_fixed_rows_are_checked_like_changed_ones(org, monkeypatch):
    """The emulated users' rows carry fixed values; a CreatedDate order over them still
    matches the whole order (every user in its own chunk)."""
    monkeypatch.setattr(engine, "CHUNK", 1)
    whole = ids(org, "SELECT Id FROM User ORDER BY CreatedDate")
    assert ids(org, "SELECT Id FROM User ORDER BY CreatedDate LIMIT 2") == whole[:2]


@pytest.mark.parametrize("include_deleted", [False, True])
def test_counting_a_window_past_every_stamp_counts_what_a_query_returns(org, include_deleted):
    _changed(org)
    store = org.stores["Contact"]
    now = soql_time(store.stamps_end() + 1)
    later = soql_time(int(org.clock.now().timestamp()) + 10)
    before = soql_time(store.stamp_floor(0) - 1)
    stamps = sorted(r["SystemModstamp"] for r in org.iter_records("Contact"))
    inside = stamps[20][:19] + "Z"
    for where in (
        f"SystemModstamp < {later}",
        f"SystemModstamp < {later} AND LeadSource = 'Web'",  # not only stamps: a scan
        f"SystemModstamp >= {inside} AND SystemModstamp < {later}",  # not every stamp: a scan
        f"SystemModstamp < {soql_time(store.stamps_end())}",
        f"LastModifiedDate < {later}",
        f"SystemModstamp >= {before} AND SystemModstamp < {later}",
        f"SystemModstamp < {now}",  # the changed records' new stamps are past it
        f"SystemModstamp >= {before}",
    ):
        count = run(org, f"SELECT COUNT() FROM Contact WHERE {where} OFFSET 10", include_deleted)
        rows = ids(org, f"SELECT Id FROM Contact WHERE {where}", include_deleted=include_deleted)
        assert count["totalSize"] == max(len(rows) - 10, 0), where
        count = run(org, f"SELECT COUNT() FROM Contact WHERE {where}", include_deleted)
        rows = ids(org, f"SELECT Id FROM Contact WHERE {where}", include_deleted=include_deleted)
        assert count["totalSize"] == len(rows), where


def test_the_planning_queries_of_a_large_org_answer_without_reading_every_stamp():
    """At seed-example's 300,000 contacts, the load's first count and lowest stamp read a
    chunk of records, not the object (each took 0.2 s and 0.5 s, 2.4 s and 6 s at 10M)."""
    org = Org.from_profile("seed-example")
    store = org.stores["Contact"]
    read = []
    real = store.columns

    def columns(idxs, names, seq, csv=False):
        read.append(len(idxs))
        return real(idxs, names, seq, csv)

    store.columns = columns
    later = soql_time(int(org.clock.now().timestamp()) + 1)
    count = run(org, f"SELECT COUNT() FROM Contact WHERE SystemModstamp < {later}", True)
    assert count["totalSize"] == 300_000
    soql = (
        f"SELECT SystemModstamp FROM Contact WHERE SystemModstamp < {later} "
        "ORDER BY SystemModstamp ASC LIMIT 1"
    )
    lowest = run(org, soql, True)["records"][0]["SystemModstamp"]
    # a chunk read four times (filter and order while scanning, then again to match and sort)
    assert sum(read) <= 4 * engine.CHUNK + 2
    every = real(range(store.generated), ["SystemModstamp"], org.seq)[0]
    assert lowest == FORMATS.rest(min(every))
