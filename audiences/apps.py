"""The audiences app: audiences over ingested records, CSV lists, the filter compiler."""

from django.apps import AppConfig


class AudiencesConfig(AppConfig):
    name = "audiences"
    verbose_name = "Audiences"

    def ready(self) -> None:
        from audiences import receivers  # noqa: F401  (connects the ingestion signals)
