"""The connections app: workspaces, Salesforce connections, OAuth and the client."""

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Salesforce connections"

    def ready(self) -> None:
        from connections import checks  # noqa: F401  (registers the system checks)
