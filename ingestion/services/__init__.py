"""Writes of the ingestion app: runs, the sync engine's entry points, records and cursors."""
