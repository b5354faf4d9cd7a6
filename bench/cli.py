"""python -m bench [--part PART ...] [--profile P] [--quick] [--tls] [--out-dir DIR]

Runs the parts asked for (all by default) against emulated orgs in separate processes, on
PostgreSQL (DATABASE_URL, else the bench's own database), then writes results.json and
RESULTS.md to the output directory. Exits 1 when a run fails or a copy differs from its org;
targets not met are reported, never fatal.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

from bench.database import DatabaseError, create_database, database_url, django_setup
from emulator.data.profiles import PROFILES

BENCH_DIR = Path(__file__).resolve().parent
PARTS = (
    "initial", "rest", "incremental", "memory", "latency", "audience", "site", "tick", "fleet",
    "scale",
)  # fmt: skip
# Run only when asked for, each into a report of its own: the fleet runs for a quarter of an
# hour, the scale part for hours with gigabytes of disk at 10M records.
ON_REQUEST = ("fleet", "scale")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="The whole-pipeline benchmark of issue 8 (see bench/README.md).",
    )
    parser.add_argument(
        "--part",
        dest="parts",
        nargs="+",
        action="extend",
        choices=PARTS,
        help="the parts to run (repeatable; default: all but scale)",
    )
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="emulated org (default: seed-example; tiny if --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke test: tiny org, small everything, output to a temporary directory",
    )
    parser.add_argument("--out-dir", type=Path, help="where results go (default: bench/)")
    parser.add_argument(
        "--copy-limit",
        type=int,
        help="scale: COPY only the first N stored rows in the bare COPY runs (default: all)",
    )
    parser.add_argument(
        "--render-scale",
        type=Path,
        metavar="PARTIAL_JSON",
        help="scale: write RESULTS-scale.md from the figures a stopped run saved, run nothing",
    )
    parser.add_argument(
        "--purge-seconds",
        type=float,
        help="scale: measure the purge for this long only (memory is per batch; default: all)",
    )
    parser.add_argument(
        "--scale-skip",
        nargs="+",
        default=[],
        choices=("read_path", "copy", "reconcile", "incremental", "audience", "disconnect"),
        help="scale: steps to leave out for the profile asked for (seed-example, the yardstick "
        "of the ratio targets, runs its steps whole)",
    )
    parser.add_argument(
        "--fleet-connections", type=int, default=300, help="fleet part: connections (300)"
    )
    parser.add_argument(
        "--fleet-minutes",
        type=float,
        default=25.0,
        help="fleet part: the longest it runs; it ends sooner once every connection's "
        "incremental has come due and started (25)",
    )
    parser.add_argument(
        "--fleet-interval",
        type=int,
        default=10,
        help="fleet part: incremental schedule in minutes (10; the reported run uses 10)",
    )
    parser.add_argument(
        "--fleet-big-profile",
        choices=sorted(PROFILES),
        default="demo",
        help="fleet part: the one larger org connected when incrementals begin (demo)",
    )
    parser.add_argument(
        "--fleet-workers",
        type=int,
        nargs=2,
        default=(2, 6),
        metavar=("DEFAULT", "LOADS"),
        help="fleet part: Q_WORKERS and Q_LOADS_WORKERS of its two clusters (2 6)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="the emulated orgs serve HTTPS, as Salesforce does (a certificate made at start, "
        "trusted through REQUESTS_CA_BUNDLE)",
    )
    return parser


def options_from(args: argparse.Namespace, log_dir: Path):
    from bench.fleet_run import FleetOptions
    from bench.parts import Options

    default = [p for p in PARTS if p not in ON_REQUEST]
    return Options(
        parts=tuple(p for p in PARTS if p in (args.parts or default)),
        profile=args.profile or ("tiny" if args.quick else "seed-example"),
        small_profile="tiny" if args.quick else "demo",
        changes=100 if args.quick else 1000,
        audience_runs=3 if args.quick else 7,
        initial_runs=1 if args.quick else 3,
        processing_rate=5000.0,
        log_dir=log_dir,
        fleet_connections=100 if args.quick else 1000,
        site_rows=2_000 if args.quick else 120_000,
        tls=args.tls,
        copy_limit=args.copy_limit,
        scale_skip=tuple(args.scale_skip),
        scale_changes=100 if args.quick else 10_000,
        scale_yardstick="tiny" if args.quick else "seed-example",
        scale_yardstick_runs=2 if args.quick else 3,  # two: each pairing runs
        purge_seconds=args.purge_seconds,
        fleet=FleetOptions(
            connections=args.fleet_connections,
            minutes=args.fleet_minutes,
            interval_minutes=args.fleet_interval,
            big_profile=args.fleet_big_profile,
            workers=args.fleet_workers[0],
            loads_workers=args.fleet_workers[1],
        ),
        out_dir=_out_dir(args),
    )


def _out_dir(args: argparse.Namespace) -> Path:
    """bench/ for a full run; the quick mode never overwrites the committed report."""
    if args.out_dir:
        return args.out_dir.resolve()
    if args.quick:
        return Path(tempfile.mkdtemp(prefix="bench-quick-"))
    return BENCH_DIR


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    out_dir = _out_dir(args)
    log_dir = BENCH_DIR / "out" if out_dir == BENCH_DIR else out_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        create_database(database_url(), drop=False)
        django_setup()
    except DatabaseError as error:
        print(error)
        return 1
    if args.render_scale:
        from bench.scale import render_partial

        print(f"Wrote {render_partial(args.render_scale, out_dir)}")
        return 0
    return _run(options_from(args, log_dir), args.quick, out_dir)


def _run(options, quick: bool, out_dir: Path) -> int:
    from django.core.management import call_command
    from django.db import connection as db

    from bench import machine
    from bench.org import BenchError
    from bench.parts import run_parts
    from demo.emulator import EmulatorError
    from demo.story import DemoError, quiet_logs

    call_command("migrate", verbosity=0)
    print(f"Benchmark on {db.settings_dict['NAME']}; logs in {options.log_dir}", flush=True)
    started = time.monotonic()
    with db.cursor() as cursor:
        described = machine.describe(*machine.postgres(cursor))
    try:
        # The services' INFO lines (connections renewed, tasks queued) would bury the figures.
        with quiet_logs(logging.INFO):
            parts = run_parts(options)
    except (BenchError, EmulatorError, DemoError) as error:
        print(f"\nThe benchmark failed: {error}")
        return 1
    described["load_average_at_end"] = round(machine.load_average(), 2)
    results = {
        "machine": described,
        "options": {
            "profile": options.profile,
            "parts": list(options.parts),
            "quick": quick,
            "tls": options.tls,
            "seconds": round(time.monotonic() - started, 1),
        },
        "parts": parts,
    }
    _write(results, out_dir)
    return 0


def _write(results: dict, out_dir: Path) -> None:
    """RESULTS.md and results.json for the parts of issue 8; RESULTS-scale.md and
    results-scale.json for the scale part (issue 16), so neither overwrites the other."""
    from bench import report

    out_dir.mkdir(parents=True, exist_ok=True)
    parts = dict(results["parts"])
    scale = parts.pop("scale", None)
    # The fleet part writes its own report (RESULTS-fleet.md); RESULTS.md leaves it out.
    parts = {name: figures for name, figures in parts.items() if name not in ON_REQUEST}
    if parts:
        plain = {**results, "parts": parts}
        (out_dir / "results.json").write_text(json.dumps(plain, indent=2) + "\n")
        (out_dir / "RESULTS.md").write_text(report.render(plain))
        print("\nTargets")
        print("\n".join(report.summary_lines(parts)))
        print(f"\nWrote {out_dir / 'RESULTS.md'} and {out_dir / 'results.json'}")
    if scale is not None:
        scaled = {**results, "parts": {"scale": scale}}
        (out_dir / "results-scale.json").write_text(json.dumps(scaled, indent=2) + "\n")
        (out_dir / "RESULTS-scale.md").write_text(report.render_scale(scaled))
        print("\nScale targets")
        print("\n".join(report.scale_summary_lines(scale, results["machine"].get("cores"))))
        print(f"\nWrote {out_dir / 'RESULTS-scale.md'} and {out_dir / 'results-scale.json'}")
