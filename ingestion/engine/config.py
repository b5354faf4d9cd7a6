"""Tunables of the sync engine, from settings.INGESTION (each overridable by environment)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import timedelta

from django.conf import settings


@dataclass(frozen=True)
class EngineConfig:
    lookback_seconds: int = 600
    rest_threshold: int = 2000
    read_mode: str = "auto"
    max_bulk_jobs: int = 3
    max_window_records: int = 500_000
    page_max_records: int = 100_000
    # A large initial load (probe_min_records or more) whose first job is still running at
    # its first poll reads a small window first (the probe: 1/probe_parts of the first
    # window's span); each window after it is then cut to run about window_seconds at
    # Salesforce (more when the load would take over max_paced_windows of them), its rows
    # written while Salesforce runs the next (bulk_steps.BulkSteps._probe_first).
    probe_min_records: int = 100_000
    probe_parts: int = 8
    window_seconds: float = 10.0
    max_paced_windows: int = 12
    min_window_records: int = 20_000
    pages_ahead: int = 2  # Bulk result pages fetched ahead of the one written (API >= 58.0)
    slice_seconds: float = 120.0
    poll_initial_seconds: float = 1.0
    poll_max_seconds: float = 30.0
    job_deadline_seconds: int = 2 * 3600
    write_batch: int = 2000  # records per COPY (or upsert) of a page
    write_lanes: int = 2  # COPY streams of a load's page (records._LoadWriter)
    parse_helper: bool = True  # a load's pages parsed partly in a helper process
    retry_max_wait_seconds: float = 30.0
    heartbeat_seconds: float = 15.0
    stale_run_seconds: int = 300
    malloc_arenas: int = 1  # glibc heaps per worker process (records.limit_malloc_arenas)

    @property
    def lookback(self) -> timedelta:
        return timedelta(seconds=self.lookback_seconds)

    @classmethod
    def from_settings(cls, **overrides) -> EngineConfig:
        known = {f.name for f in fields(cls)}
        values = {k.lower(): v for k, v in getattr(settings, "INGESTION", {}).items()}
        config = cls(**{k: v for k, v in values.items() if k in known})
        return replace(config, **overrides)
