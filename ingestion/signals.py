"""Signals other apps listen to. Both are sent after the database commit.

``initial_sync_completed``: every required object of a connection finished its initial load.
    Sent with ``sender=Connection`` and ``connection=<Connection>``.
``sync_run_finished``: a sync run reached a final status (succeeded, partial, failed,
    cancelled) or paused. Sent with ``sender=SyncRun`` and ``run=<SyncRun>``.
"""

from django.dispatch import Signal

initial_sync_completed = Signal()
sync_run_finished = Signal()
