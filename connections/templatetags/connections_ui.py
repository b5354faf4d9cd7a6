"""Small presentation helpers for the connection pages (no data access)."""

from django import template

register = template.Library()

STATUS_BADGES = {
    "active": "badge-ok",
    "paused": "badge-warn",
    "pending": "badge-info",
    "needs_reauth": "badge-fail",
    "error": "badge-fail",
    "disconnected": "badge-idle",
    # What a connection is doing now (connections.views._display_status).
    "syncing": "badge-info",
    "queued": "badge-info",
}
RUN_BADGES = {
    "succeeded": "badge-ok",
    "running": "badge-info",
    "queued": "badge-info",
    "partial": "badge-warn",
    "paused": "badge-warn",
    "failed": "badge-fail",
    "cancelled": "badge-idle",
}


@register.filter
def status_badge(status: str) -> str:
    """The badge class for a connection status."""
    return STATUS_BADGES.get(status, "badge-idle")


@register.filter
def run_badge(status: str) -> str:
    """The badge class for a sync run status."""
    return RUN_BADGES.get(status, "badge-idle")


@register.filter
def duration(seconds) -> str:
    """Seconds as "2 h 5 min", "12 min" or "under a minute"."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@register.filter
def bar(percent) -> str:
    """A percentage clamped to 0-100 for a progress bar's width."""
    try:
        return f"{max(0.0, min(float(percent), 100.0)):.1f}"
    except (TypeError, ValueError):
        return "0"


@register.filter
def seconds(value) -> str:
    """A run's duration: "42 s", "3 min 5 s", "2 h 5 min"."""
    if value is None:
        return "—"
    total = int(value)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.filter
def parse_iso(value):
    """An ISO-8601 timestamp stored in JSON, as a datetime (``None`` if unreadable)."""
    from django.utils.dateparse import parse_datetime

    try:
        return parse_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
