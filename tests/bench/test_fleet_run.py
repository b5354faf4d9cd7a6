"""The fleet part's figures: a run's start lag is measured from when it came due, and the part
runs only when asked for (it takes a quarter of an hour)."""

from datetime import UTC, datetime, timedelta

from bench.cli import build_parser, options_from
from bench.fleet_run import _tick_times, fleet_plan, percentiles, render, start_lags
from ingestion.models import SyncRun

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _run(connection_id, kind, trigger, created, started, finished):
    return SyncRun(
        connection_id=connection_id,
        kind=kind,
        trigger=trigger,
        created_at=T0 + created * MINUTE,
        started_at=None if started is None else T0 + started * MINUTE,
        finished_at=None if finished is None else T0 + finished * MINUTE,
    )


def test_lags_count_from_queueing_for_loads_and_from_the_previous_end_for_incrementals():
    kind, trigger = SyncRun.Kind, SyncRun.Trigger
    runs = [
        _run(1, kind.INITIAL, trigger.CUSTOMER, 0, 0.5, 2),
        # due at 2 + 10 = 12, started at 12.25
        _run(1, kind.INCREMENTAL, trigger.SCHEDULE, 12, 12.25, 12.5),
        # a reconciliation in between moves the next due to its end: 13 + 10
        _run(1, kind.RECONCILE, trigger.SCHEDULE, 12.6, 12.7, 13),
        _run(1, kind.INCREMENTAL, trigger.SCHEDULE, 23, 23.5, 24),
        # on request: not on a schedule, so no lag
        _run(1, kind.INCREMENTAL, trigger.CUSTOMER, 25, 25, 26),
        _run(2, kind.INITIAL, trigger.CUSTOMER, 0, 1, None),  # still running
    ]
    lags = start_lags(runs, timedelta(minutes=10))
    assert lags == {"initial": [30.0, 60.0], "incremental": [15.0, 30.0]}


def test_percentiles_are_nearest_rank():
    figures = percentiles([float(n) for n in range(1, 101)])
    assert figures == {"count": 100, "p50": 50.5, "p95": 95.0, "max": 100.0}
    assert percentiles([]) == {"count": 0}


def test_the_report_says_whether_the_target_is_met():
    lag = {"count": 3, "p50": 10.0, "p95": 61.0, "max": 70.0}
    results = {
        "connections": 3,
        "orgs": 1,
        "profile": "tiny",
        "interval_minutes": 10,
        "workers": {"default": 2, "loads": 2},
        "load_average": {"start": 1.0, "end": 2.0},
        "start_lag_seconds": {"incremental": lag, "initial": lag},
        "incremental_lag_during_big_load": {"count": 0},
        "tick": {"count": 0, "taken_over": 0},
        "tick_queue_wait": {"count": 0},
        "taken_over_warnings": 0,
        "big_load": {"profile": "demo", "status": "not connected"},
        "cluster_rss_mb": {
            name: {"tree_peak": 1, "largest_process_peak": 1} for name in ("default", "loads")
        },
        "failed_runs": 0,
        "failed_codes": [],
        "runs_by_kind_and_status": {},
    }
    assert "**NOT met** (p95 61.0 s)" in render(results)


def test_the_fleet_runs_only_when_asked_for(tmp_path):
    default = options_from(build_parser().parse_args([]), tmp_path)
    assert "fleet" not in default.parts
    asked = options_from(
        build_parser().parse_args(["--part", "fleet", "--fleet-connections", "20"]), tmp_path
    )
    assert asked.parts == ("fleet",)
    assert asked.fleet.connections == 20


def test_each_org_is_connected_once_per_tenant_within_five_approvals_per_user():
    plan = fleet_plan(300, 30)
    assert len({(tenant, org) for tenant, org, _ in plan}) == 300
    assert {org for _, org, _ in plan} == set(range(2, 32))  # org 1 is the big one's id
    per_user: dict[str, int] = {}
    for _, _, username in plan:
        per_user[username] = per_user.get(username, 0) + 1
    assert max(per_user.values()) == 5
    assert plan[0] == (0, 2, "integration@org2.example.com")
    assert plan[-1] == (9, 31, "admin@org31.example.com")


def test_tick_times_come_from_the_cluster_log(tmp_path):
    log = tmp_path / "default.log"
    log.write_text(
        "2026-11-29 13:00:48,731 INFO django-q: Process-38cc processing pluto-one "
        "'ingestion.tasks.scheduler_tick' [primer_sf: scheduler tick]\n"
        "2026-11-29 13:00:48,800 INFO django-q: Process-38cc processing sync-1-2-3 "
        "'ingestion.tasks.sync_run_execute'\n"
        "2026-11-29 13:00:49,205 INFO django-q: Processed "
        "'ingestion.tasks.scheduler_tick' (pluto-one)\n"
    )
    (begin, end), *others = _tick_times(log).values()
    assert not others
    assert round(end - begin, 3) == 0.474
