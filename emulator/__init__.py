"""A local Salesforce org: OAuth, REST, Bulk API 2.0, generated data at scale, and faults.

    from emulator import Org, EmulatorServer
    org = Org.from_profile("tiny", seed=42)
    server = EmulatorServer(org, host="127.0.0.1", port=0).start()
    ...
    server.stop()

Standalone: imports nothing from Django or the project's apps.
"""

from emulator.org import LATEST_VERSION, Org
from emulator.server import EmulatorServer
from emulator.web.app import make_wsgi_app

__all__ = ["LATEST_VERSION", "EmulatorServer", "Org", "make_wsgi_app"]
