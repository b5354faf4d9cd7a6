"""A child process that runs CPU-bound steps of a load beside the worker's own thread.

Parsing a Bulk page is Python, one thread holding the GIL. In a load's worker-bound
stretches (the emulator idle, PostgreSQL at 0.8 of a core) part of the second core stood
idle (bench/README.md, "Where the 10M run's cores go"), so a load hands some of its page's
chunks to this process (readers.CsvPage.copy_lines) and parses the rest itself.

A subprocess, not ``multiprocessing``: django-q2's workers are daemonic processes, which
may not have multiprocessing children. Requests and answers are pickles over its stdin and
stdout: ``(ticket, function, args)``, answered ``(ticket, ok, value)``, one at a time, in
order. The function is named by reference (a module-level function of this project), so
the child runs the same code as the worker.

The child holds nothing a run needs: the caller keeps each request's input until its answer
is back and does the work itself when the child is gone (``HelperGone``). The child exits
when its stdin closes (the worker exited or closed it) or after ``IDLE_SECONDS`` without a
request, so an idle queue worker does not keep one alive; the next load starts another.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import itertools
import logging
import os
import pickle
import queue
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

IDLE_SECONDS = 300.0
ROOT = Path(__file__).resolve().parents[2]  # the project's root, where `ingestion` is found


class HelperGone(RuntimeError):
    """The helper process ended before answering."""


class HelperProcess:
    """One child process; ``submit`` returns a Future of the function's value."""

    def __init__(self) -> None:
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ingestion.engine.helper_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": path},
        )
        for pipe in (self._process.stdin, self._process.stdout):
            _widen(pipe)
        self._lock = threading.Lock()
        self._pending: dict[int, Future] = {}
        self._tickets = itertools.count()  # next() is atomic under the GIL
        self._gone = False
        # Written by a thread of its own: a pipe holds 64 KB, so a request waits there until
        # the child has answered the one before, which the caller's thread must not.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="helper-requests", daemon=True)
        self._reader = threading.Thread(target=self._read, name="helper-answers", daemon=True)
        self._writer.start()
        self._reader.start()

    @property
    def alive(self) -> bool:
        return not self._gone

    def submit(self, function: Callable, *args: Any) -> Future:
        future: Future = Future()
        ticket = next(self._tickets)
        try:
            request = _framed((ticket, function, args))  # outside the lock the reader takes
        except Exception as error:  # arguments that do not pickle: the caller's to do
            future.set_exception(HelperGone(f"not sent to the helper: {error!r}"))
            return future
        with self._lock:
            if self._gone:
                future.set_exception(HelperGone("the helper process has ended"))
                return future
            self._pending[ticket] = future
        self._outbox.put(request)
        return future

    def _write(self) -> None:
        stream = self._process.stdin
        while (data := self._outbox.get()) is not None:
            try:
                stream.write(data)
                stream.flush()
            except (OSError, ValueError):
                break  # the child ended: the reader sees it and fails what waits
        with contextlib.suppress(OSError, ValueError):
            stream.close()

    def _read(self) -> None:
        out = self._process.stdout
        try:
            while True:
                ticket, ok, value = _receive(out.read)
                with self._lock:
                    future = self._pending.pop(ticket, None)
                if future is None:
                    continue  # failed already by close(): nobody waits for it
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (EOFError, OSError):
            pass  # the child ended
        except BaseException:  # an answer this process cannot take (memory, unpickling)
            logger.exception("helper process %s: an answer could not be read", self._process.pid)
        finally:
            with self._lock:
                self._end()  # never a caller left waiting: each does the work itself

    def _end(self) -> None:
        """Called with the lock held: fail what waits, so each caller does it itself."""
        self._gone = True
        pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(HelperGone("the helper process ended before answering"))

    def close(self) -> None:
        peak, cpu = _usage(self._process.pid)  # while it lives (after, /proc forgets it)
        with self._lock:
            self._end()
        self._outbox.put(None)  # the writer closes stdin, and the child exits
        self._writer.join(timeout=10)
        try:
            self._process.wait(timeout=10)  # reaped: its CPU counts in the worker's rusage
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if peak:  # else it had ended on its own: /proc keeps no figures of a zombie
            logger.info(
                "helper process %s ended: peak RSS %.1f MB, CPU %.1f s",
                self._process.pid,
                peak,
                cpu,
            )


_LENGTH = struct.Struct("!Q")


def _usage(pid: int) -> tuple[float, float]:
    """A live process's peak resident set (MB) and CPU seconds, from Linux's /proc; zeros
    elsewhere. Not its rusage once reaped: a child's ``ru_maxrss`` counts the worker's own
    memory it was forked with before it ran Python anew."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    peak = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")), 0)
    return int(peak) / 1024, (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


# Linux's F_SETPIPE_SZ (fcntl.F_SETPIPE_SZ from Python 3.10, absent elsewhere).
_SET_PIPE_SIZE = getattr(fcntl, "F_SETPIPE_SZ", None)
PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process (pipe-max-size)


def _widen(pipe) -> None:
    """Make a pipe hold a whole chunk's message. A 64 KB pipe moves a 2 MB answer in 32
    reads, and each read's return waits for the GIL, which the parsing thread holds for up
    to its switch interval (5 ms): 0.4 s of a 100,000-record page lost that way (measured)."""
    if _SET_PIPE_SIZE is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe.fileno(), _SET_PIPE_SIZE, PIPE_BYTES)


def _framed(message) -> bytes:
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def _receive(read: Callable[[int], bytes]):
    """One message; ``read(n)`` returns up to n bytes, b"" at the end of the stream."""
    head = _read_exactly(read, _LENGTH.size)
    return pickle.loads(_read_exactly(read, _LENGTH.unpack(head)[0]))


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes:
    parts, left = [], size
    while left:
        part = read(left)
        if not part:
            raise EOFError
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


_shared: HelperProcess | None = None
_shared_lock = threading.Lock()


def shared_helper() -> HelperProcess | None:
    """This process's helper, started when first needed and again after it ended; None
    when it cannot be started (the caller does the work itself)."""
    global _shared
    with _shared_lock:
        if _shared is not None and not _shared.alive:
            _shared.close()
            _shared = None
        if _shared is None:
            try:
                _shared = HelperProcess()
            except OSError as error:
                logger.warning("no helper process (%s); parsing in the worker alone", error)
                return None
        return _shared


@atexit.register
def _close_shared() -> None:
    with _shared_lock:
        if _shared is not None:
            _shared.close()


# --- the child ---------------------------------------------------------------------------


def serve() -> None:
    """Answer requests from stdin until it closes or stays quiet for IDLE_SECONDS."""
    # The protocol owns the real stdout; anything printed goes to stderr (the worker's log).
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Unbuffered: select() must see every byte not yet read, none hidden in a buffer.
    requests = sys.stdin.fileno()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "primer_sf.settings")
    import django

    django.setup()  # the engine's modules import the models
    from ingestion.engine.records import release_free_memory

    while select.select([requests], [], [], IDLE_SECONDS)[0]:
        try:
            ticket, function, args = _receive(lambda n: os.read(requests, n))
        except EOFError:
            return
        try:
            answer = (ticket, True, function(*args))
        except Exception as error:  # handed back, raised in the worker
            answer = (ticket, False, error)
        answers.write(_answer_bytes(ticket, answer))
        answers.flush()
        del answer
        release_free_memory()  # as the worker does after each page (records.py)


def _answer_bytes(ticket: int, answer: tuple) -> bytes:
    """The answer framed; an error that does not pickle, or would not unpickle in the worker
    (an exception whose ``__init__`` wants more than its message), becomes HelperGone: the
    worker then does that work itself and meets the error there."""
    try:
        data = _framed(answer)
        if not answer[1]:
            pickle.loads(data[_LENGTH.size :])
        return data
    except Exception:
        return _framed((ticket, False, HelperGone("the helper could not say what failed")))


if __name__ == "__main__":
    # Served from the module under its own name, not as __main__: a HelperGone it answers
    # must unpickle in the worker as ingestion.engine.helper_process.HelperGone.
    from ingestion.engine import helper_process

    helper_process.serve()
