"""bench/worker.py's memory trace: what a long run's growth is made of, sampled from a thread."""

import time
import tracemalloc

from bench.worker import memory_trace

HERE = "test_worker_memory_trace.py"


def _grown_here(path) -> float:
    """The most MB any sample says lines of this file allocated since the first."""
    text = path.read_text() if path.exists() else ""
    sizes = [float(line.split()[0]) for line in text.splitlines() if HERE in line]
    return max(sizes, default=0.0)


def test_the_trace_names_the_line_whose_allocations_grew(tmp_path):
    path = tmp_path / "memory.txt"
    stop = memory_trace(path, every=0.05)
    try:
        kept = [bytes(1024) + bytes([n % 256]) for n in range(20_000)]  # about 20 MB
        deadline = time.monotonic() + 10
        while _grown_here(path) < 15:
            assert time.monotonic() < deadline, path.read_text() if path.exists() else "no file"
            time.sleep(0.05)
    finally:
        stop.set()
        tracemalloc.stop()
    assert " rss " in path.read_text()
    assert len(kept) == 20_000
