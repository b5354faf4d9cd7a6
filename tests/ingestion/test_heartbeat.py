"""The heartbeat thread: it keeps a working run's lease fresh, stops with the lease, and never
waits on a row a commit holds."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection as db
from django.utils import timezone

from ingestion.engine.config import EngineConfig
from ingestion.engine.context import RunContext
from ingestion.models import SyncRun

pytestmark = pytest.mark.django_db(transaction=True)


def _context(run, token="lease-1", heartbeat=0.05):
    config = EngineConfig(heartbeat_seconds=heartbeat, stale_run_seconds=300)
    return RunContext(run=run, config=config, lease_token=token)


@pytest.fixture
def running(connection, sync_run_factory):
    if db.vendor == "sqlite" and db.is_in_memory_db():
        pytest.skip("the heartbeat thread needs a database a second connection can see")
    old = timezone.now() - timedelta(minutes=10)
    return sync_run_factory(
        connection, status=SyncRun.Status.RUNNING, lease_token="lease-1", heartbeat_at=old
    )


def _heartbeat(run):
    return SyncRun.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk)


def test_a_working_run_keeps_its_heartbeat_fresh(running):
    ctx = _context(running)
    ctx.start_heartbeat()
    try:
        time.sleep(0.5)  # a long read: no commit meanwhile
        assert timezone.now() - _heartbeat(running) < timedelta(seconds=1)
    finally:
        ctx.stop_heartbeat()


def test_the_beats_stop_with_the_lease(running):
    ctx = _context(running)
    ctx.start_heartbeat()
    SyncRun.objects.filter(pk=running.pk).update(lease_token="taken-over")
    time.sleep(0.3)
    assert not ctx._beater.is_alive()
    ctx.stop_heartbeat()


def test_a_locked_row_is_skipped_not_waited_for(running):
    ctx = _context(running)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        from django.db import transaction

        with transaction.atomic():
            SyncRun.objects.select_for_update().get(pk=running.pk)
            locked.set()
            release.wait(5)
        db.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    locked.wait(5)
    ctx.start_heartbeat()
    time.sleep(0.3)
    started = time.monotonic()
    ctx.stop_heartbeat()  # returns at once: the thread never blocked on the lock
    assert time.monotonic() - started < 1
    release.set()
    holder.join()


def test_a_run_in_the_middle_of_a_long_commit_is_not_taken_over(running):
    from ingestion.services.schedule import schedule_tick

    locked, release = threading.Event(), threading.Event()

    def commit_a_long_page():
        from django.db import transaction

        with transaction.atomic():
            SyncRun.objects.select_for_update().get(pk=running.pk)
            locked.set()
            release.wait(5)
        db.close()

    worker = threading.Thread(target=commit_a_long_page)
    worker.start()
    locked.wait(5)
    try:
        assert schedule_tick()["taken_over"] == 0  # the stale heartbeat notwithstanding
    finally:
        release.set()
        worker.join()
    assert schedule_tick()["taken_over"] == 1  # no lock, stale heartbeat: the worker is gone
