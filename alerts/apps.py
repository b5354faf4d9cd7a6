"""The alerts app: tells a workspace's people when a connection needs them, and when it is fine
again. It sits above connections and ingestion and only listens to their signals."""

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from alerts import receivers  # noqa: F401  (connects the connection and sync signals)
