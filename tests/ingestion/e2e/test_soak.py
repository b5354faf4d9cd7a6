"""Soak: the demo org's initial and incremental syncs under steady faults — 5% server errors,
result pages cut mid-stream, access tokens expiring every few seconds — end with the same data
as a clean run. Prints what the faults cost in API calls."""

import pytest

from emulator import Org
from ingestion.models import SyncRun
from tests.connections.emulated import _server_for
from tests.ingestion.e2e.conftest import ALL_OBJECTS, assert_copy_equals_org, run_sync

# Tokens are meant to expire every two minutes; the syncs here take some 20 s, so they
# expire every 3 s of it instead, several refreshes per sync.
FAULTS = (
    "http_500:rate=0.05,seed=5;cut_stream:rate=0.2,after_rows=3000,seed=6;session_timeout:seconds=3"
)


class Live:
    def __init__(self, org, server):
        self.org, self.server, self.url = org, server, server.base_url


def _sync_story(settings, connect_as_factory, faults: str) -> tuple[Live, object, int]:
    org = Org.from_profile("demo", seed=42)
    if faults:
        org.faults.set_spec(faults)
    live = Live(org, _server_for(org))
    settings.SALESFORCE_LOGIN_URL = settings.SALESFORCE_SANDBOX_LOGIN_URL = live.url
    settings.SALESFORCE_CLIENT_ID = "emulator-client-id"
    settings.SALESFORCE_CLIENT_SECRET = "emulator-client-secret"
    settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS = ["127.0.0.1"]
    settings.SALESFORCE_RETRY_MAX_WAIT = 0
    connection = connect_as_factory(live)
    initial = run_sync(connection)
    assert initial.status == SyncRun.Status.SUCCEEDED, initial.error_message
    org.apply_random_changes(1000, seed=9)
    incremental = run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)
    assert incremental.status == SyncRun.Status.SUCCEEDED, incremental.error_message
    # Random changes hard-delete some campaign members: the reconciliation finds them.
    reconcile = run_sync(connection, kind=SyncRun.Kind.RECONCILE)
    assert reconcile.status == SyncRun.Status.SUCCEEDED, reconcile.error_message
    return live, connection, initial.api_calls + incremental.api_calls + reconcile.api_calls


@pytest.mark.slow
def test_syncs_under_steady_faults_end_with_the_orgs_data(settings, connect_as_factory, capsys):
    settings.INGESTION = {
        **settings.INGESTION,
        "POLL_INITIAL_SECONDS": 0.1,
        "PAGE_MAX_RECORDS": 10_000,
        "RETRY_MAX_WAIT_SECONDS": 0.1,
    }
    clean, _, clean_calls = _sync_story(settings, connect_as_factory, "")
    clean.server.stop()
    live, connection, faulty_calls = _sync_story(settings, connect_as_factory, FAULTS)
    try:
        for sobject in ALL_OBJECTS:
            assert_copy_equals_org(live, connection, sobject)
        grants = live.org.counters()["oauth_grants"].get("refresh_token", 0)
        assert grants >= 2  # tokens did expire and were refreshed
    finally:
        live.server.stop()
    with capsys.disabled():
        print(
            f"\nsoak: clean run {clean_calls} API calls; with faults {faulty_calls} "
            f"(+{faulty_calls - clean_calls}), {grants} token refreshes"
        )
