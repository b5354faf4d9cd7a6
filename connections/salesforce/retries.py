"""How many times a sync tries one piece of Salesforce work before it gives up: the bound,
stated once, here.

Two layers retry a transient failure (``SalesforceUnavailable``: 5xx, ``SERVER_UNAVAILABLE``,
``UNABLE_TO_LOCK_ROW``, timeouts, dropped connections):

- the client (``SalesforceClient._request``) sends one request up to ``REQUEST_TRIES`` times,
  sleeping with exponential backoff and jitter between tries;
- the sync engine (``ObjectReader.step``) does a step again (create a Bulk job, poll it, read
  one result or REST page) after a wait that does not hold up the run's other objects. Only it
  can retry a download cut off mid-stream: the client had already returned that response.

Each engine try may spend all of the client's tries, so the two multiply. The engine's share is
therefore derived from the client's (``page_tries``): together they never send more than
``TRIES_PER_PAGE`` requests for one step. Past that the run pauses at its checkpoint
(``salesforce_unavailable``) and the scheduler resumes it five minutes later, from there.
"""

# The bound: requests one step of a sync (one page, one poll, one job creation) costs at most.
TRIES_PER_PAGE = 15
# The client's share: tries of one request (the default of ``SalesforceClient``).
REQUEST_TRIES = 5


def page_tries(request_tries: int) -> int:
    """How often the engine may do a step whose every request the client tries
    ``request_tries`` times, staying within ``TRIES_PER_PAGE`` (and trying at least once)."""
    return max(1, TRIES_PER_PAGE // max(1, request_tries))
