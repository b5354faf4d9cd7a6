"""What happens to a connection, announced to the apps above this one (ingestion subscribes in
its ``AppConfig.ready``). connections imports nothing of those apps: it only sends these.

``connection_authorized``: a connection was (re)authorized, its row is saved and it is active.
    Sent with ``sender=Connection`` and ``connection=<Connection>``. A receiver may return a
    notice for the customer (a string, e.g. why the first sync could not be queued) or None.
``connection_disconnected``: a connection was disconnected. Sent inside the disconnect's
    transaction (so what receivers write commits or rolls back with it), with
    ``sender=Connection``, ``connection=<Connection>`` and ``delete_data`` (the customer asked
    for the synced data to be deleted too).
``connection_status_changed``: a connection's status changed (for example to
    ``needs_reauth`` after Salesforce revoked its token, or back to ``active``). Sent after the
    database commit with ``sender=Connection``, ``connection=<Connection>`` and
    ``previous=<old status>`` (alerts and pages listen).
"""

from django.dispatch import Signal

connection_authorized = Signal()
connection_disconnected = Signal()
connection_status_changed = Signal()
