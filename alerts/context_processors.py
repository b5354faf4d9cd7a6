"""The header's alert count: open alerts in the signed-in user's workspaces."""

from django.utils.functional import SimpleLazyObject

from alerts.selectors import alerts_for_user


def open_alerts(request) -> dict:
    """``open_alert_count``, computed only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"open_alert_count": 0}

    def count() -> int:
        return alerts_for_user(user=user).filter(resolved_at=None).count()

    return {"open_alert_count": SimpleLazyObject(count)}
