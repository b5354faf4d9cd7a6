"""A generated value depends on its record's index alone, never on which other records are
rendered with it: a window query (a sparse set of indexes) must show the same values as a full
scan. (A repeat-the-previous-record rule once read the previous row of the page instead.)"""

import random

import pytest

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
