"""A generated value depends on its record's index alone, never on which other records are
rendered with it: a window query (a sparse set of indexes) must show the same values as a full
scan. (A repeat-the-previous-record rule once read the previous row of the page instead.)"""

import random
from array import array
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import Org
from emulator.data.chunk import Chunk


@pytest.fixture(scope="module")
def org():
    return Org.from_profile("tiny", seed=3)


@pytest.mark.parametrize(
    "sobject", ["Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember"]
)
def test_sparse_pages_render_the_same_values_as_a_full_scan(org, sobject):
    store = org.store(sobject)
    names = list(store.gen.columns)
    everything = store.columns(range(store.next_index), names, org.seq)
    for trial in range(5):
        idxs = sorted(random.Random(trial).sample(range(store.next_index), store.next_index // 3))
        sparse = store.columns(idxs, names, org.seq)
        for name, full_column, sparse_column in zip(names, everything, sparse, strict=True):
            assert [full_column[i] for i in idxs] == sparse_column, (sobject, name)


@pytest.mark.parametrize("sobject", ["Contact", "Account"])
@given(data=st.data())
@settings(max_examples=40, deadline=None)
def test_indexes_with_the_ends_of_a_run_render_each_record_as_itself(org, sobject, data):
    """Indexes out of order whose ends are those of a contiguous run (a query's ORDER BY gave
    1, 0, 2, 3, 5, 6, 7; the parents of a page of children can repeat) each render their own
    record's values, not those of the run's index at their position."""
    store = org.store(sobject)
    names = list(store.gen.columns)
    start = data.draw(st.integers(0, store.next_index - 3))
    size = data.draw(st.integers(3, min(12, store.next_index - start)))
    middle = st.integers(start, start + size - 1)
    idxs = [start, *data.draw(st.lists(middle, min_size=size - 2, max_size=size - 2))]
    idxs.append(start + size - 1)
    _renders_each_alone(store, names, idxs, org.seq)


@pytest.mark.parametrize("sobject", ["Contact", "Account"])
def test_the_order_a_sorted_query_gave_renders_each_record_as_itself(org, sobject):
    store = org.store(sobject)
    _renders_each_alone(store, list(store.gen.columns), [1, 0, 2, 3, 5, 6, 7], org.seq)


def _renders_each_alone(store, names: list[str], idxs: list[int], seq: int) -> None:
    rendered = store.columns(idxs, names, seq)
    alone = [store.columns([i], names, seq) for i in idxs]
    for n, (name, column) in enumerate(zip(names, rendered, strict=True)):
        assert column == [values[n][0] for values in alone], (name, idxs)


@pytest.mark.parametrize("sobject", ["Contact", "Lead", "CampaignMember"])
def test_dense_pages_render_the_same_values_as_a_full_scan(org, sobject):
    """A Bulk job cut by SystemModstamp matches most indexes of a stretch, not all: such a
    chunk is drawn over its whole span and its own picked out (chunk._dense_hull)."""
    store = org.store(sobject)
    names = list(store.gen.columns)
    everything = store.columns(range(store.next_index), names, org.seq)
    rows = store.csv_rows(range(store.next_index), names, org.seq, ",")
    rng = random.Random(7)
    count = store.next_index
    for start in (0, count // 3, max(0, count - 40)):
        idxs = sorted(i for i in range(start, min(count, start + 40)) if rng.random() < 0.8)
        dense = store.columns(idxs, names, org.seq)
        for name, full_column, dense_column in zip(names, everything, dense, strict=True):
            assert [full_column[i] for i in idxs] == dense_column, (sobject, name, start)
        assert store.csv_rows(idxs, names, org.seq, ",") == [rows[i] for i in idxs]


class _Tables:
    def table(self, key: str, modulus: int):
        return array("I", [(n * 7 + len(key)) % modulus for n in range(11)])  # period 11


@given(
    idxs=st.lists(st.integers(0, 60), min_size=1, max_size=40),
    pool=st.lists(st.text(max_size=2), min_size=1, max_size=9),
)
def test_a_chunk_draws_for_each_index_what_that_index_draws_alone(idxs, pool):
    """Dense, sparse, repeated or unordered indexes, across the tables' period: each draws
    its own slot of a repeating table, as a chunk of that index alone does."""
    gen = SimpleNamespace(name="Contact", tables=_Tables())
    chunk = Chunk(gen, idxs)
    assert list(chunk.r("pick", 5)) == [Chunk(gen, [i]).r("pick", 5)[0] for i in idxs]
    assert list(chunk.slots(pool)) == [pool[i % len(pool)] for i in idxs]
