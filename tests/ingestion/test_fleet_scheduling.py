"""The scheduler tick at fleet scale: a constant number of queries, and long Bulk work on its
own queue so one connection's initial load never holds up the others' incremental syncs."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

from connections.models import Connection
from ingestion.models import DataPurge, SyncRun
from ingestion.services.purge import data_purge_hand_out
from ingestion.services.runs import sync_run_enqueue
from ingestion.services.schedule import schedule_tick


@pytest.fixture
def queued():
    """async_task replaced: what was queued where (the real one would run the task inline)."""
    calls = []

    def fake(func, *args, **kwargs):
        calls.append((func, args, kwargs.get("cluster")))
        return f"task-{len(calls)}"

    with (
        mock.patch("ingestion.services.runs.async_task", fake),
        mock.patch("ingestion.services.purge.async_task", fake),
    ):
        yield calls


def _fleet(connection_factory, sync_run_factory, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        due = connection_factory(
            next_sync_at=now - timedelta(minutes=1),
            initial_sync_completed_at=now if i % 2 else None,
        )
        if i % 3 == 0:  # a paused run whose time has come
            sync_run_factory(
                due, status=SyncRun.Status.PAUSED, resume_at=now - timedelta(seconds=1)
            )


def _tick_queries(django_capture_on_commit_callbacks) -> tuple[dict, int]:
    with (
        CaptureQueriesContext(db) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = schedule_tick()
    return result, len(queries)


def test_the_tick_costs_the_same_queries_for_3_or_30_connections(
    connection_factory, sync_run_factory, queued, django_capture_on_commit_callbacks
):
    _fleet(connection_factory, sync_run_factory, 3)
    small, small_queries = _tick_queries(django_capture_on_commit_callbacks)
    SyncRun.objects.all().delete()
    _fleet(connection_factory, sync_run_factory, 27)
    large, large_queries = _tick_queries(django_capture_on_commit_callbacks)
    assert (small["started"], small["resumed"]) == (2, 1)
    # the first three connections again (their runs were deleted), and 27 more, 9 paused
    assert (large["started"], large["resumed"]) == (3 + 18, 9)
    assert large_queries == small_queries
    assert len(queued) == 3 + 30
    runs = SyncRun.objects.filter(status=SyncRun.Status.QUEUED)
    assert runs.count() == 30
    assert set(runs.values_list("task_id", flat=True)) >= {"task-4", "task-33"}


def test_a_new_connection_gets_an_initial_load_and_a_loaded_one_an_incremental(
    connection_factory, queued, django_capture_on_commit_callbacks
):
    now = timezone.now()
    fresh = connection_factory(next_sync_at=None)
    loaded = connection_factory(next_sync_at=now, initial_sync_completed_at=now)
    connection_factory(next_sync_at=now + timedelta(minutes=5), initial_sync_completed_at=now)
    _tick_queries(django_capture_on_commit_callbacks)
    kinds = dict(SyncRun.objects.values_list("connection_id", "kind"))
    assert kinds == {fresh.pk: "initial", loaded.pk: "incremental"}


def test_without_a_loads_queue_everything_goes_to_the_default_one(
    connection_factory, queued, django_capture_on_commit_callbacks
):
    connection_factory(next_sync_at=None)
    _tick_queries(django_capture_on_commit_callbacks)
    assert [cluster for *_, cluster in queued] == [None]


def test_long_bulk_work_goes_to_the_loads_queue(
    connection_factory, queued, settings, django_capture_on_commit_callbacks
):
    settings.INGESTION_LOADS_QUEUE = "primer_sf_loads"
    now = timezone.now()
    fresh = connection_factory(next_sync_at=None)
    loaded = connection_factory(next_sync_at=now, initial_sync_completed_at=now)
    _tick_queries(django_capture_on_commit_callbacks)
    by_run = {args[0]: cluster for _, args, cluster in queued}
    runs = {run.connection_id: run.pk for run in SyncRun.objects.all()}
    assert by_run == {runs[fresh.pk]: "primer_sf_loads", runs[loaded.pk]: None}
    SyncRun.objects.all().update(status=SyncRun.Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        for kind in ("full_resync", "object_resync", "reconcile"):
            run = sync_run_enqueue(connection=loaded, kind=kind, trigger="admin")
            SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED)
    assert [cluster for *_, cluster in queued[2:]] == ["primer_sf_loads"] * 3


def test_data_deletion_goes_to_the_loads_queue(connection, queued, settings):
    settings.INGESTION_LOADS_QUEUE = "primer_sf_loads"
    Connection.objects.filter(pk=connection.pk).update(status="disconnected")
    data_purge_hand_out(purge=DataPurge.objects.create(connection=connection))
    assert queued == [(mock.ANY, mock.ANY, "primer_sf_loads")]


def test_on_redis_a_tick_pushes_all_its_tasks_in_one_round_trip(
    connection_factory, django_capture_on_commit_callbacks
):
    pushed, sent = [], []

    class Pipeline:
        def rpush(self, key, task):
            pushed.append(key)

        def execute(self):
            sent.append(len(pushed))

    class Connection:
        def pipeline(self, transaction):
            return Pipeline()

        def rpush(self, key, task):
            raise AssertionError("one round trip per task")

    broker = Redis.__new__(Redis)
    broker.list_key, broker.connection = "django_q:primer_sf:q", Connection()
    for _ in range(3):
        connection_factory(next_sync_at=None)
    with (
        mock.patch("ingestion.services.runs.get_broker", return_value=broker),
        mock.patch.object(Conf, "SYNC", False),
    ):
        result, _ = _tick_queries(django_capture_on_commit_callbacks)
    assert result["started"] == 3
    assert (pushed, sent) == (["django_q:primer_sf:q"] * 3, [3])
