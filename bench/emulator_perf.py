"""Measure the emulator: start-up time and memory per profile, CSV result-stream throughput
(plain and gzip) and SELECT COUNT() latency on SystemModstamp windows.

    python bench/emulator_perf.py                       # all profiles
    python bench/emulator_perf.py --profiles demo       # one profile
    python bench/emulator_perf.py --rows 100000         # rows per throughput run

Each profile runs in its own `python -m emulator` process on an ephemeral loopback port, the
way the product's benchmarks use it; the client reads raw (still compressed) bytes, so the
figure is what the server can stream.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
V = "62.0"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(profile: str) -> tuple[subprocess.Popen, str, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--profile", profile, "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    base = None
    for line in proc.stdout:
        m = re.search(r"base URL.*: (http://\S+)", line)
        if m:
            base = m.group(1)
        if line.startswith("  control API"):
            break
    if base is None:
        proc.kill()
        raise RuntimeError("emulator did not start")
    return proc, base, time.perf_counter() - t0


def token(base: str) -> dict:
    r = requests.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": "emulator-client-id",
            "client_secret": "emulator-client-secret",
            "username": "integration@example.com",
            "password": "emulator",
        },
        timeout=30,
    )
    r.raise_for_status()
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def bulk_fields(base: str, h: dict, sobject: str) -> list[str]:
    d = requests.get(
        f"{base}/services/data/v{V}/sobjects/{sobject}/describe", headers=h, timeout=30
    )
    return [
        f["name"] for f in d.json()["fields"] if f["type"] not in ("address", "location", "base64")
    ]


def stream_rate(base: str, h: dict, rows: int, gzip: bool) -> tuple[float, int, int]:
    fields = bulk_fields(base, h, "Contact")
    q = f"SELECT {', '.join(fields)} FROM Contact"
    job = requests.post(
        f"{base}/services/data/v{V}/jobs/query",
        json={"operation": "query", "query": q},
        headers=h,
        timeout=60,
    ).json()
    while True:
        info = requests.get(
            f"{base}/services/data/v{V}/jobs/query/{job['id']}", headers=h, timeout=60
        )
        if info.json()["state"] == "JobComplete":
            break
        time.sleep(0.05)
    headers = dict(h)
    headers["Accept-Encoding"] = "gzip" if gzip else "identity"
    t0 = time.perf_counter()
    got = 0
    nbytes = 0
    locator = None
    while got < rows:
        params = {"maxRecords": min(50_000, rows - got)}
        if locator:
            params["locator"] = locator
        r = requests.get(
            f"{base}/services/data/v{V}/jobs/query/{job['id']}/results",
            params=params,
            headers=headers,
            stream=True,
            timeout=120,
        )
        for chunk in r.raw.stream(1 << 16, decode_content=False):
            nbytes += len(chunk)
        got += int(r.headers["Sforce-NumberOfRecords"])
        locator = r.headers["Sforce-Locator"]
        if locator == "null":
            break
    return got / (time.perf_counter() - t0), nbytes, got


def count_latency(base: str, h: dict) -> list[tuple[str, float, float, int]]:
    now = datetime.now(UTC).replace(microsecond=0)
    out = []
    for label, days in (("1 day", 1), ("30 days", 30), ("1 year", 365)):
        lo = (now - timedelta(days=days + 400)).strftime("%Y-%m-%dT%H:%M:%SZ")
        hi = (now - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
        q = f"SELECT COUNT() FROM Contact WHERE SystemModstamp >= {lo} AND SystemModstamp < {hi}"
        times = []
        total = 0
        for _ in range(3):
            t0 = time.perf_counter()
            r = requests.get(
                f"{base}/services/data/v{V}/query", params={"q": q}, headers=h, timeout=60
            )
            times.append(time.perf_counter() - t0)
            total = r.json()["totalSize"]
        out.append((label, times[0] * 1000, min(times[1:]) * 1000, total))
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--profiles", default="tiny,demo,seed-example")
    p.add_argument("--rows", type=int, default=100_000)
    args = p.parse_args()
    for profile in args.profiles.split(","):
        proc, base, startup = start(profile)
        try:
            print(f"== {profile}: start-up {startup:.2f}s, RSS {rss_mb(proc.pid):.0f} MB")
            h = token(base)
            stream_rate(base, h, 2000, True)  # warm-up: pools and tables are built on first use
            for gz in (False, True):
                cpu0 = cpu_seconds(proc.pid)
                rate, nbytes, got = stream_rate(base, h, args.rows, gz)
                per_row = (cpu_seconds(proc.pid) - cpu0) / got * 1e6
                kind = "gzip" if gz else "plain"
                print(
                    f"   result stream ({kind}): {got:,} rows at {rate:,.0f} rows/s"
                    f" ({nbytes / 1e6:.1f} MB read);"
                    f" server CPU {per_row:.1f} us/row = {1e6 / per_row:,.0f} rows/s per core"
                )
            for label, cold, warm, total in count_latency(base, h):
                print(
                    f"   COUNT() window {label:8}: cold {cold:.0f} ms, warm {warm:.0f} ms"
                    f" ({total} rows)"
                )
            print(f"   RSS after the runs: {rss_mb(proc.pid):.0f} MB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
