"""The scheduler tick at fleet scale: part ``tick`` of ``python -m bench``.

    python -m bench --part tick                 # 1,000 connections, through the configured broker
    REDIS_URL=redis://127.0.0.1:6379/16 python -m bench --part tick

Creates the connections (active, half with their initial load done) in a workspace of its
own, then times ``schedule_tick()`` as the worker runs it (autocommit, the tasks really
enqueued) from two states: every connection due (a cold start: 1,000 runs to create and hand
out) and a tenth due (the steady state of 10-minute schedules ticked every minute). Each is
measured ``runs`` times from the same state; the queued tasks are purged from the broker's
default queue after each tick, so use a database (ORM broker) or Redis db of the bench's own.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.brokers import get_broker

from connections.models import Connection, Workspace
from ingestion.models import SyncRun
from ingestion.services.schedule import schedule_tick

WORKSPACE_SLUG = "bench-fleet"


def tick_part(*, connections: int = 1000, runs: int = 5) -> dict:
    """Median tick time and query count with every connection due, and with a tenth due."""
    print(f"\nScheduler tick, {connections:,} connections", flush=True)
    ids = _fleet(connections)
    broker = get_broker()
    results = {"connections": connections, "runs": runs, "broker": type(broker).__name__}
    for label, due in (("all_due", connections), ("tenth_due", connections // 10)):
        results[label] = _measure(ids, due, runs, broker)
        figures = results[label]
        print(
            f"  {due:>5,} due: median {figures['median_seconds']:.3f} s "
            f"({figures['queries']} queries + {figures['broker_queries']} by the broker, "
            f"{figures['started']:,} runs started)",
            flush=True,
        )
    _drop(ids)
    return results


def _fleet(count: int) -> list[int]:
    workspace, _ = Workspace.objects.get_or_create(slug=WORKSPACE_SLUG, defaults={"name": "Fleet"})
    _drop(list(workspace.connections.values_list("pk", flat=True)))
    now = timezone.now()
    Connection.objects.bulk_create(
        Connection(
            workspace=workspace,
            label=f"Fleet org {n}",
            login_host="https://login.salesforce.com",
            org_id=f"00DFLEET{n:07d}AAA",
            status=Connection.Status.ACTIVE,
            initial_sync_completed_at=now if n % 2 else None,
        )
        for n in range(count)
    )
    return list(workspace.connections.values_list("pk", flat=True))


def _measure(ids: list[int], due: int, runs: int, broker) -> dict:
    seconds, queries, broker_queries, started = [], 0, 0, 0
    for _ in range(runs):
        _reset(ids, due)
        with CaptureQueriesContext(db) as captured:
            begun = time.perf_counter()
            outcome = schedule_tick()
            seconds.append(time.perf_counter() - begun)
        # The ORM broker's enqueue is an INSERT per task: the broker's, not the tick's.
        broker_queries = sum(1 for q in captured if "django_q_ormq" in q["sql"])
        queries, started = len(captured) - broker_queries, outcome["started"]
        broker.purge_queue()
    return {
        "due": due,
        "median_seconds": round(statistics.median(seconds), 4),
        "seconds": [round(s, 4) for s in seconds],
        "queries": queries,
        "broker_queries": broker_queries,
        "started": started,
    }


def _reset(ids: list[int], due: int) -> None:
    """No runs; ``due`` connections due now, the others in five minutes."""
    SyncRun.objects.filter(connection_id__in=ids).delete()
    now = timezone.now()
    Connection.objects.filter(pk__in=ids).update(next_sync_at=now + timedelta(minutes=5))
    Connection.objects.filter(pk__in=ids[:due]).update(next_sync_at=now - timedelta(seconds=1))


def _drop(ids: list[int]) -> None:
    SyncRun.objects.filter(connection_id__in=ids).delete()
    Connection.objects.filter(pk__in=ids).delete()
