"""``make run``'s supervisor (scripts/run_all.py): starts children, prefixes their output, and
stops every one of them, grandchildren included. Short-lived fake commands stand in for the
site, the worker and the emulator."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from scripts.run_all import Plan, Supervisor

ROOT = Path(__file__).resolve().parent.parent
SLEEPER = "import time; print('ready', flush=True); time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
PARENT = (
    "import subprocess, sys, time; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print('grandchild', p.pid, flush=True); time.sleep(60)"
)


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """No such process, or only a zombie (nothing reaps orphans in some containers)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" in status.read()
    except FileNotFoundError:
        return True


@pytest.fixture
def supervisor():
    out = io.StringIO()
    supervisor = Supervisor(out=out, colour=False, stop_timeout=5)
    yield supervisor
    supervisor.stop_all()


def test_it_prefixes_each_childs_output_and_stops_them_all(supervisor):
    web = supervisor.start("web", py(SLEEPER))
    worker = supervisor.start("worker", py(SLEEPER))
    wait_for(lambda: supervisor.out.getvalue().count("ready") == 2)

    supervisor.stop_all()

    assert web.process.returncode is not None
    assert worker.process.returncode is not None
    lines = supervisor.out.getvalue().splitlines()
    assert "web      | ready" in lines
    assert "worker   | ready" in lines
    assert "run_all  | stopping worker, web" in lines


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout():
    supervisor = Supervisor(out=io.StringIO(), colour=False, stop_timeout=0.5)
    child = supervisor.start("stubborn", py(STUBBORN))
    wait_for(lambda: "ready" in supervisor.out.getvalue())

    started = time.monotonic()
    supervisor.stop_all()

    assert child.process.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert "did not stop within" in supervisor.out.getvalue()


def test_what_a_child_started_is_stopped_with_it(supervisor):
    supervisor.start("parent", py(PARENT))
    wait_for(lambda: "grandchild" in supervisor.out.getvalue())
    pid = int(supervisor.out.getvalue().split("grandchild")[1].split()[0])
    assert not gone(pid)

    supervisor.stop_all()

    wait_for(lambda: gone(pid), timeout=5)


def test_when_one_child_exits_the_others_are_stopped_and_the_status_is_1(supervisor):
    supervisor.start("crasher", py("import sys, time; time.sleep(0.3); sys.exit(3)"))
    survivor = supervisor.start("survivor", py(SLEEPER))

    assert supervisor.watch(poll=0.05) == 1

    assert survivor.process.returncode is not None
    assert "crasher  | " not in supervisor.out.getvalue()  # it printed nothing
    assert "crasher exited with status 3" in supervisor.out.getvalue()


def test_a_stop_request_ends_the_watch_with_status_0(supervisor):
    child = supervisor.start("web", py(SLEEPER))
    threading.Timer(0.3, supervisor.request_stop).start()

    assert supervisor.watch(poll=0.05) == 0

    assert child.process.returncode is not None


def test_a_one_off_command_runs_to_its_end_and_returns_its_status(supervisor):
    assert supervisor.run("setup", py("print('schedules'); raise SystemExit(0)")) == 0
    assert supervisor.run("setup", py("raise SystemExit(2)")) == 2
    assert "setup    | schedules" in supervisor.out.getvalue()
    assert supervisor.children == []


def test_ctrl_c_stops_the_supervisor_and_every_child():
    """The script as a process: SIGINT (Ctrl-C) stops the children and exits 0."""
    script = textwrap.dedent(
        f"""
        import sys
        from scripts.run_all import Supervisor
        s = Supervisor(colour=False, stop_timeout=5)
        s.install_signal_handlers()
        for name in ("emulator", "web", "worker"):
            child = s.start(name, [sys.executable, "-c", {SLEEPER!r}])
            s.say(f"pid {{child.process.pid}}", name)
        sys.exit(s.watch(poll=0.05))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    pids = []
    while len(pids) < 3:
        line = proc.stdout.readline()
        assert line, "the supervisor ended early"
        if "| pid " in line:
            pids.append(int(line.rsplit(" ", 1)[1]))
    wait_for(lambda: all(not gone(pid) for pid in pids))

    proc.send_signal(signal.SIGINT)

    assert proc.wait(timeout=15) == 0
    assert "stopping worker, web, emulator" in proc.stdout.read()
    wait_for(lambda: all(gone(pid) for pid in pids), timeout=5)


def test_make_run_starts_the_emulator_the_setup_the_site_and_a_worker():
    plan = Plan(site_port=8000, emulator_port=8765, profile="demo", python="py")

    assert plan.emulator() == [
        *("py", "-m", "emulator", "--host", "127.0.0.1"),
        *("--port", "8765", "--profile", "demo"),
    ]
    assert plan.setup() == [
        ("setup", ["py", "manage.py", "setupschedules"]),
        (
            "setup",
            [
                *("py", "manage.py", "demo", "--reconnect"),
                *("--emulator-url", "http://127.0.0.1:8765"),
            ],
        ),
    ]
    assert plan.web() == ["py", "manage.py", "runserver", "127.0.0.1:8000"]
    assert plan.worker() == ["nice", "-n", "10", "py", "manage.py", "qcluster"]


def test_the_children_run_in_their_own_process_groups(supervisor):
    child = supervisor.start("web", py(SLEEPER))
    wait_for(lambda: "ready" in supervisor.out.getvalue())
    assert os.getpgid(child.process.pid) == child.process.pid != os.getpgid(0)
