"""Signals other apps listen to (alerts, pages). Sent after the database commit.

``connection_status_changed``: a connection's status changed (for example to
    ``needs_reauth`` after Salesforce revoked its token, or back to ``active``). Sent with
    ``sender=Connection``, ``connection=<Connection>`` and ``previous=<old status>``.
"""

from django.dispatch import Signal

connection_status_changed = Signal()
