"""Reconnecting re-authorizes the same row: cursors and ingested records survive."""

from django.utils import timezone

from connections.models import Connection
from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from tests.connections.emulated import connect, consent, local_path, messages_of


def test_reconnect_keeps_the_row_its_cursors_and_its_records(client, world, emulated, enqueue):
    client.force_login(world["alice"])
    connect(client, world["acme"], "integration@example.com")
    connection = Connection.objects.get(org_id=emulated.org.org_id)
    now = timezone.now()
    ObjectCursor.objects.create(
        connection=connection, sobject="Contact", watermark=now, records_ingested=150
    )
    IngestedRecord.objects.create(
        connection=connection,
        sobject="Contact",
        sf_id="0038c0000010000AAA",
        data={"Id": "0038c0000010000AAA"},
        system_modstamp=now,
        first_seen_at=now,
        last_seen_at=now,
    )
    for _ in range(5):  # the sixth approval revokes ours
        emulated.org.issue_tokens("integration@example.com")
    Connection.objects.filter(pk=connection.pk).update(
        status="needs_reauth", status_reason="token_revoked"
    )
    old_refresh = connection.refresh_token

    authorize = client.post(f"/connections/{connection.pk}/reconnect/")["Location"]
    response = client.get(local_path(consent(authorize, "integration@example.com")), follow=True)

    assert response.redirect_chain[-1][0] == f"/connections/{connection.pk}/"
    assert messages_of(response)[0].startswith("Reconnected")
    stored = Connection.objects.get(pk=connection.pk)
    assert Connection.objects.filter(org_id=emulated.org.org_id).count() == 1
    assert (stored.status, stored.status_reason) == ("active", "")
    assert stored.refresh_token != old_refresh
    assert ObjectCursor.objects.get(connection=stored, sobject="Contact").records_ingested == 150
    assert IngestedRecord.objects.filter(connection=stored).count() == 1
    assert enqueue.call_args.kwargs["kind"] == SyncRun.Kind.INITIAL
    assert emulated.org.auth.state.refresh[old_refresh].revoked


def test_connecting_an_org_the_workspace_has_reuses_its_row(client, world, emulated, enqueue):
    client.force_login(world["alice"])
    connect(client, world["acme"], "integration@example.com")
    first = Connection.objects.get(org_id=emulated.org.org_id)
    review = connect(client, world["acme"], "admin@example.com")  # another user: confirm first
    assert Connection.objects.get(pk=first.pk).sf_username == "integration@example.com"
    response = client.post(review.redirect_chain[-1][0], {"choice": "new"}, follow=True)
    assert messages_of(response)[0] == f"Reconnected {first.label} as admin@example.com."
    assert Connection.objects.filter(org_id=emulated.org.org_id).count() == 1
    stored = Connection.objects.get(pk=first.pk)
    assert stored.sf_username == "admin@example.com"
