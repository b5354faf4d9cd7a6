"""Two orgs behind one multi-org emulator, connected to one workspace the way customers connect
real orgs: the same login host, a different integration user each, and each connection lands
on its own org's instance URL and org id."""

import pytest

from connections.models import Connection
from emulator.registry import MultiOrgServer, OrgRegistry
from ingestion.models import IngestedRecord
from tests.connections.emulated import CALLBACK, connect

USERS = ("integration@example.com", "integration@org2.example.com")


@pytest.fixture
def two_orgs(settings):
    registry = OrgRegistry.from_profile("tiny", 2, seed=1, redirect_uris=(CALLBACK,))
    server = MultiOrgServer(registry, port=0).start()
    settings.SALESFORCE_LOGIN_URL = server.base_url
    settings.SALESFORCE_CLIENT_ID = "emulator-client-id"
    settings.SALESFORCE_CLIENT_SECRET = "emulator-client-secret"
    settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS = ["127.0.0.1"]
    settings.SALESFORCE_REQUEST_TIMEOUT = 10
    settings.SALESFORCE_RETRY_MAX_WAIT = 0
    yield registry, server
    server.stop()


def test_each_user_connects_its_own_org(client, world, two_orgs, enqueue):
    registry, server = two_orgs
    client.force_login(world["alice"])
    for username in USERS:
        connect(client, world["acme"], username)
    ours = Connection.objects.filter(workspace=world["acme"], login_host=server.base_url)
    connections = {c.sf_username: c for c in ours}
    assert set(connections) == set(USERS)
    for username, org in zip(USERS, registry.orgs, strict=True):
        connection = connections[username]
        assert connection.status == Connection.Status.ACTIVE
        assert (connection.org_id, connection.instance_url) == (org.org_id, org.base_url)
        assert connection.login_host == server.base_url
        assert connection.access_token.startswith(org.org_id[:15] + "!")
        # the permission checks ran against this org alone, on its own API counter
        assert org.api_usage()[0] > 0
    assert connections[USERS[0]].org_id != connections[USERS[1]].org_id
    assert enqueue.call_count == 2


def test_both_orgs_load_into_their_own_copies(
    client, world, two_orgs, django_capture_on_commit_callbacks
):
    registry, _ = two_orgs
    client.force_login(world["alice"])
    with django_capture_on_commit_callbacks(execute=True):  # the initial syncs run inline
        for username in USERS:
            connect(client, world["acme"], username)
    for org in registry.orgs:
        connection = Connection.objects.get(org_id=org.org_id)
        assert connection.initial_sync_completed_at is not None
        copy = IngestedRecord.objects.filter(connection=connection)
        contacts = {r.sf_id: r.data["LastName"] for r in copy.filter(sobject="Contact")}
        truth = {r["Id"]: r["LastName"] for r in org.iter_records("Contact", include_deleted=True)}
        assert contacts == truth
        assert org.counters()["jobs_created"] > 0  # each org served its own Bulk jobs
