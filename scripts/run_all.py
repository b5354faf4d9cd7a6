"""``python scripts/run_all.py`` (``make run``): the emulator, the site and a worker together.

1. starts the Salesforce org emulator (``python -m emulator``, demo profile) on port 8765, or
   on a free port if 8765 is busy, and waits until it answers;
2. runs ``manage.py setupschedules`` (the scheduler tick and the reconciliation);
3. runs ``manage.py demo --reconnect``: a fresh emulator keeps nothing from an earlier one, so
   the demo connection is re-authorized against it through the OAuth flow (if there is one);
4. starts the site (``manage.py runserver``, port 8000) and a worker (``manage.py qcluster``);
5. prints where everything is, shows every child's output prefixed with its name, and on
   Ctrl-C (SIGINT), SIGTERM or SIGHUP stops all three: SIGTERM to each child's process group,
   then SIGKILL to whatever is still there after a few seconds. If one child exits on its own,
   the others are stopped too and the exit status is 1.

Standard library only; each child runs in its own session, so a Ctrl-C in the terminal
reaches only this supervisor, which stops the children in order.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
COLOURS = itertools.cycle(["36", "35", "33", "32", "34", "31"])
# The worker runs below the site's CPU priority (see Plan.worker).
WORKER_NICENESS = 10


@dataclass
class Child:
    """One supervised process and the thread copying its output."""

    name: str
    argv: list[str]
    process: subprocess.Popen
    pump: threading.Thread
    colour: str = ""
    expected_exit: bool = field(default=False)


class Supervisor:
    """Starts children in their own process groups, prefixes their output, stops them all."""

    def __init__(
        self,
        *,
        out: TextIO = sys.stdout,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        colour: bool | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self.out = out
        self.env = env if env is not None else dict(os.environ)
        self.cwd = cwd
        self.colour = out.isatty() if colour is None else colour
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._width = 8

    # --- output -----------------------------------------------------------------------------

    def say(self, text: str, name: str = "run_all", colour: str = "1") -> None:
        """Write one line, prefixed with ``name`` (coloured in a terminal)."""
        label = name.ljust(self._width)
        if self.colour:
            label = f"\x1b[{colour}m{label}\x1b[0m"
        with self._write_lock:
            self.out.write(f"{label} | {text}\n")
            self.out.flush()

    def _pump(self, name: str, colour: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.say(raw.decode(errors="replace").rstrip("\n"), name, colour)
        stream.close()

    # --- children ---------------------------------------------------------------------------

    def start(self, name: str, argv: list[str]) -> Child:
        """Start ``argv`` in a new session (its own process group), output piped to us."""
        self._width = max(self._width, len(name))
        process = subprocess.Popen(
            argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        colour = next(COLOURS)
        pump = threading.Thread(target=self._pump, args=(name, colour, process.stdout), daemon=True)
        pump.start()
        child = Child(name, argv, process, pump, colour)
        self.children.append(child)
        return child

    def run(self, name: str, argv: list[str]) -> int:
        """Run a one-off command to its end (stopped early if we are asked to stop)."""
        child = self.start(name, argv)
        child.expected_exit = True
        while child.process.poll() is None:
            if self.stopping.wait(0.1):
                child.process.terminate()
                break
        code = child.process.wait()
        child.pump.join(timeout=2)
        self.children.remove(child)
        return code

    def wait_until_ready(self, child: Child, url: str, timeout: float = 60.0) -> bool:
        """Poll ``url`` until it answers (any HTTP status); False if the child died first,
        time ran out, or a stop was requested."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            if child.process.poll() is not None:
                return False
            if _answers(url):
                return True
            time.sleep(0.2)
        return False

    def watch(self, poll: float = 0.2) -> int:
        """Block until a stop is requested (0) or a child exits on its own (1); then stop
        every child."""
        code = 0
        while not self.stopping.wait(poll):
            ended = [c for c in self.children if c.process.poll() is not None]
            if ended:
                for child in ended:
                    self.say(f"{child.name} exited with status {child.process.returncode}")
                code = 1
                break
        self.stop_all()
        return code

    def request_stop(self, *_args) -> None:
        """Signal handler (and test hook): stop at the next chance."""
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.request_stop)

    def stop_all(self) -> None:
        """SIGTERM to every child (newest first), wait, then SIGKILL each child's process group.

        SIGTERM goes to the child alone, so it can stop its own processes in order (qcluster
        stops its workers; a whole-group SIGTERM would hit them mid-shutdown). The SIGKILL to
        the group then also reaps what a child left behind (runserver's autoreloaded server).
        """
        running = [c for c in reversed(self.children) if c.process.poll() is None]
        if running:
            self.say("stopping " + ", ".join(c.name for c in running))
        for child in running:
            child.process.terminate()
        deadline = time.monotonic() + self.stop_timeout
        for child in running:
            try:
                child.process.wait(max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop within {self.stop_timeout:.0f}s: killing it")
        for child in self.children:
            # Also reaps grandchildren left in the group (runserver's autoreloader child).
            self._kill_group(child)
            child.process.wait()
            child.pump.join(timeout=2)

    @staticmethod
    def _kill_group(child: Child) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens there, else any free loopback port."""
    if port_is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- make run ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """The commands ``make run`` runs, on which ports."""

    site_port: int
    emulator_port: int
    profile: str
    python: str = sys.executable

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.site_port}"

    def manage(self, *args: str) -> list[str]:
        return [self.python, "manage.py", *args]

    def emulator(self) -> list[str]:
        return [
            *(self.python, "-m", "emulator", "--host", "127.0.0.1"),
            *("--port", str(self.emulator_port), "--profile", self.profile),
        ]

    def setup(self) -> list[tuple[str, list[str]]]:
        return [
            ("setup", self.manage("setupschedules")),
            ("setup", self.manage("demo", "--reconnect", "--emulator-url", self.emulator_url)),
        ]

    def web(self) -> list[str]:
        return self.manage("runserver", f"127.0.0.1:{self.site_port}")

    def worker(self) -> list[str]:
        # At a lower CPU priority than the site: on a small machine a long import or sync
        # otherwise slows sign-in past a second (bench/site_load.py measured it).
        return ["nice", "-n", str(WORKER_NICENESS), *self.manage("qcluster")]


def banner(plan: Plan) -> list[str]:
    site = plan.site_url
    return [
        "",
        f"site      {site}/  (customers: demo@example.com / primer-demo)",
        f"admin     {site}/admin/  (ops: ops@example.com / primer-demo)",
        f"emulator  {plan.emulator_url}/  (control API {plan.emulator_url}/__emulator__/;"
        " sign in to Salesforce as integration@example.com / emulator)",
        "worker    manage.py qcluster; schedules: scheduler tick twice a minute, reconcile hourly",
        "Ctrl-C stops all three.",
        "",
    ]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The site, a worker and the emulator together.")
    parser.add_argument("--port", type=int, default=8000, help="site port (default 8000)")
    parser.add_argument(
        "--emulator-port", type=int, default=8765, help="emulator port (another if busy)"
    )
    parser.add_argument("--profile", default="demo", help="emulator profile (default demo)")
    return parser.parse_args(argv)


def start_everything(supervisor: Supervisor, plan: Plan) -> bool:
    """Emulator, setup commands, site, worker; False (after saying why) if a step failed."""
    emulator = supervisor.start("emulator", plan.emulator())
    if not supervisor.wait_until_ready(emulator, plan.emulator_url + "/__emulator__/"):
        supervisor.say("the emulator did not come up")
        return False
    for name, argv in plan.setup():
        if supervisor.run(name, argv) != 0:
            supervisor.say(f"`{' '.join(argv[1:])}` failed")
            return False
    web = supervisor.start("web", plan.web())
    if not supervisor.wait_until_ready(web, plan.site_url + "/accounts/login/"):
        supervisor.say("the site did not come up")
        return False
    supervisor.start("worker", plan.worker())
    return not supervisor.stopping.is_set()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    plan = Plan(free_port(args.port), free_port(args.emulator_port), args.profile)
    env = {**os.environ, "EMULATOR_URL": plan.emulator_url, "PYTHONUNBUFFERED": "1"}
    supervisor = Supervisor(env=env)
    supervisor.install_signal_handlers()
    for wanted, got, what in (
        (args.port, plan.site_port, "site"),
        (args.emulator_port, plan.emulator_port, "emulator"),
    ):
        if wanted != got:
            supervisor.say(f"port {wanted} is busy: the {what} uses {got} instead")
    if not start_everything(supervisor, plan):
        supervisor.stop_all()
        return 0 if supervisor.stopping.is_set() else 1
    for line in banner(plan):
        supervisor.say(line)
    return supervisor.watch()


if __name__ == "__main__":
    sys.exit(main())
