"""Signals other apps listen to. The first two are sent after the database commit.

``initial_sync_completed``: every required object of a connection finished its initial load.
    Sent with ``sender=Connection`` and ``connection=<Connection>``.
``sync_run_finished``: a sync run reached a final status (succeeded, partial, failed,
    cancelled) or paused. Sent with ``sender=SyncRun`` and ``run=<SyncRun>``.
``records_deleting``: a batch of a connection's records is about to be deleted, inside the
    batch's transaction, so rows that point at them go in the same commit. Sent with
    ``sender=IngestedRecord``, ``connection_id=<int>`` and ``record_ids=<list[int]>``.
``records_dropping``: every record of a connection is about to go at once (its PostgreSQL
    partition is dropped), inside that transaction. Sent with ``sender=IngestedRecord`` and
    ``connection_id=<int>``.
"""

from django.dispatch import Signal

initial_sync_completed = Signal()
sync_run_finished = Signal()
records_deleting = Signal()
records_dropping = Signal()
