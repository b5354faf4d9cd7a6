"""A generated value depends on its record's index alone, never on which other records are
rendered with it: a window query (a sparse set of indexes) must show the same values as a full
scan. (A repeat-the-previous-record rule once read the previous row of the page instead.)"""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import Org


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
