"""The error every app raises for a request it refuses, worded for the person who made it.

It lives here, below every app, so connections, ingestion and audiences (and their pages) share
it without importing one another.
"""


class ApplicationError(Exception):
    """An illegal request (e.g. a sync of a disconnected connection), worded for a person."""

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
