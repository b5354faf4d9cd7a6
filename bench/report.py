"""The benchmark's figures against the targets of issue 8, as Markdown (bench/RESULTS.md).

Pure functions of the results dict that bench/results.json holds, so the report can be
re-rendered and tested without running anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MET, NOT_MET, NOT_MEASURED = "met", "NOT MET", "not measured"


@dataclass(frozen=True)
class Target:
    """One figure against its target; ``met`` is None when the part did not run."""

    figure: str
    target: str
    shown: str
    met: bool | None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.met is None:
            return NOT_MEASURED
        return (MET if self.met else NOT_MET) + (f" ({self.note})" if self.note else "")


def _get(data: dict | None, *keys):
    for key in keys:
        if not isinstance(data, dict) or data.get(key) is None:
            return None
        data = data[key]
    return data


def _target(figure: str, target: str, value, check: Callable, fmt: str, note="") -> Target:
    if value is None:
        return Target(figure, target, "", None)
    return Target(figure, target, fmt.format(value), check(value), note)


def _aim(speed: float | None) -> str:
    if speed is None or speed < 10_000:
        return ""
    return "aim met" if speed >= 20_000 else "aim 20,000 not yet"


def _profile(parts: dict) -> str:
    """The main profile, from whichever part ran."""
    places = [("initial",), ("rest",), ("incremental",), ("memory", "large"), ("latency", "whole")]
    return next((p for p in (_get(parts, *place, "profile") for place in places) if p), "")


def _rows(parts: dict) -> list[tuple]:
    """(figure, target, where the value is in ``parts``, check, format, the run it measures)."""
    profile = _profile(parts)
    changes = f"{_get(parts, 'incremental', 'changes') or 1000:,}"
    large = _get(parts, "memory", "large", "profile") or "large"
    small = _get(parts, "memory", "small", "profile") or "small"
    incremental = f"incremental sync after {changes} changes"
    tick = f"{_get(parts, 'tick', 'connections') or 1000:,}"
    return [
        (f"initial sync, {profile}, records/s", ">= 10,000 (aim 20,000)",
         ("initial", "records_per_second"), lambda v: v >= 10_000, "{:,.0f}", ("initial",)),
        (f"API calls, initial sync of {profile}", "<= 60",
         ("initial", "api_calls"), lambda v: v <= 60, "{:,}", None),
        ("API calls, REST only / Bulk", ">= 5x",
         ("rest", "ratios", "calls"), lambda v: v >= 5, "{:.1f}x", None),
        (f"{incremental}, wall time", "< 5 s",
         ("incremental", "seconds"), lambda v: v < 5, "{:.1f} s", ("incremental",)),
        (f"{incremental}, API calls", "<= 25",
         ("incremental", "api_calls"), lambda v: v <= 25, "{:,}", None),
        (f"sync worker peak RSS, {large}", "< 250 MB",
         ("memory", "large", "worker_peak_rss_mb"), lambda v: v < 250, "{:.0f} MB", None),
        (f"sync worker peak RSS, {large} / {small}", "within 20%",
         ("memory", "ratio"), lambda v: abs(v - 1) <= 0.2, "{:.2f}x", None),
        ("with job latency: whole sync / largest object alone", "<= 1.3x",
         ("latency", "ratio"), lambda v: v <= 1.3, "{:.2f}x", ("latency", "whole")),
        (f"scheduler tick, {tick} connections all due", "< 1 s",
         ("tick", "all_due", "median_seconds"), lambda v: v < 1, "{:.2f} s", None),
    ]  # fmt: skip


def targets(parts: dict) -> list[Target]:
    """Every target of issue 8, in its order."""
    aim = _aim(_get(parts, "initial", "records_per_second"))  # a note on the first figure
    judged = [
        _target(figure, target, _get(parts, *path), check, fmt, "" if n else aim)
        for n, (figure, target, path, check, fmt, _) in enumerate(_rows(parts))
    ]
    return judged + _audience_targets(parts.get("audience"), _profile(parts))


def _audience_targets(audience: dict | None, profile: str) -> list[Target]:
    if audience is None:
        return [Target(f"audience size estimate, {profile}", "< 0.5 s each", "", None)]
    return [
        _target(
            f"audience size: {case['label']}",
            "< 0.5 s",
            case["median_ms"],
            lambda v: v < 500,
            "{:,.0f} ms",
        )
        for case in audience["cases"]
    ]


def time_notes(parts: dict) -> list[str]:
    """For each timing target not met, where the CPU went during the run behind it."""
    notes = []
    for (figure, *_, run_path), judged in zip(_rows(parts), targets(parts), strict=False):
        sync = _get(parts, *run_path) if run_path and judged.met is False else None
        if sync:
            notes.append(f"- {figure}: {_cpu_split(sync)}")
    return notes


def _cpu_split(sync: dict) -> str:
    shares = {
        "PostgreSQL (the whole server)": sync.get("postgres_cpu_seconds"),
        "the sync worker": sync.get("worker_cpu_seconds"),
        "the emulator": sync.get("emulator_cpu_seconds"),
    }
    known = sorted(((s, name) for name, s in shares.items() if s is not None), reverse=True)
    spent = ", ".join(f"{name} {s:,.0f} s" for s, name in known)
    return f"in {sync['seconds']:,.0f} s of wall time, CPU went to {spent}."


# --- Markdown -----------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _seconds(value) -> str:
    return "" if value is None else f"{value:,.1f} s"


def _mb(value) -> str:
    return "" if value is None else f"{value:,.0f} MB"


def _x(value) -> str:
    return "" if value is None else f"{value:.2f}x"


def render(results: dict) -> str:
    """The whole report."""
    parts = results["parts"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`): regenerate it, never edit it by hand.",
        "Targets and parts: issue 8 and `bench/README.md`.",
        "",
        *_machine(results["machine"], results.get("options", {})),
        "## Targets",
        "",
        *_table(
            ["figure", "target", "measured", ""],
            [[t.figure, t.target, t.shown, t.verdict] for t in targets(parts)],
        ),
    ]
    notes = time_notes(parts)
    if notes:
        lines += ["Where the time went, for the timings not met:", "", *notes, ""]
    for section in (_initial, _incremental, _memory, _latency, _audience, _site, _tick):
        lines += section(parts)
    return "\n".join(lines).rstrip() + "\n"


def _machine(machine: dict, options: dict) -> list[str]:
    rows = [
        ["CPU", machine.get("cpu")],
        ["cores", machine.get("cores")],
        ["RAM", f"{machine.get('ram_gib')} GiB"],
        ["PostgreSQL", machine.get("postgresql")],
        ["Python", machine.get("python")],
        ["date", machine.get("date")],
        ["git commit", machine.get("git_commit")],
        ["load average (1 min) at start", machine.get("load_average_at_start")],
        ["load average (1 min) at end", machine.get("load_average_at_end")],
        ["profile", options.get("profile")],
        ["parts", ", ".join(options.get("parts", []))],
        ["whole benchmark", _seconds(options.get("seconds"))],
    ]
    if options.get("quick"):
        rows.append(["mode", "quick (CI smoke test: timings mean nothing)"])
    if options.get("tls"):
        rows.append(["transport", "HTTPS (emulator --tls)"])
    return ["## Machine", "", *_table(["", ""], rows)]


SYNC_ROWS = [
    ("wall time (run start to finish)", "seconds", _seconds),
    ("worker process wall time", "process_seconds", _seconds),
    ("records written", "records", _cell),
    ("records/s", "records_per_second", lambda v: f"{v:,.0f}"),
    ("API calls", "api_calls", _cell),
    ("Bulk jobs", "bulk_jobs", _cell),
    ("worker peak RSS", "worker_peak_rss_mb", _mb),
    ("emulator peak RSS", "emulator_peak_rss_mb", _mb),
    ("worker CPU", "worker_cpu_seconds", _seconds),
    ("emulator CPU", "emulator_cpu_seconds", _seconds),
    ("PostgreSQL CPU (whole server)", "postgres_cpu_seconds", _seconds),
]


def _sync_table(columns: dict[str, dict], ratio: tuple[str, dict] | None = None) -> list[str]:
    """Runs side by side: one column per run, rows for each figure and each call kind; with
    ``ratio`` (a heading and the ratios by figure key), a last column of ratios."""
    runs = list(columns.values())
    headers, ratios = ["", *columns], {}
    if ratio:
        headers.append(ratio[0])
        ratios = {"seconds": ratio[1].get("time"), "api_calls": ratio[1].get("calls")}
    rows = []
    for label, key, fmt in SYNC_ROWS:
        row = [label] + [fmt(run.get(key)) for run in runs]
        rows.append([*row, _x(ratios.get(key))] if ratio else row)
    kinds = [k for k in runs[0]["calls_by_kind"] if any(r["calls_by_kind"].get(k) for r in runs)]
    for kind in kinds:
        row = [f"calls: {kind}"] + [_cell(r["calls_by_kind"].get(kind, 0)) for r in runs]
        rows.append([*row, ""] if ratio else row)
    return _table(headers, rows)


def _initial(parts: dict) -> list[str]:
    initial, rest = parts.get("initial"), parts.get("rest")
    if not (initial or rest):
        return []
    profile = (initial or rest)["profile"]
    columns = {name: run for name, run in (("Bulk", initial), ("REST only", rest)) if run}
    ratio = ("REST / Bulk", rest["ratios"]) if rest and rest.get("ratios") else None
    lines = [
        f"## 1-2. Initial sync of {profile}: Bulk (the engine's choice) and REST only",
        "",
        *_sync_table(columns, ratio),
    ]
    each = (initial or {}).get("records_per_second_of_each_run") or []
    if len(each) > 1:
        rates = ", ".join(f"{rate:,.0f}" for rate in each)
        lines += [
            f"The Bulk sync ran {len(each)} times (records/s: {rates}); the median run is shown.",
            "",
        ]
    return lines


def _incremental(parts: dict) -> list[str]:
    incremental = parts.get("incremental")
    if not incremental:
        return []
    made = incremental["changes_by_object"]
    spread = "; ".join(
        f"{name} " + ", ".join(f"{n} {kind}s" for kind, n in sorted(kinds.items()))
        for name, kinds in sorted(made.items())
    )
    return [
        f"## 3. Incremental sync after {incremental['changes']:,} random changes",
        "",
        f"Changes made through the emulator's control API: {spread}.",
        "",
        *_sync_table({"incremental": incremental}),
    ]


def _memory(parts: dict) -> list[str]:
    memory = parts.get("memory")
    if not memory:
        return []
    rows = [
        [entry["profile"], entry["records"], _mb(entry["worker_peak_rss_mb"])]
        for entry in (memory["small"], memory["large"])
    ]
    return [
        "## 4. Memory growth of the sync worker",
        "",
        *_table(["profile", "records", "worker peak RSS"], rows),
        f"Ratio {memory['large']['profile']} / {memory['small']['profile']}: "
        f"{_x(memory['ratio'])}.",
        "",
    ]


def _latency(parts: dict) -> list[str]:
    latency = parts.get("latency")
    if not latency:
        return []
    whole, largest = latency["whole"], latency["largest"]
    return [
        f"## 5. With Salesforce-like job latency (`--processing-rate "
        f"{latency['processing_rate']:g}` records per second per job)",
        "",
        *_sync_table({"all objects": whole, f"{latency['largest_object']} alone": largest}),
        f"Whole sync / {latency['largest_object']} alone: {_x(latency['ratio'])}.",
        "",
    ]


def _audience(parts: dict) -> list[str]:
    audience = parts.get("audience")
    if not audience:
        return []
    rows = [
        [
            c["label"],
            c["holds"],
            c["size"],
            f"{c['median_ms']:,.0f} ms",
            f"{c['min_ms']:,.0f}",
            f"{c['max_ms']:,.0f}",
        ]
        for c in audience["cases"]
    ]
    return [
        f"## 6. Audience size estimates on the ingested copy (median of {audience['runs']})",
        "",
        *_table(["criteria", "holds", "size", "median", "min ms", "max ms"], rows),
    ]


def _tick(parts: dict) -> list[str]:
    tick = parts.get("tick")
    if not tick:
        return []
    rows = [
        [
            f"{tick[state]['due']:,}",
            f"{tick[state]['median_seconds']:.3f} s",
            tick[state]["queries"],
            f"{tick[state]['started']:,}",
        ]
        for state in ("all_due", "tenth_due")
    ]
    return [
        f"## 7. Scheduler tick, {tick['connections']:,} connections "
        f"({tick['broker']} broker, median of {tick['runs']})",
        "",
        *_table(["due", "tick", "queries", "runs started"], rows),
    ]


def summary_lines(parts: dict) -> list[str]:
    """The targets as plain lines, for the terminal."""
    return [
        f"  {t.verdict:<14} {t.figure}: {t.shown or '-'} (target {t.target})"
        for t in targets(parts)
    ]


def _site(parts: dict) -> list[str]:
    """The site's responsiveness under a long import (bench/site_load.py)."""
    from bench import site_load

    site = parts.get("site")
    return ["## Site responsiveness", "", site_load.render(site), ""] if site else []
