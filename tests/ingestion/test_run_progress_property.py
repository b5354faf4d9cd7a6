"""Whatever a run's per-object figures, its progress never says 100% or "done" early."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.models import SyncRun
from ingestion.selectors import DONE, run_progress

STATUSES = ["pending", "active", "done", "failed"]
OBJECTS = ["Lead", "Contact", "Account"]

object_stats = st.fixed_dictionaries(
    {
        "status": st.sampled_from(STATUSES),
        "records_read": st.integers(0, 10_000),
        "expected": st.one_of(st.none(), st.integers(0, 10_000)),
    }
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stats=st.lists(object_stats, min_size=3, max_size=3),
    status=st.sampled_from(["queued", "running", "paused", "succeeded", "partial"]),
    kind=st.sampled_from([SyncRun.Kind.INCREMENTAL, SyncRun.Kind.RECONCILE]),
)
def test_progress_reaches_100_only_when_the_run_succeeded(connection, stats, status, kind):
    connection.enabled_objects = OBJECTS
    run = SyncRun(
        connection=connection,
        kind=kind,
        status=status,
        started_at=timezone.now() - timedelta(seconds=60),
        records_read=sum(s["records_read"] for s in stats),
        object_stats={
            name: {k: v for k, v in s.items() if v is not None}
            for name, s in zip(OBJECTS, stats, strict=True)
        },
    )
    progress = run_progress(run=run)
    if status != "succeeded":
        assert progress.percent is None or progress.percent < 100
    for row in progress.objects:
        if row.state != DONE:
            assert row.percent is None or row.percent < 100
    if progress.eta_seconds is not None:
        assert progress.eta_seconds >= 0
        assert status in SyncRun.ACTIVE_STATUSES
