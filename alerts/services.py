"""Opening and resolving alerts, and emailing the workspace about them.

``alerts_evaluate`` is the one entry point: it compares what is wrong with a connection now
(``alerts.incidents``) with the alerts already open, opens an alert (and sends one email) for
each new problem and resolves (and sends one email for) each that went away. Evaluating again
with nothing changed does nothing, so the receivers may call it as often as they like.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alerts.incidents import Incident, connection_incidents
from alerts.models import Alert, AlertEmail, AlertPreference
from connections.models import Connection, Membership, Workspace

logger = logging.getLogger(__name__)


def alerts_evaluate(*, connection: Connection) -> list[Alert]:
    """Open alerts for new problems of ``connection`` and resolve those that went away.
    Returns the alerts opened or resolved by this call."""
    connection = Connection.objects.select_related("workspace").get(pk=connection.pk)
    incidents = connection_incidents(connection)
    open_alerts = {a.kind: a for a in Alert.objects.filter(connection=connection, resolved_at=None)}
    changed = []
    for kind, incident in incidents.items():
        if kind not in open_alerts:
            alert = _open(connection, kind, incident)
            if alert is not None:
                changed.append(alert)
    for kind, alert in open_alerts.items():
        if kind not in incidents and _resolve(alert, connection):
            changed.append(alert)
    return changed


def _open(connection: Connection, kind: str, incident: Incident) -> Alert | None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                workspace=connection.workspace,
                connection=connection,
                kind=kind,
                title=incident.title,
                message=incident.message,
                fix=incident.fix,
                opened_at=timezone.now(),
            )
    except IntegrityError:
        return None  # another worker opened it a moment ago and sends its email
    logger.info("Alert %s opened: %s %s", alert.pk, connection.pk, kind)
    alert_send(alert=alert, event=AlertEmail.Event.OPENED)
    return alert


def _resolve(alert: Alert, connection: Connection) -> bool:
    now = timezone.now()
    resolution = _resolution(alert, connection)
    # Conditional update: of two workers resolving at once only one sends the email.
    updated = Alert.objects.filter(pk=alert.pk, resolved_at=None).update(
        resolved_at=now, resolution=resolution, updated_at=now
    )
    if not updated:
        return False
    alert.resolved_at, alert.resolution = now, resolution
    if connection.status != Connection.Status.DISCONNECTED:
        alert_send(alert=alert, event=AlertEmail.Event.RESOLVED)
    return True


def _resolution(alert: Alert, connection: Connection) -> str:
    if connection.status == Connection.Status.DISCONNECTED:
        return "The connection was disconnected."
    return {
        "needs_reauth": "The connection was reconnected and works again.",
        "connection_error": "The problem is fixed: the connection works again.",
        "sync_failed": "The latest sync succeeded.",
        "run_paused": "The paused sync resumed and finished.",
        "approval_limit": "The Salesforce user now holds fewer connections with primer.",
    }.get(alert.kind, "Resolved.")


def alert_recipients(*, workspace: Workspace) -> list[str]:
    """Owners, unless they opted out, plus members who opted in; each with an email."""
    choices = dict(
        AlertPreference.objects.filter(workspace=workspace).values_list("user_id", "email")
    )
    members = Membership.objects.filter(workspace=workspace).select_related("user")
    emails = []
    for membership in members:
        wants = choices.get(membership.user_id, membership.role == Membership.Role.OWNER)
        if wants and membership.user.email and membership.user.is_active:
            emails.append(membership.user.email)
    return sorted(set(emails))


def alert_send(*, alert: Alert, event: str) -> AlertEmail | None:
    """Email the workspace's recipients about ``alert`` opening or being resolved, and keep a
    copy for ops. A mail failure is recorded, never raised: a sync must not fail on it."""
    recipients = alert_recipients(workspace=alert.workspace)
    if not recipients:
        return None
    subject, body = _compose(alert, event)
    record = AlertEmail(alert=alert, event=event, subject=subject, body=body, recipients=recipients)
    try:
        send_mail(subject, body, None, recipients)
    except Exception as error:
        logger.warning("Alert %s email could not be sent: %r", alert.pk, error)
        record.error = f"{type(error).__name__}: {error}"[:500]
    record.sent_at = timezone.now()
    record.save()
    return record


def _compose(alert: Alert, event: str) -> tuple[str, str]:
    connection = alert.connection
    if event == AlertEmail.Event.RESOLVED:
        subject = f"Resolved: {connection.label} - {alert.title}"
    else:
        subject = f"{connection.label}: {alert.title}"
    context = {
        "alert": alert,
        "connection": connection,
        "event": event,
        "link": settings.SITE_URL + reverse("connections:detail", args=[connection.pk]),
        "alerts_link": settings.SITE_URL + reverse("alerts:list"),
    }
    return subject[:250], render_to_string("alerts/email.txt", context)


def alert_preference_set(*, workspace: Workspace, user, email: bool) -> AlertPreference:
    """Turn alert emails on or off for one member of a workspace."""
    preference, _ = AlertPreference.objects.update_or_create(
        workspace=workspace, user=user, defaults={"email": email}
    )
    return preference


def alert_receives_email(*, workspace: Workspace, user) -> bool:
    """Whether ``user`` gets this workspace's alert emails now."""
    return user.email in alert_recipients(workspace=workspace)
