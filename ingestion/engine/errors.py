"""How the engine stops: a paused run, a lost lease, a failed object."""

from __future__ import annotations

from datetime import datetime


class RunPaused(Exception):
    """The run stops at its checkpoint and resumes at ``resume_at`` (None: on reconnect)."""

    def __init__(self, code: str, message: str, resume_at: datetime | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.resume_at = resume_at


class LeaseLost(Exception):
    """Another worker owns the run now, or ops cancelled it: stop without writing."""


class ObjectFailed(Exception):
    """One object cannot be read this run; the others carry on and the run is partial."""

    def __init__(self, code: str, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.unreadable = unreadable
