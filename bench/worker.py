"""One sync run executed in a process of its own, so the benchmark can read its peak memory.

    python -m bench.worker RUN_ID EMULATOR_URL

Runs every slice of the run in this process (``sync_run_execute(inline=True)``), as a queue
worker would one after another, with this process's Salesforce settings pointed at the
emulator. Engine settings come from the environment (e.g. INGESTION_READ_MODE=rest).
Exits 0 when the run was worked on, whatever its outcome (the run row records it).
"""

from __future__ import annotations

import json
import sys

from bench.database import django_setup


def main(argv: list[str]) -> int:
    run_id, base_url = int(argv[0]), argv[1]
    django_setup()
    from demo.story import salesforce_settings
    from ingestion.services.sync import sync_run_execute

    with salesforce_settings(base_url):
        outcome = sync_run_execute(run_id=run_id, inline=True)
    print(json.dumps(outcome), flush=True)
    # "skipped": another process holds the run's lease, so nothing here was measured.
    return 1 if outcome["status"] == "skipped" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
