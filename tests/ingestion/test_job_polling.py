"""A running Bulk job's polls back off as it ages (bulk_steps.poll_wait), counted from its
creation: a job made ahead is already old when its window's turn comes."""

import itertools
import math
import time

from hypothesis import given
from hypothesis import strategies as st

from ingestion.engine.bulk_steps import poll_wait
from ingestion.engine.config import EngineConfig
from ingestion.models import SyncRun
from tests.ingestion.fake_salesforce import FakeClient
from tests.ingestion.test_sync_engine import _assert_local_copy_equals, _run, _seed

# The runner sleeps at least 0.05 s between looks, and a CI machine is slow: slack for each
# poll's lateness, well under the inherited backoff's overshoot this test is there to catch.
SLACK = 0.6


def _schedule(duration: float, first_age: float, config: EngineConfig) -> tuple[float, int]:
    """When a job that runs ``duration`` s, first polled at ``first_age``, is seen done, and
    after how many polls."""
    age, polls = first_age, 1
    while age < duration:
        age += poll_wait(age, config)
        polls += 1
    return age, polls


def test_a_fresh_job_is_polled_at_one_three_seven_fifteen_thirty_one_seconds_then_every_30():
    config = EngineConfig(poll_initial_seconds=1, poll_max_seconds=30)
    ages = [1.0]
    while ages[-1] < 100:
        ages.append(ages[-1] + poll_wait(ages[-1], config))
    assert ages == [1, 3, 7, 15, 31, 61, 91, 121]


@given(
    duration=st.floats(0, 24 * 3600),
    first_age=st.floats(0, 3600),
    initial=st.floats(0.1, 5),
    cap=st.floats(5, 120),
)
def test_a_job_is_seen_done_within_its_run_time_or_one_cap(duration, first_age, initial, cap):
    config = EngineConfig(poll_initial_seconds=initial, poll_max_seconds=cap)
    seen, polls = _schedule(duration, first_age, config)
    if first_age < duration:
        assert seen <= min(2 * duration + initial, duration + cap) + 1e-6
    # Doubling up to the cap, then one poll per cap: never a poll a second for hours.
    assert polls <= math.log2(max(cap / initial, 1)) + 2 + duration / cap + 2


def test_a_job_made_ahead_is_polled_on_its_own_age(
    sync_connection, fake_org, engine_config, monkeypatch
):
    """Contact in three windows: the first job done at its fifth poll (its backoff reaches
    0.8 s), the others at their second; each window's rows take 0.05 s to write while the next
    window's job, made ahead, ages. Each job's next poll comes when its age has doubled (plus
    the first wait), not after the wait the job before it had reached."""
    from ingestion.engine import objects

    _seed(fake_org, accounts=0, contacts=30)
    fake_org.polls_to_complete = 5
    initial = 0.05
    config = EngineConfig(
        **{
            **engine_config.__dict__,
            "max_window_records": 10,
            "page_max_records": 50,
            "poll_initial_seconds": initial,
            "poll_max_seconds": 30,
        }
    )
    made, polled = {}, {}
    real_create, real_poll = FakeClient.bulk_create_query_job, FakeClient.bulk_get_job

    def create(self, soql, **kwargs):
        job = real_create(self, soql, **kwargs)
        made[job.id] = time.monotonic()
        fake_org.polls_to_complete = 2  # the jobs after the first
        return job

    def poll(self, job_id):
        polled.setdefault(job_id, []).append(time.monotonic() - made[job_id])
        return real_poll(self, job_id)

    real_write = objects.write_records

    def slow_write(**kwargs):
        time.sleep(0.05)
        return real_write(**kwargs)

    monkeypatch.setattr(FakeClient, "bulk_create_query_job", create)
    monkeypatch.setattr(FakeClient, "bulk_get_job", poll)
    monkeypatch.setattr(objects, "write_records", slow_write)
    run = _run(sync_connection, config=config)
    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    assert len(polled) == 3
    assert [len(ages) for ages in polled.values()] == [5, 2, 2]
    for ages in polled.values():
        for before, after in itertools.pairwise(ages):
            assert after >= 2 * before + initial - 0.01  # no sooner than its age doubled
            assert after <= 2 * before + initial + SLACK
    # The jobs made ahead aged while the window before was written.
    assert all(ages[0] >= 0.05 for ages in list(polled.values())[1:])
