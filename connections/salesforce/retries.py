"""How many requests a sync spends on one piece of Salesforce work before it gives up: the
bound, stated once, here.

Two layers retry a transient failure (``SalesforceUnavailable``: 5xx, ``SERVER_UNAVAILABLE``,
``UNABLE_TO_LOCK_ROW``, timeouts, dropped connections, a download cut off mid-stream):

- the client (``SalesforceClient._request``) sends one request up to ``REQUEST_TRIES`` times,
  sleeping with exponential backoff and jitter between tries;
- the sync engine (``ObjectReader.step``) does a step again (create a Bulk job, poll it, read
  one result or REST page) after a wait that does not hold up the run's other objects. Only it
  can retry a download cut off mid-stream: the client had already returned that response.

Left alone the two multiply (5 engine tries of 5 client tries: 25 requests for one page). So
the engine counts the requests its failed tries of a step cost, the client's retries included,
and tries again only while another try, even one spending all of the client's tries, stays
within ``TRIES_PER_PAGE`` (``may_try_again``). A step failing with server errors is tried 3
times (15 requests); a page cut off every time 11 times. Past that the run pauses at its
checkpoint (``salesforce_unavailable``) and the scheduler resumes it five minutes later.
"""

# The bound: requests one step of a sync (one page, one poll, one job creation) costs at most.
TRIES_PER_PAGE = 15
# The client's share: tries of one request (the default of ``SalesforceClient``, which never
# takes more than TRIES_PER_PAGE).
REQUEST_TRIES = 5


def may_try_again(*, spent: int, request_tries: int) -> bool:
    """Whether the engine may try a step again after its failed tries cost ``spent`` requests,
    when the client may spend up to ``request_tries`` on the next one."""
    return spent + request_tries <= TRIES_PER_PAGE
