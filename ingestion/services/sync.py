"""The sync engine's entry point (being built: see issue 5)."""


def sync_run_execute(*, run_id: int) -> dict:
    """Work on one sync run for a bounded slice."""
    raise NotImplementedError("the sync engine lands with issue 5")
