"""The demo app: ``manage.py demo`` (``management/commands/demo.py``) and the story behind it,
told against a local emulated org: the real OAuth flow, an initial sync, changes and deletes in
the org, an incremental sync, a reconciliation, a summary.

``emulator.py`` runs the emulator as a subprocess and speaks its control API, ``browser.py``
plays the customer's browser on the emulator's consent page, ``story.py`` holds the steps
(through the same services the site and the worker use) and ``summary.py`` prints the tables.
The demo sits above connections, ingestion and audiences; none of them imports it.
"""
