"""The ingestion app: sync runs, cursors, ingested records and the sync engine."""

from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from ingestion import receivers  # noqa: F401  (connects the connections signals)
