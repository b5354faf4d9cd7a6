"""A large initial load's first window is a probe; its job's pace sizes the windows after it
(windows.with_probe, windows.paced_cut, BulkSteps._pace_windows), and each of their jobs is
first polled near when it should be done (bulk_steps.poll_wait with ``expected``)."""

import itertools
import math
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import strategies as st

from connections.salesforce.bulk import bulk_job_from_json
from connections.salesforce.exceptions import SalesforceError
from ingestion.engine.bulk_steps import EXPECTED_SHARE, EXPECTED_STEP, BulkSteps, poll_wait
from ingestion.engine.config import EngineConfig
from ingestion.engine.state import Checkpoint, Pace, Pacing, ReadMode, Step
from ingestion.engine.windows import Window, paced_cut, with_probe
from ingestion.models import ObjectCursor, SyncRun
from tests.connections.conftest import payload
from tests.ingestion.fake_salesforce import FakeClient
from tests.ingestion.test_sync_engine import _assert_local_copy_equals, _run, _seed

T0 = datetime(2024, 1, 1, tzinfo=UTC)
spans = st.integers(1, 10 * 365 * 86400)  # seconds


def _contiguous(windows: list[Window], whole: Window) -> bool:
    return (
        windows[0].start == whole.start
        and windows[-1].end == whole.end
        and all(
            a.end == b.start and (a.start is None or a.start < a.end)
            for a, b in itertools.pairwise(windows)
        )
    )


def test_the_probe_is_the_first_eighth_of_the_first_windows_span():
    first, second = (
        Window(None, T0 + timedelta(days=8)),
        Window(T0 + timedelta(days=8), T0 + timedelta(days=9)),
    )
    probe, rest, after = with_probe([first, second], T0, 8)
    assert probe == Window(None, T0 + timedelta(days=1))
    assert rest == Window(T0 + timedelta(days=1), T0 + timedelta(days=8))
    assert after == second


def test_a_window_with_no_span_to_cut_has_no_probe():
    # Its lowest SystemModstamp is its end: nothing before it to read first.
    narrow = [Window(None, T0)]
    assert with_probe(narrow, T0, 8) == narrow


@given(span=spans, offset=spans, parts=st.integers(2, 20))
def test_the_probe_and_the_rest_cover_the_first_window_exactly(span, offset, parts):
    lower = T0 + timedelta(seconds=offset)
    first = Window(None, lower + timedelta(seconds=span))
    windows = with_probe([first], lower, parts)
    assert _contiguous(windows, first)
    assert len(windows) in (1, 2)


@given(
    spans=st.lists(spans, min_size=1, max_size=4),
    density=st.floats(0, 1e4),
    seconds_per_record=st.floats(0, 1),
    window_seconds=st.floats(0.1, 600),
    smallest=st.integers(1, 1_000_000),
)
def test_a_paced_cut_covers_the_rest_with_a_next_window_of_about_window_seconds(
    spans, density, seconds_per_record, window_seconds, smallest
):
    edges = [T0 + timedelta(seconds=sum(spans[:n])) for n in range(len(spans) + 1)]
    windows = [Window(a, b) for a, b in itertools.pairwise(edges)]
    whole = Window(T0, edges[-1])
    cut = paced_cut(windows, density, seconds_per_record, window_seconds, smallest)
    assert _contiguous(cut, whole)
    if density <= 0 or seconds_per_record <= 0:
        assert cut == windows  # no pace: as they were
        return
    assert len(cut) <= 2
    records = max(window_seconds / seconds_per_record, smallest)
    span = (whole.end - whole.start).total_seconds()
    if len(cut) == 2:
        # The first of equal windows of at most ``records`` each (to the second below).
        parts = math.ceil(span * density / records)
        assert abs((cut[0].end - cut[0].start).total_seconds() - span / parts) < 1
    else:
        assert span * density <= records or span / math.ceil(span * density / records) < 1


def test_a_slow_org_cuts_the_next_window_by_the_last_ones_density():
    # 1,000 records a second at Salesforce; the last window held 10 records a minute of
    # SystemModstamp; 10 s windows hold 10,000 records: the 43,200 of the 3 days left make 5
    # equal windows of 864 minutes, the first cut now, the others as each job completes.
    rest = [
        Window(T0, T0 + timedelta(days=2)),
        Window(T0 + timedelta(days=2), T0 + timedelta(days=3)),
    ]
    pace = Pace(queue_seconds=0.5, seconds_per_record=0.001, density=10 / 60, window_seconds=10)
    cut = paced_cut(rest, pace.density, pace.seconds_per_record, pace.window_seconds, 1_000)
    assert cut == [
        Window(T0, T0 + timedelta(minutes=864)),
        Window(T0 + timedelta(minutes=864), T0 + timedelta(days=3)),
    ]
    assert pace.expected_run(cut[0]) == pytest.approx(0.5 + 8.64)
    # One window's worth left: one window; too quick to measure: as they were.
    whole = [Window(T0, T0 + timedelta(days=3))]
    assert paced_cut(rest, 10 / 60 / 5, 0.001, 10, 1_000) == whole
    assert paced_cut(rest, 10 / 60, 0.0, 10, 1_000) == rest
    # At least min_records a window: 20,000 records, so 3 windows of 1,440 minutes.
    assert paced_cut(rest, 10 / 60, 0.001, 10, 20_000)[0].end == T0 + timedelta(minutes=1440)


def test_a_large_loads_checkpoint_goes_trial_then_probe_then_paced():
    checkpoint = Checkpoint()
    whole, after = Window(None, T0), Window(T0, T0 + timedelta(days=1))
    checkpoint.open_windows([whole, after], ReadMode.BULK, trial=True)
    assert checkpoint.pacing == Pacing.TRIAL
    checkpoint.job_created("750000000000000001", T0)
    # Still running at its first poll: aborted, and a probe reads first.
    probe, rest = Window(None, T0 - timedelta(days=7)), Window(T0 - timedelta(days=7), T0)
    checkpoint.probe_first([probe, rest, after])
    assert (checkpoint.pacing, checkpoint.window, checkpoint.step) == (
        Pacing.PROBE,
        probe,
        Step.CREATE_JOB,
    )
    pace = Pace(0.5, 0.001, 1.0)
    cut = [Window(rest.start, T0 - timedelta(days=6)), Window(T0 - timedelta(days=6), after.end)]
    checkpoint.paced(pace, cut)
    assert (checkpoint.pacing, checkpoint.pace, checkpoint.pending) == (Pacing.PACED, pace, cut)
    # Done by its first poll: the windows stay as they are, and so does the job.
    checkpoint.open_windows([whole, after], ReadMode.BULK, trial=True)
    checkpoint.job_created("750000000000000002", T0)
    checkpoint.trial_passed()
    assert (checkpoint.pacing, checkpoint.pending, checkpoint.job_id) == (
        Pacing.NONE,
        [after],
        "750000000000000002",
    )


# -- polling a job whose run time is expected ------------------------------------------------
def _seen(duration: float, expected: float | None, config: EngineConfig) -> tuple[float, int]:
    """When a job that runs ``duration`` s, polled first as poll_wait says from its creation,
    is seen done, and after how many polls."""
    age = poll_wait(0.0, config, expected)
    polls = 1
    while age < duration:
        age += poll_wait(age, config, expected)
        polls += 1
    return age, polls


def test_a_paced_job_is_polled_from_three_quarters_of_its_expected_run_every_tenth_of_it():
    config = EngineConfig(poll_initial_seconds=1, poll_max_seconds=30)
    ages = [poll_wait(0.0, config, 20.0)]
    while ages[-1] < 80:
        ages.append(ages[-1] + poll_wait(ages[-1], config, 20.0))
    # Every 2 s from 15 s until it overruns its 20 s by a step; then waits that grow by the
    # overrun (so about doubling), at most poll_max_seconds.
    assert ages == pytest.approx([15, 17, 19, 21, 23, 26, 32, 44, 68, 98])
    assert (EXPECTED_SHARE, EXPECTED_STEP) == (0.75, 0.1)
    # A short job: every poll_initial_seconds around it, not every tenth of a second.
    assert poll_wait(3.0, config, 4.0) == 1
    # Without an expected run time, the schedule counted from creation (test_job_polling).
    assert poll_wait(0.0, config) == 1


@given(
    duration=st.floats(0, 24 * 3600),
    expected=st.floats(0, 24 * 3600),
    initial=st.floats(0.1, 5),
    cap=st.floats(5, 120),
)
def test_a_paced_job_is_seen_done_soon_after_it_is_and_never_polled_without_end(
    duration, expected, initial, cap
):
    assume(expected > 0)
    config = EngineConfig(poll_initial_seconds=initial, poll_max_seconds=cap)
    start = EXPECTED_SHARE * expected
    step = max(EXPECTED_STEP * expected, initial)
    seen, polls = _seen(duration, expected, config)
    assert seen <= duration + cap + 1e-6
    if start <= duration <= expected + step:
        assert seen <= duration + step + 1e-6  # a step late at most, around its estimate
    elif duration > expected + step:
        # Past it, late by at most the overrun (the wait grows by it), plus a step.
        assert seen <= 2 * duration - expected + step + 1e-6
    elif start <= cap:
        assert seen == pytest.approx(start)  # one poll, when it is three quarters through
    steps_near = (expected + step - start) / step + 1
    assert (
        polls
        <= start / cap + 1 + steps_near + math.log2(max(cap / step, 1)) + 2 + duration / cap + 2
    )


# -- through the engine, against the fake org ------------------------------------------------
@pytest.fixture
def trial_config(engine_config):
    return EngineConfig(**{**engine_config.__dict__, "probe_min_records": 5, "probe_parts": 4})


def test_a_first_job_still_running_at_its_first_poll_is_aborted_for_a_probe(
    sync_connection, fake_org, trial_config
):
    _seed(fake_org, accounts=0, contacts=12)
    fake_org.polls_to_complete = 2  # running at its first poll

    run = _run(sync_connection, config=trial_config)

    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    trial, probe, rest = fake_org.jobs.values()
    assert trial.state == "Aborted"
    assert (probe.state, rest.state) == ("JobComplete", "JobComplete")
    # The fake org's jobs take no measurable time: no pace, and the rest stays one window.
    assert run.api_calls_by_kind["bulk_abort"] == 1
    assert run.api_calls_by_kind["bulk_create"] == 3


def test_a_first_job_done_before_it_could_be_aborted_is_read(
    sync_connection, fake_org, trial_config, monkeypatch
):
    _seed(fake_org, accounts=0, contacts=12)
    fake_org.polls_to_complete = 2
    refused = []

    def finished_meanwhile(self, job_id):
        refused.append(job_id)
        raise SalesforceError(
            "Aborting already JobComplete Job not allowed", status=400, error_code="INVALIDJOBSTATE"
        )

    monkeypatch.setattr(FakeClient, "bulk_abort_job", finished_meanwhile)
    run = _run(sync_connection, config=trial_config)

    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_local_copy_equals(sync_connection, fake_org, "Contact")
    assert len(refused) == 1
    assert run.api_calls_by_kind["bulk_create"] == 1  # that job, read


def test_an_object_under_the_probe_size_has_no_trial(sync_connection, fake_org, engine_config):
    _seed(fake_org, accounts=0, contacts=12)
    fake_org.polls_to_complete = 3
    config = EngineConfig(**{**engine_config.__dict__, "probe_min_records": 13})

    run = _run(sync_connection, config=config)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert "bulk_abort" not in run.api_calls_by_kind
    assert run.api_calls_by_kind["bulk_create"] == 1


class _Reader(BulkSteps):
    """The Bulk steps' own state, without an org: a checkpoint and a config."""

    def __init__(self, checkpoint):
        self.checkpoint, self.config, self.next_action_at = checkpoint, EngineConfig(), 0.0


def test_a_paced_windows_job_made_ahead_is_first_polled_at_three_quarters_of_its_run():
    # 20,000 records at 1,000 a second: 20.5 s expected; made ahead 5 s ago.
    window = Window(T0, T0 + timedelta(seconds=20_000))
    made = timezone.now() - timedelta(seconds=5)
    checkpoint = Checkpoint(window=window, job_id="750000000000000001", job_created_at=made)
    checkpoint.pace = Pace(queue_seconds=0.5, seconds_per_record=0.001, density=1.0)
    reader = _Reader(checkpoint)
    before = time.monotonic()
    reader._first_poll_of_job_made_ahead()
    assert reader.next_action_at - before == pytest.approx(0.75 * 20.5 - 5, abs=0.2)
    # No pace (a quick org's windows): polled at its turn, as before.
    checkpoint.pace = None
    reader.next_action_at = 0.0
    reader._first_poll_of_job_made_ahead()
    assert reader.next_action_at == 0.0


def test_a_recorded_job_info_gives_the_pace_a_probe_measures():
    """A completed query job's info in the shape Salesforce documents (the client tests'
    canned tests/fixtures/salesforce/bulk_job_complete.json; no recording holds one): created
    at 15:50:37, last changed at 15:51:27, 3 records in 334 ms of processing."""
    job = bulk_job_from_json(payload("bulk_job_complete.json"))
    rest = [Window(T0, T0 + timedelta(days=1))]
    reader = _Reader(Checkpoint(window=Window(None, T0), pending=rest))
    reader.sobject, reader.cursor = "Contact", ObjectCursor(estimated_total=8_643)

    pace = reader._measured_pace(job, rest)

    assert pace.queue_seconds == pytest.approx(50 - 0.334)
    assert pace.seconds_per_record == pytest.approx(0.334 / 3)
    assert pace.density == pytest.approx(8_640 / 86_400)  # the rest of the count, over its span
    # At most 12 windows: 8,640 records at 0.111 s are 962 s, so windows of 80 s, not 10 s.
    assert pace.window_seconds == pytest.approx(8_640 * 0.334 / 3 / 12)
