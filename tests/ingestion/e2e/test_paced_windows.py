"""A large initial load against the emulator, slow and quick: a first job still running at its
first poll is aborted for a probe, whose job measures the org's pace; each window after it is
cut by it (BulkSteps._probe_first, _pace_windows). A quick org reads as before."""

import itertools
import re

import pytest

from connections.salesforce.client import SalesforceClient
from ingestion.engine.state import Pace
from ingestion.models import ObjectCursor, SyncRun
from tests.ingestion.e2e.conftest import assert_copy_equals_org, run_sync

RATE = 200.0  # records a second per job, at the emulated Salesforce
_WINDOW = re.compile(r"WHERE (?:SystemModstamp >= (\S+) AND )?SystemModstamp < (\S+)")


@pytest.fixture
def paced(settings):
    """Every object of 100 records or more probed; windows of 0.15 s of Salesforce's time."""
    settings.INGESTION = {
        **settings.INGESTION,
        "PROBE_MIN_RECORDS": 100,
        "WINDOW_SECONDS": 0.15,
        "MIN_WINDOW_RECORDS": 15,
    }


@pytest.fixture
def job_windows(monkeypatch):
    """The (start, end) of each Bulk job's SOQL, in the order the jobs were made."""
    made = []
    real = SalesforceClient.bulk_create_query_job

    def create(self, soql, **kwargs):
        made.append(_WINDOW.search(soql).groups())
        return real(self, soql, **kwargs)

    monkeypatch.setattr(SalesforceClient, "bulk_create_query_job", create)
    return made


def test_a_slow_orgs_load_is_read_in_windows_cut_to_the_probes_pace(
    live_org, connect_as, paced, job_windows
):
    live_org.org.processing_rate = RATE
    connection = connect_as(objects=["Contact"])  # 150 records in `tiny`

    run = run_sync(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert_copy_equals_org(live_org, connection, "Contact")
    (trial, (probe_start, probe_end), *after) = job_windows
    assert (trial[0], probe_start) == (None, None)
    assert probe_end < trial[1]  # SOQL datetimes: in the same format, they sort as they read
    assert after[-1][1] == trial[1]
    assert [job.state for job in _jobs(live_org)][:2] == ["Aborted", "JobComplete"]
    assert run.api_calls_by_kind["bulk_abort"] == 1
    # The rest, about 0.65 s of Salesforce's time, in windows of about 0.15 s, contiguous.
    assert len(after) >= 3
    assert after[0][0] == probe_end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(after))
    cursor = ObjectCursor.objects.get(connection=connection, sobject="Contact")
    pace = Pace.from_json(cursor.job_pace)
    assert 0.7 / RATE <= pace.seconds_per_record <= 1.5 / RATE
    assert pace.density > 0


def test_a_quick_orgs_load_is_read_by_its_first_job(live_org, connect_as, paced, job_windows):
    connection = connect_as(objects=["Contact"])

    run = run_sync(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert_copy_equals_org(live_org, connection, "Contact")
    assert job_windows == [(None, job_windows[0][1])]
    assert run.api_calls_by_kind["bulk_create"] == 1
    assert "bulk_abort" not in run.api_calls_by_kind
    assert ObjectCursor.objects.get(connection=connection, sobject="Contact").job_pace is None


def test_an_object_below_the_probe_size_is_read_in_one_job(
    live_org, connect_as, paced, job_windows
):
    live_org.org.processing_rate = RATE
    connection = connect_as(objects=["Opportunity"])  # 40 records

    run = run_sync(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert job_windows == [(None, job_windows[0][1])]
    assert ObjectCursor.objects.get(connection=connection, sobject="Opportunity").job_pace is None


def _jobs(live_org) -> list:
    """The org's Bulk jobs, oldest first."""
    return sorted(live_org.org.jobs.jobs.values(), key=lambda job: job.created)
