"""Against the emulator: connecting as the user whose profile hides fields says which ones."""

from connections.models import Connection
from emulator.users import FLS_HIDDEN
from tests.connections.emulated import connect


def _visibility_item(connection):
    return next(i for i in connection.preflight["items"] if i["key"] == "field_visibility")


def test_connecting_as_the_fls_user_names_the_hidden_fields(client, world, emulated, enqueue):
    client.force_login(world["alice"])
    response = connect(client, world["acme"], "fls@example.com")

    connection = Connection.objects.get(org_id=emulated.org.org_id)
    item = _visibility_item(connection)
    assert item["status"] == "warn"
    hidden = connection.field_visibility["objects"]
    for sobject in ("Account", "Contact", "Lead", "Opportunity"):
        assert {f["name"] for f in hidden[sobject]} == set(FLS_HIDDEN[sobject]), sobject
    html = response.content.decode()
    assert 'id="hidden-fields"' in html
    assert "Birthdate" in html


def test_a_user_who_sees_everything_passes(client, world, emulated, enqueue):
    client.force_login(world["alice"])
    connect(client, world["acme"], "integration@example.com")
    connection = Connection.objects.get(org_id=emulated.org.org_id)
    assert _visibility_item(connection)["status"] == "pass"
    assert connection.field_visibility["objects"] == {}
