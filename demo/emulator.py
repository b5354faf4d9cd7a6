"""The Salesforce org emulator as a child process of the demo, and its control API.

The control API (``/__emulator__/``) is the emulator's own, not Salesforce's: it changes and
counts the emulated org's data from outside, the way a Salesforce user editing records in
their org would. Our Salesforce client never calls it.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

CONTROL = "/__emulator__"
EMULATOR_CLIENT_ID = "emulator-client-id"
EMULATOR_CLIENT_SECRET = "emulator-client-secret"


class EmulatorError(Exception):
    """The emulator would not start, or its control API refused a call."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port`` (a bind attempt, closed at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(preferred: int, host: str = "127.0.0.1") -> int:
    """``preferred`` when it is free, else any free port the kernel hands out."""
    if preferred and port_is_free(preferred, host):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class EmulatorControl:
    """JSON calls to a running emulator's control API (not counted against its API limit)."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict | None:
        url = f"{self.base_url}{CONTROL}{path}"
        try:
            response = requests.request(method, url, json=body, timeout=self.timeout)
        except requests.RequestException as error:
            message = f"The emulator at {self.base_url} did not answer: {error}"
            raise EmulatorError(message) from error
        if response.status_code >= 400:
            raise EmulatorError(f"{method} {CONTROL}{path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def summary(self) -> dict:
        """Profile, org id, users, live record counts, API usage."""
        return self._call("GET", "/")

    def counters(self) -> dict:
        """API calls by kind, ``limit_counted_total``, ``jobs_created``, OAuth grants."""
        return self._call("GET", "/counters")

    def count(self, sobject: str, *, include_deleted: bool = False) -> int:
        flag = "true" if include_deleted else "false"
        return self._call("GET", f"/count/{sobject}?include_deleted={flag}")["count"]

    def random_changes(self, n: int, seed: int) -> dict[str, dict[str, int]]:
        """``n`` realistic changes; counts per object and kind (update, create, delete)."""
        return self._call("POST", "/changes", {"n": n, "seed": seed})

    def soft_delete(self, sobject: str, sf_id: str) -> None:
        """Into the recycle bin, as a user deleting the record would."""
        self._call("DELETE", f"/records/{sobject}/{sf_id}")

    def purge(self, sobject: str, sf_id: str) -> None:
        """Hard delete: gone even from queryAll, as after emptying the recycle bin."""
        self._call("POST", f"/records/{sobject}/{sf_id}/purge")


class EmulatorProcess:
    """``python -m emulator`` on a loopback port, its output in a log file; a context manager
    that waits until it answers and always stops it."""

    def __init__(self, *, profile: str, port: int, seed: int, log_path: Path) -> None:
        self.profile, self.port, self.seed = profile, port, seed
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        return [
            sys.executable,
            *("-m", "emulator", "--host", "127.0.0.1", "--port", str(self.port)),
            *("--profile", self.profile, "--seed", str(self.seed)),
        ]

    def start(self, timeout: float = 60.0) -> EmulatorProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            cwd = Path(__file__).resolve().parents[1]
            self.process = subprocess.Popen(
                self.argv(), stdout=log, stderr=subprocess.STDOUT, cwd=cwd
            )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        control = EmulatorControl(self.base_url, timeout=2.0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorError(
                    f"The emulator exited with code {self.process.returncode} before it was "
                    f"ready:\n{self.log_tail()}"
                )
            with contextlib.suppress(EmulatorError):
                control.summary()
                return
            time.sleep(0.1)
        self.stop()
        raise EmulatorError(
            f"The emulator did not answer within {timeout:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no output)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the emulator stops cleanly on it), then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
