"""The benchmark's six parts, run in as few emulated orgs as they allow.

One org (the profile, jobs complete at once) serves the initial Bulk sync, the audience
estimates on the records it ingested, and the incremental sync after random changes; the
REST-only sync, the memory comparison's smaller profile, and the latency runs each get a fresh
org and an empty copy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import audience_size, fleet, fleet_run, scale, site_load
from bench.cli import PARTS
from bench.org import BenchOrg, Sync, median_run, vacuum_analyze
from demo import story
from ingestion.models import SyncRun
from ingestion.services.runs import sync_run_cancel, sync_run_enqueue

# Contact and Lead tie as the largest objects of every profile (300,000 in seed-example);
# Contact is the one customers' audiences are mostly built from.
LARGEST = "Contact"
CHANGE_SEED = 8
NO_RECYCLE_BIN = ("CampaignMember",)


@dataclass(frozen=True)
class Options:
    parts: tuple[str, ...]
    profile: str
    small_profile: str  # the memory comparison's smaller org
    changes: int
    audience_runs: int
    initial_runs: int  # the initial Bulk sync is repeated; the median run is reported
    processing_rate: float
    log_dir: Path
    fleet_connections: int = 1000  # the scheduler tick's fleet
    site_rows: int = 120_000  # the CSV list imported while the site is timed
    tls: bool = False  # the emulator serves HTTPS (its own certificate, trusted for the run)
    copy_limit: int | None = None  # scale: rows of the bare COPY runs (None: every stored row)
    scale_skip: tuple[str, ...] = ()  # scale: steps left out
    scale_changes: int = 10_000  # scale: changes before the incremental sync
    scale_yardstick: str = "seed-example"  # scale: the profile the ratio targets divide by
    scale_yardstick_runs: int = 3  # scale: its initial syncs, each with a bare COPY after
    purge_seconds: float | None = None  # scale: stop the purge after this long (None: finish)
    fleet: fleet_run.FleetOptions = field(default_factory=fleet_run.FleetOptions)
    out_dir: Path | None = None  # where the fleet part writes RESULTS-fleet.md


def run_parts(options: Options) -> dict:
    """Every part asked for, in order; their figures by part name."""
    wanted, results = set(options.parts), {}
    main_sync = None
    if wanted & {"initial", "incremental", "audience", "memory"}:
        main_sync = _main_org(options, wanted, results)
    if "rest" in wanted:
        results["rest"] = _rest(options, results.get("initial"))
    if "memory" in wanted:
        results["memory"] = _memory(options, main_sync)
    if "latency" in wanted:
        results["latency"] = _latency(options)
    if "site" in wanted:
        # The site while a 120,000-row list imports and an audience over it re-evaluates
        # (issue 12); on SQLite too with `python -m bench.site_load --database sqlite`.
        results["site"] = site_load.run_part(options.log_dir, rows=options.site_rows)
    if "tick" in wanted:
        results["tick"] = fleet.tick_part(connections=options.fleet_connections)
    if "fleet" in wanted:
        out_dir = options.out_dir or options.log_dir
        results["fleet"] = fleet_run.fleet_part(options.fleet, options.log_dir, out_dir)
    if "scale" in wanted:
        results["scale"] = scale.scale_part(options)
    return {name: results[name] for name in PARTS if name in results}


def _main_org(options: Options, wanted: set[str], results: dict) -> Sync:
    """Initial sync, then audiences on its copy, then changes and an incremental sync."""
    print(f"\nInitial sync ({options.profile}), Bulk where the engine chooses it", flush=True)
    with BenchOrg(profile=options.profile, log_dir=options.log_dir, tls=options.tls) as org:
        runs = [
            org.execute(org.connect(), label=f"initial {n + 1}")
            for n in range(options.initial_runs if "initial" in wanted else 1)
        ]
        sync = median_run(runs)
        if "initial" in wanted:
            results["initial"] = {
                **asdict(sync),
                "records_per_second_of_each_run": [run.records_per_second for run in runs],
            }
        if "audience" in wanted:
            results["audience"] = _audience(org, options.audience_runs)
        if "incremental" in wanted:
            results["incremental"] = _incremental(org, options.changes)
    return sync


def _rest(options: Options, bulk: dict | None) -> dict:
    print(f"\nInitial sync ({options.profile}), REST only (INGESTION_READ_MODE=rest)", flush=True)
    with BenchOrg(profile=options.profile, log_dir=options.log_dir, tls=options.tls) as org:
        rest = asdict(org.execute(org.connect(), label="initial REST only", read_mode="rest"))
    if bulk is not None:
        rest["ratios"] = {
            "calls": _ratio(rest["api_calls"], bulk["api_calls"]),
            "time": _ratio(rest["seconds"], bulk["seconds"]),
        }
    return rest


def _incremental(org: BenchOrg, changes: int) -> dict:
    print(f"\n{changes:,} random changes in the org, then an incremental sync", flush=True)
    made = org.control.random_changes(changes, seed=CHANGE_SEED)
    run = story.enqueue(org.connection, SyncRun.Kind.INCREMENTAL)
    # Deleted campaign members leave no trace (no recycle bin) until a reconciliation.
    traceless = {name: made.get(name, {}).get("delete", 0) for name in NO_RECYCLE_BIN}
    sync = org.execute(run, label="incremental", surplus=traceless)
    return {"changes": changes, "changes_by_object": made, **asdict(sync)}


def _memory(options: Options, large: Sync) -> dict:
    """Worker peak RSS on the smaller profile against the main one (measured above)."""
    if options.small_profile == options.profile:
        small = large
    else:
        print(f"\nInitial sync ({options.small_profile}), for memory growth", flush=True)
        with BenchOrg(
            profile=options.small_profile, log_dir=options.log_dir, tls=options.tls
        ) as org:
            small = org.execute(org.connect(), label=f"initial {options.small_profile}")
    return {
        "small": _memory_entry(small),
        "large": _memory_entry(large),
        "ratio": _ratio(large.worker_peak_rss_mb, small.worker_peak_rss_mb),
    }


def _memory_entry(sync: Sync) -> dict:
    return {
        "profile": sync.profile,
        "records": sync.records,
        "worker_peak_rss_mb": sync.worker_peak_rss_mb,
    }


def _latency(options: Options) -> dict:
    """The whole initial sync against its largest object alone, each from an empty copy,
    with Bulk jobs taking as long as the processing rate says."""
    rate = options.processing_rate
    print(f"\nWith Bulk job latency (--processing-rate {rate:g}): whole, then {LARGEST} alone")
    with BenchOrg(
        profile=options.profile, log_dir=options.log_dir, processing_rate=rate, tls=options.tls
    ) as org:
        whole = org.execute(org.connect(), label="latency whole")
    with BenchOrg(
        profile=options.profile, log_dir=options.log_dir, processing_rate=rate, tls=options.tls
    ) as org:
        alone = org.execute(_only(org, LARGEST), label=f"latency {LARGEST} alone")
    return {
        "processing_rate": rate,
        "largest_object": LARGEST,
        "whole": asdict(whole),
        "largest": asdict(alone),
        "ratio": _ratio(whole.seconds, alone.seconds),
    }


def _only(org: BenchOrg, sobject: str) -> SyncRun:
    """Connect, then replace the all-object initial run connecting queued by one object's."""
    sync_run_cancel(run=org.connect(), reason="The benchmark measures one object alone.")
    return sync_run_enqueue(
        connection=org.connection,
        kind=SyncRun.Kind.INITIAL,
        trigger=SyncRun.Trigger.COMMAND,
        sobjects=[sobject],
    )


def _audience(org: BenchOrg, runs: int) -> dict:
    """The estimates of bench/audience_size.py, on the records the initial sync ingested."""
    print(f"\nAudience size estimates on the copy (median of {runs})", flush=True)
    vacuum_analyze()  # as autovacuum would have, soon after a load this size
    cases = []
    for label, holds, children in audience_size.CASES:
        timed = audience_size.time_estimate(org.connection, holds, children, runs)
        cases.append({"label": label, "holds": holds, **timed})
        print(f"    {label}: {timed['size']:,} in {timed['median_ms']:.0f} ms", flush=True)
    return {"runs": runs, "cases": cases}


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None
