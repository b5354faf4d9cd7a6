"""The benchmark reports the median of repeated initial syncs, not the luckiest."""

from bench.org import Sync, median_run


def _run(seconds: float) -> Sync:
    return Sync(
        label=f"{seconds}",
        profile="tiny",
        run_id=1,
        objects=["Lead"],
        seconds=seconds,
        process_seconds=seconds,
        records=100,
        records_deleted=0,
        records_per_second=100 / seconds,
        api_calls=5,
        calls_by_kind={},
        emulator_counted=5,
        bulk_jobs=1,
        worker_peak_rss_mb=100.0,
        emulator_peak_rss_mb=None,
        worker_cpu_seconds=1.0,
        emulator_cpu_seconds=1.0,
        postgres_cpu_seconds=None,
    )


def test_the_run_of_median_time_is_reported():
    runs = [_run(50.0), _run(40.0), _run(70.0)]
    assert median_run(runs).seconds == 50.0
    assert median_run(runs[:1]).seconds == 50.0
