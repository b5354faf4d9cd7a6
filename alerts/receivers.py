"""Receivers of the connection and sync signals: re-evaluate the connection's alerts.

Alerts must never break what they report on, so a failure here is logged, not raised (the
signals are sent from ``on_commit`` callbacks inside sync workers and OAuth callbacks).
"""

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from alerts.services import alerts_evaluate
from connections.models import Connection
from connections.signals import connection_status_changed
from ingestion.models import SyncRun
from ingestion.signals import sync_run_finished

logger = logging.getLogger(__name__)

# Saves that cannot change an alert (token refreshes, usage counters) are ignored.
_RELEVANT_FIELDS = {"status", "sf_username", "label"}


def _evaluate(connection: Connection) -> None:
    try:
        alerts_evaluate(connection=connection)
    except Exception:
        logger.exception("Alerts of connection %s could not be evaluated", connection.pk)


@receiver(sync_run_finished, dispatch_uid="alerts.after_sync_run")
def after_sync_run(sender, run: SyncRun, **kwargs) -> None:
    """A run finished or paused: it may open or resolve a sync or budget alert."""
    _evaluate(run.connection)


@receiver(connection_status_changed, dispatch_uid="alerts.after_status_change")
def after_status_change(sender, connection: Connection, **kwargs) -> None:
    """A connection needs reconnecting, stopped, or works again."""
    _evaluate(connection)


@receiver(post_save, sender=Connection, dispatch_uid="alerts.after_connection_saved")
def after_connection_saved(sender, instance: Connection, created: bool, update_fields, **kwargs):
    """Connecting, reconnecting and disconnecting save the whole row."""
    if update_fields is not None and not (set(update_fields) & _RELEVANT_FIELDS):
        return
    transaction.on_commit(lambda: _evaluate_with_siblings(instance))


def _evaluate_with_siblings(connection: Connection) -> None:
    """The connection, and the others signed in as the same Salesforce user: one more (or one
    fewer) connection of that user moves all of them nearer to (or away from) the approval
    limit."""
    _evaluate(connection)
    if not connection.sf_username:
        return
    siblings = Connection.objects.filter(sf_username__iexact=connection.sf_username).exclude(
        pk=connection.pk
    )
    for sibling in siblings:
        _evaluate(sibling)
