"""Scale properties: flat memory across profiles, window queries that do not scan, CSV rows that
say what REST says, cursors that are snapshots."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from emulator import Org, queries
from emulator.bulk import Job, csv_page
from emulator.clock import FORMATS, epoch_of
from emulator.data.base import LateRecords

USER = "integration@example.com"


def test_creating_an_org_costs_the_same_memory_whatever_its_size():
    Org.from_profile("tiny").count("Contact")  # module-level tables, built once per process
    sizes = {}
    for profile in ("demo", "seed-example"):
        tracemalloc.start()
        org = Org.from_profile(profile)
        org.count("Contact")
        sizes[profile] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del org
    assert sizes["seed-example"] < 2_000_000
    # ten times the records; the small difference is the three times larger user list
    assert abs(sizes["seed-example"] - sizes["demo"]) < 500_000


def test_a_system_modstamp_window_looks_at_a_few_candidates_not_the_whole_object():
    org = Org.from_profile("seed-example")
    store = org.stores["Contact"]
    hi = org.data_end - 400 * 86400
    lo = hi - 86400
    candidates = store.modstamp_candidates(lo, hi)
    assert len(candidates) < 15_000
    fmt = lambda e: datetime.fromtimestamp(e, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    soql = (
        "SELECT Id, SystemModstamp FROM Contact"
        f" WHERE SystemModstamp >= {fmt(lo)} AND SystemModstamp < {fmt(hi)}"
    )
    body = queries.run(org, USER, soql, include_deleted=False, options=None, version="62.0")
    assert body["totalSize"] > 0
    assert all(lo <= epoch_of(r["SystemModstamp"]) < hi for r in body["records"])
    # the pruned answer equals a brute-force scan over the candidate superset's neighbourhood
    mods = store.columns(range(0, store.generated, 1), ["SystemModstamp"], org.seq)[0]
    assert body["totalSize"] == sum(1 for m in mods if lo <= m < hi)


def _expected_cell(ftype: str, value) -> str:
    if value is None:
        return ""
    if ftype == "datetime":
        return FORMATS.bulk(epoch_of(value))
    if ftype == "boolean":
        return "true" if value else "false"
    if ftype in ("double", "currency", "percent"):
        return repr(float(value))
    return str(value)


def test_csv_cells_say_what_rest_says(org):
    org.apply_random_changes(60, seed=5)
    for sobject in ("Account", "Contact", "Lead", "Opportunity", "CampaignMember"):
        view = org.view(USER)
        obj = view.object(sobject)
        fields = [f for f in view.field_list(obj) if not f.is_compound and f.type != "base64"]
        plan = org.compile(f"SELECT {', '.join(f.name for f in fields)} FROM {sobject}", USER)
        job = Job("x", "query", sobject, "u", USER, 0, "62.0", "COMMA", "LF", plan, 0, None)
        org.snapshot_job(job)
        text = b"".join(csv_page(org, job, 0, 10**6, gzip=False, cut_after=None)).decode()
        rows = list(csv.reader(io.StringIO(text)))[1:]
        rest = {r["Id"]: r for r in org.iter_records(sobject, include_deleted=False)}
        assert len(rows) == len(rest)
        for row in rows:
            rec = rest[row[0]]
            for f, cell in zip(fields, row, strict=True):
                assert cell == _expected_cell(f.type, rec[f.name]), (sobject, f.name)


def test_rest_cursor_pages_are_a_snapshot(org):
    for i in range(2100):
        org.create("Campaign", {"Name": f"Bulk campaign {i}"})
    body = queries.run(
        org,
        USER,
        "SELECT Id, Name FROM Campaign ORDER BY Id",
        include_deleted=False,
        options=None,
        version="62.0",
    )
    assert body["done"] is False
    locator, offset = body["nextRecordsUrl"].rsplit("/", 1)[1].split("-")
    last = org.stores["Campaign"].gen.codec.encode(org.stores["Campaign"].next_index - 1)
    org.update("Campaign", last, {"Name": "Renamed later"})
    rest = queries.more(org, USER, locator, int(offset), "62.0", "query")
    names = {r["Id"]: r["Name"] for r in rest["records"]}
    assert names[last] == "Bulk campaign 2099"


@given(
    records=st.lists(st.tuples(st.integers(-50, 1_100), st.integers(0, 10**6)), max_size=300),
    lo=st.integers(-100, 1_200),
    width=st.one_of(st.none(), st.integers(1, 1_300)),
    count=st.integers(1, 5_000),
)
@example(records=[(10, 1), (20, 2), (19, 3)], lo=10, width=10, count=5_000)  # the two ends
@example(records=[(1_050, 1), (-5, 2)], lo=-10, width=None, count=200)  # past both ends
def test_late_records_between_two_stamps_are_those_a_scan_finds(records, lo, width, count):
    """Bucketed by stamp over [0, 1000): stamps outside it (a record created at the data's
    end, say) land in the end buckets, and a window still finds exactly its own."""
    late = LateRecords(0, 1_000, count)
    for n in range(0, len(records), 7):  # added in blocks, as late_records does
        block = records[n : n + 7]
        late.add([stamp for stamp, _ in block], [index for _, index in block])
    hi = None if width is None else lo + width
    scanned = [i for s, i in records if lo <= s and (hi is None or s < hi)]
    assert sorted(late.between(lo, hi)) == sorted(scanned)
