"""Receivers of the connections signals: what ingestion does when a connection changes."""

from django.dispatch import receiver

from connections.signals import connection_disconnected
from ingestion.services.purge import data_purge_request


@receiver(connection_disconnected, dispatch_uid="ingestion.purge_on_disconnect")
def purge_on_disconnect(sender, connection, delete_data: bool, **kwargs) -> None:
    """Queue the deletion of the connection's records when the customer asked for it."""
    if delete_data:
        data_purge_request(connection=connection)
