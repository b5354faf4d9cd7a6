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
        # Issue 8 asked 1.3x; issue 16 asks 1.1x.
        ("with job latency: whole sync / largest object alone", "<= 1.1x",
         ("latency", "ratio"), lambda v: v <= 1.1, "{:.2f}x", ("latency", "whole")),
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
        ["PostgreSQL settings", machine.get("postgresql_settings") or "not recorded"],
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


# --- the scale part (issue 16): bench/RESULTS-scale.md ---------------------------------------

SCALE_BASE = "seed-example"
RSS_LIMIT_MB = 300


def _scale_ratio(a, b) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _initial_runs(engine: dict) -> list[str]:
    """The wall time of each initial sync, when it ran more than once (scale.initial_syncs)."""
    seconds = engine.get("seconds_of_each_run", [])
    if len(seconds) < 2:
        return []
    each = ", ".join(f"{s:,.1f}" for s in seconds)
    return [
        f"The initial sync ran {len(seconds)} times, each from an empty copy: {each} s. "
        "Its figures here and in the targets are the median run's.",
        "",
    ]


def paired_ratios(figures: dict) -> list[float]:
    """Engine records/s ÷ the indexed COPY's rows/s of each initial sync and the COPY timed
    right after it (scale.PairedCopies); [] unless each run had its COPY."""
    seconds = _get(figures, "engine", "seconds_of_each_run") or []
    copies = _get(figures, "copy", "indexed", "rows_per_second_of_each_run") or []
    records = _get(figures, "engine", "records")
    if not records or len(seconds) < 2 or len(seconds) != len(copies):
        return []
    return [round(records / s / c, 2) for s, c in zip(seconds, copies, strict=True)]


def engine_to_copy(figures: dict) -> float | None:
    """engine ÷ indexed COPY: the median of the paired runs' ratios when the COPY followed
    each sync, else the median sync's speed ÷ the one COPY's."""
    pairs = paired_ratios(figures)
    if pairs:
        return sorted(pairs)[len(pairs) // 2]
    indexed = _get(figures, "copy", "indexed", "rows_per_second")
    return _scale_ratio(_get(figures, "engine", "records_per_second"), indexed)


def yardstick_seconds(big: dict, base: dict) -> tuple[float | None, str]:
    """What the big profile's initial sync is divided by: the mean of the yardstick's syncs
    just before and just after it (scale.yardstick_sync), with a note of both ratios; else,
    from results without them, the yardstick's own median initial sync."""
    before, after = _get(big, "yardstick", "before"), _get(big, "yardstick", "after")
    seconds = _get(big, "engine", "seconds")
    if before and after and seconds:
        note = (
            f"÷ the sync just before: {seconds / before:.2f}x, just after: {seconds / after:.2f}x"
        )
        return (before + after) / 2, note
    return _get(base, "engine", "seconds"), ""


def _yardstick_lines(figures: dict, base: dict) -> list[str]:
    before, after = _get(figures, "yardstick", "before"), _get(figures, "yardstick", "after")
    if not (before and after):
        return []
    own = _get(base, "engine", "seconds")
    return [
        f"{figures['yardstick']['profile']}'s initial sync, run again just before this one and "
        f"just after it (each against an emulated org of its own, in a workspace of its own): "
        f"{before:,.1f} s and {after:,.1f} s"
        + (f" (its median run among its own steps: {own:,.1f} s)" if own else "")
        + f". The time target divides by their mean, {(before + after) / 2:,.1f} s.",
        "",
    ]


def engine_floor(figures: dict, cores: int | None) -> dict | None:
    """An estimate of the shortest initial sync this machine allows the engine, from the same
    run's parts: the read path's worker CPU (c), the emulator's CPU in that run (Salesforce's,
    which a real org spends on its own machines) and the bare COPY's backend CPU (b), shared by
    the cores (and no less than the largest of them, each one process), then the index build
    timed after (b). ``ratio``: the engine's speed at that time ÷ the COPY into the indexed
    table (a), the best the target "engine ÷ (a) >= 1.3" could show here with this read path.

    An estimate, not a bound: (b) pays its primary key and foreign key per row, which a load
    builds and checks once at its end, and its index build (every index in turn, over the
    whole table) is slower than the engine's (per object, the GIN indexes in a second
    session); while three processes sharing the cores slow one another more than their CPU
    apart says. None unless every part covers the same rows (``--copy-limit`` copies fewer)."""
    read, copy = figures.get("read_path") or {}, figures.get("copy") or {}
    bare, indexed = copy.get("bare") or {}, copy.get("indexed") or {}
    parts = [
        read.get("worker_cpu_seconds"),
        read.get("emulator_cpu_seconds"),
        bare.get("backend_cpu_seconds"),
    ]
    build = bare.get("index_build_seconds")
    if not cores or None in parts or build is None or not indexed.get("rows_per_second"):
        return None
    if not copy.get("rows") or read.get("records") != copy["rows"]:
        return None
    load = max(sum(parts) / cores, *parts)
    seconds = load + build
    ratio = copy["rows"] / seconds / indexed["rows_per_second"]
    return {"cores": cores, "load": load, "build": build, "seconds": seconds, "ratio": ratio}


def scale_targets(scale: dict, cores: int | None = None) -> list[Target]:
    """The targets of issue 16 the scale part measures, for every profile it ran; with the
    machine's ``cores``, the engine ÷ COPY targets name the best estimated here (engine_floor)."""
    profiles = scale.get("profiles", {})
    main, base_name = scale.get("profile") or SCALE_BASE, scale.get("baseline") or SCALE_BASE
    big, base = profiles.get(main, {}), profiles.get(base_name, {})
    rows = []
    for name, figures in profiles.items():
        floor = engine_floor(figures, cores)
        notes = [f"estimated best here: {floor['ratio']:.2f}x"] if floor else []
        pairs = paired_ratios(figures)
        if pairs:
            notes.append("each sync with its COPY: " + ", ".join(f"{r:.2f}x" for r in pairs))
        rows.append(_target(
            f"initial sync {name}: engine records/s / bare COPY into the indexed table",
            ">= 1.3", engine_to_copy(figures), lambda v: v >= 1.3, "{:.2f}x",
            "; ".join(notes)))  # fmt: skip
    demo_rss = _get(scale, "demo", "worker_peak_rss_mb")
    small = _get(scale, "demo", "profile") or "demo"
    rss = _get(big, "engine", "worker_peak_rss_mb")
    yardstick, bracket = yardstick_seconds(big, base)
    rows += [
        _target(f"initial sync {main}: time / {base_name}'s", "<= 13x",
                _scale_ratio(_get(big, "engine", "seconds"), yardstick),
                lambda v: v <= 13, "{:.2f}x", bracket),
        _target(f"API calls, initial sync of {main}", "<= 300",
                _get(big, "engine", "api_calls"), lambda v: v <= 300, "{:,}"),
        _target(f"sync worker peak RSS, {main}", f"< {RSS_LIMIT_MB} MB", rss,
                lambda v: v < RSS_LIMIT_MB, "{:.0f} MB"),
        _target(f"sync worker peak RSS, {main} / {small}", "within 25%",
                _scale_ratio(rss, demo_rss), lambda v: abs(v - 1) <= 0.25, "{:.2f}x"),
        _target(f"reconciliation of {main}: peak RSS", f"< {RSS_LIMIT_MB} MB",
                _get(big, "reconcile", "worker_peak_rss_mb"), lambda v: v < RSS_LIMIT_MB,
                "{:.0f} MB"),
        _target(f"reconciliation of {main}: time / {base_name}'s", "<= 13x",
                _scale_ratio(_get(big, "reconcile", "seconds"),
                             _get(base, "reconcile", "seconds")),
                lambda v: v <= 13, "{:.2f}x"),
        _target(f"incremental after {_get(big, 'incremental', 'changes') or 10_000:,} changes "
                f"on {main}: wall time", "< 10 s", _get(big, "incremental", "seconds"),
                lambda v: v < 10, "{:.1f} s"),
        _target(f"incremental on {main}: API calls", "<= 25",
                _get(big, "incremental", "api_calls"), lambda v: v <= 25, "{:,}"),
    ]  # fmt: skip
    for case in _get(big, "audience", "cases") or [{"label": "(not run)", "median_ms": None}]:
        rows.append(_target(f"audience size on {main}: {case['label']}", "< 1 s",
                            case["median_ms"], lambda v: v < 1000, "{:,.0f} ms"))  # fmt: skip
    during = _get(big, "disconnect", "requests", "during the purge audiences page")
    rows += [
        _target(f"disconnect with delete, {main}: peak RSS", f"< {RSS_LIMIT_MB} MB",
                _get(big, "disconnect", "rss_peak_mb"), lambda v: v < RSS_LIMIT_MB,
                "{:.0f} MB"),
        _target(f"disconnect with delete, {main}: audiences page p95 during it", "< 1 s",
                _get(during, "p95_ms"), lambda v: v < 1000, "{:,} ms"),
    ]  # fmt: skip
    return rows


def scale_summary_lines(scale: dict, cores: int | None = None) -> list[str]:
    return [
        f"  {t.verdict:<14} {t.figure}: {t.shown or '-'} (target {t.target})"
        for t in scale_targets(scale, cores)
    ]


def _floor_lines(figures: dict, cores: int | None) -> list[str]:
    floor = engine_floor(figures, cores)
    if floor is None:
        return []
    read, bare = figures["read_path"], figures["copy"]["bare"]
    return [
        f"The engine's best on this machine, estimated ({floor['cores']} cores; "
        f"`report.engine_floor`): the read path's worker CPU (c) "
        f"{read['worker_cpu_seconds']:,.1f} s, the emulator's {read['emulator_cpu_seconds']:,.1f} "
        f"s and the bare COPY's backend CPU (b) {bare['backend_cpu_seconds']:,.1f} s shared by "
        f"the cores (or the largest alone): a load of {floor['load']:,.1f} s, then the index "
        f"build {floor['build']:,.1f} s = {floor['seconds']:,.1f} s, engine ÷ (a) "
        f"{floor['ratio']:.2f}x.",
        "",
    ]


def _limits_table(figures: dict, cores: int | None = None) -> list[str]:
    """Engine, read path and bare COPYs side by side: absolute and as fractions of the COPYs."""
    copy = figures.get("copy") or {}
    indexed = _get(copy, "indexed", "rows_per_second")
    bare = _get(copy, "bare", "rows_per_second")
    rows = []
    for label, run in (
        ("(a) bare COPY, table with its indexes", copy.get("indexed")),
        ("(b) bare COPY, no secondary indexes", copy.get("bare")),
        ("(c) engine, writes discarded (read path)", figures.get("read_path")),
        ("(d) engine (initial sync)", figures.get("engine")),
    ):
        if not run:
            continue
        speed = run.get("rows_per_second") or run.get("records_per_second")
        worker = run.get("worker_cpu_seconds", run.get("client_cpu_seconds"))
        rows.append([
            label, f"{speed:,.0f}", _x(_scale_ratio(speed, indexed)),
            _x(_scale_ratio(speed, bare)), _seconds(run.get("seconds")), _seconds(worker),
            _seconds(run.get("backend_cpu_seconds")), _seconds(run.get("postgres_cpu_seconds")),
        ])  # fmt: skip
    headers = ["", "rows/s", "÷ (a)", "÷ (b)", "wall", "worker / client CPU",
               "COPY backend CPU", "PostgreSQL CPU (server)"]  # fmt: skip
    lines = _table(headers, rows)
    build = _get(copy, "bare", "index_build_seconds")
    if build is not None:
        lines += [
            f"Building the secondary indexes after (b): {build:,.1f} s; (b) with the build: "
            f"{_get(copy, 'bare', 'with_index_build_rows_per_second'):,} rows/s. "
            f"{copy['rows']:,} rows, {copy['bytes'] / 2**20:,.0f} MB of COPY text.",
            "",
        ]
    lines += _floor_lines(figures, cores)
    size = figures.get("table")
    if size:
        lines += [
            f"Record table after the sync: heap {size['heap_mb']:,} MB, indexes "
            f"{size['indexes_mb']:,} MB.",
            "",
        ]
    return lines


def render_scale(results: dict) -> str:
    """bench/RESULTS-scale.md."""
    scale, cores = results["parts"]["scale"], results["machine"].get("cores")
    lines = [
        "# Scale benchmark results (issue 16)",
        "",
        "Written by `python -m bench --part scale --profile P`: regenerate it, never edit it by "
        "hand. What each figure is: `bench/scale.py`.",
        "",
        *_machine(results["machine"], results.get("options", {})),
        f"Load average over the scale part: {scale.get('load_average_at_start')} at start, "
        f"{scale.get('load_average_at_end')} at end.",
        "",
        "## Targets",
        "",
        *_table(
            ["figure", "target", "measured", ""],
            [[t.figure, t.target, t.shown, t.verdict] for t in scale_targets(scale, cores)],
        ),
    ]
    for name, figures in scale.get("profiles", {}).items():
        lines += [f"## {name}: the engine against the machine's limits", ""]
        lines += _limits_table(figures, cores)
        runs = {k: figures[k] for k in ("engine", "read_path", "reconcile", "incremental")
                if figures.get(k)}  # fmt: skip
        lines += [f"### {name}: the runs", "", *_sync_table(runs)]
        lines += _initial_runs(figures["engine"]) if figures.get("engine") else []
        lines += _yardstick_lines(figures, scale["profiles"].get(scale.get("baseline"), {}))
        if figures.get("audience"):
            lines += [f"### {name}: audience size estimates", ""]
            lines += _audience({"audience": figures["audience"]})[2:]
        purge = figures.get("disconnect")
        if purge:
            rows = [[name, s["n"], s["p50_ms"], s["p95_ms"], s["max_ms"]]
                    for name, s in purge["requests"].items()]  # fmt: skip
            lines += [
                f"### {name}: disconnect with data deletion",
                "",
                f"{purge.get('deleted', 0):,} of {purge['records']:,} records purged in "
                f"{purge['seconds']:,.1f} s ({purge.get('records_per_second', 0):,}/s; "
                f"{purge['left']:,} left when the measurement stopped); RSS "
                f"{purge['rss_start_mb']} MB at start, peak {purge['rss_peak_mb']} MB; "
                f"{purge['error_count']} failed requests.",
                "",
                *_table(["phase and request", "n", "p50 ms", "p95 ms", "max ms"], rows),
            ]
    demo = scale.get("demo")
    if demo:
        small = demo["profile"]
        lines += [f"## {small} (the memory yardstick)", "", *_sync_table({small: demo})]
    return "\n".join(lines).rstrip() + "\n"
