"""What the benchmark ran on, and what processes cost, read from /proc (Linux only).

CPU time is split three ways (sync worker, emulator, PostgreSQL) so a slow figure says where
its time went without a profiler attached.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _status_kib(pid: int, key: str) -> int | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def peak_rss_mb(pid: int) -> float | None:
    """The process's resident-memory high-water mark so far (VmHWM)."""
    kib = _status_kib(pid, "VmHWM")
    return None if kib is None else kib / 1024


def _stat(pid: int) -> list[str] | None:
    try:
        # The command name (field 2) may hold spaces; everything after its ")" splits cleanly.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of a process (plus that of its reaped children, if asked)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After the name: state=0, ppid=1, ..., utime=11, stime=12, cutime=13, cstime=14.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def postgres_cpu_seconds(backend_pid: int) -> float | None:
    """CPU used so far by the PostgreSQL server: the postmaster, its live processes, and the
    backends that have exited (counted in the postmaster's children's time).

    ``backend_pid`` is any backend of the server (ours); None when the server is not on this
    machine's process table (a container, another host).
    """
    fields = _stat(backend_pid)
    if fields is None:
        return None
    postmaster = int(fields[1])
    total = cpu_seconds(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child is not None and int(child[1]) == postmaster:
                total += (int(child[11]) + int(child[12])) / TICKS
    return total


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return kib / 1024 / 1024


def git_commit() -> str:
    """Short commit, marked when the working tree has uncommitted changes (the reports' own
    files, which the runs rewrite, do not count: RESULTS.md, RESULTS-scale.md, RESULTS-fleet.md
    and their JSON)."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ".",
            ":(exclude)bench/RESULTS*.md",
            ":(exclude)bench/results*.json",
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" + uncommitted changes" if dirty else "")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def load_average() -> float:
    """One-minute load average: the machine is shared, so figures come with it."""
    return os.getloadavg()[0]


# The server's settings that a load's speed depends on, reported beside its version: two
# servers' figures differ by them (bench/README.md, "The scale part on a quicker day": this
# machine's server ran with autovacuum off and checkpointed every few seconds during loads).
POSTGRES_SETTINGS = ("shared_buffers", "max_wal_size", "maintenance_work_mem", "autovacuum")


def postgres(cursor) -> tuple[str, str]:
    """The server's version and POSTGRES_SETTINGS as ``name value`` pairs, in one query."""
    names = ("server_version", *POSTGRES_SETTINGS)
    cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
    version, *values = cursor.fetchone()
    pairs = zip(POSTGRES_SETTINGS, values, strict=True)
    return version, ", ".join(f"{name} {value}" for name, value in pairs)


def describe(postgres_version: str, postgres_settings: str) -> dict:
    """The machine, the software and the moment, for the report's header."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(_ram_gib(), 1),
        "postgresql": postgres_version,
        "postgresql_settings": postgres_settings,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": git_commit(),
        "load_average_at_start": round(load_average(), 2),
    }
