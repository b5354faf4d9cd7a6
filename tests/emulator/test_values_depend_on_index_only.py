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
def test_a_shuffled_run_of_indexes_renders_each_record_as_itself(org, sobject, data):
    """A run of indexes out of order (a query's ORDER BY, the parents of a page of children)
    has the ends of a contiguous run: each record still gets its own values, not those of
    the run's index at its position."""
    store = org.store(sobject)
    names = list(store.gen.columns)
    start = data.draw(st.integers(0, store.next_index - 2))
    size = data.draw(st.integers(2, min(12, store.next_index - start)))
    idxs = data.draw(st.permutations(range(start, start + size)))
    rendered = store.columns(idxs, names, org.seq)
    alone = [store.columns([i], names, org.seq) for i in idxs]
    for n, (name, column) in enumerate(zip(names, rendered, strict=True)):
        assert column == [values[n][0] for values in alone], (sobject, name, idxs)
