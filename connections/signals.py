"""Signals of the connections app, for the apps above it (connections imports none of them).

``connection_disconnected``: a customer or ops disconnected a connection. Sent inside the
    disconnect's transaction, with ``sender=Connection``, ``connection=<Connection>`` and
    ``delete_data=<bool>`` (the customer asked for the ingested data to be deleted too), so
    what receivers write commits, or not, with the disconnect.
"""

from django.dispatch import Signal

connection_disconnected = Signal()
