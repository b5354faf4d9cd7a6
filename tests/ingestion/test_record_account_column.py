"""IngestedRecord.account_sf_id: the account a record belongs to, computed by the database from
``data`` (ingestion migration 0013), whichever way the record was written."""

import pytest
from django.utils import timezone

from ingestion.models import IngestedRecord, SyncRun
from tests.ingestion.test_sync_engine import _run

ACCOUNT = "001000000000001AAA"


def _store(connection, sobject, sf_id, **data):
    now = timezone.now()
    return IngestedRecord.objects.create(
        connection=connection,
        sobject=sobject,
        sf_id=sf_id,
        data={"Id": sf_id, **data},
        system_modstamp=now,
        first_seen_at=now,
        last_seen_at=now,
    )


def _accounts(connection):
    return dict(
        IngestedRecord.objects.filter(connection=connection).values_list("sf_id", "account_sf_id")
    )


@pytest.mark.django_db
def test_the_column_holds_each_objects_account_reference(connection):
    _store(connection, "Contact", "003A", AccountId=ACCOUNT)
    _store(connection, "Contact", "003B", AccountId=None)
    _store(connection, "Contact", "003C")
    _store(connection, "Opportunity", "006A", AccountId=ACCOUNT)
    # A lead's account is the one it was converted into; it has no AccountId of its own.
    _store(connection, "Lead", "00QA", ConvertedAccountId=ACCOUNT, AccountId="001OTHER")
    _store(connection, "Lead", "00QB", ConvertedAccountId=None)
    # Other objects have no account here, whatever their data holds.
    _store(connection, "Account", ACCOUNT, ParentId="001PARENT")
    _store(connection, "CampaignMember", "00vA", AccountId=ACCOUNT)
    _store(connection, "Case", "500A", AccountId=ACCOUNT)

    assert _accounts(connection) == {
        "003A": ACCOUNT,
        "003B": None,
        "003C": None,
        "006A": ACCOUNT,
        "00QA": ACCOUNT,
        "00QB": None,
        ACCOUNT: None,
        "00vA": None,
        "500A": None,
    }


@pytest.mark.django_db
def test_the_column_follows_the_record_when_data_changes(connection):
    record = _store(connection, "Contact", "003A", AccountId=ACCOUNT)
    IngestedRecord.objects.filter(pk=record.pk).update(data={"AccountId": "001000000000002AAA"})
    assert _accounts(connection) == {"003A": "001000000000002AAA"}


@pytest.mark.django_db
def test_the_sync_engines_writes_fill_it(sync_connection, fake_org, engine_config):
    """Through the engine's own writers: a first load (COPY into a load table on PostgreSQL)
    and an incremental upsert that moves a contact to another account."""
    first = fake_org.upsert("Account", Name="Acme")
    second = fake_org.upsert("Account", Name="Globex")
    ada = fake_org.upsert("Contact", Name="Ada", AccountId=first)
    bob = fake_org.upsert("Contact", Name="Bob")
    _run(sync_connection, config=engine_config)
    assert _accounts(sync_connection) == {first: None, second: None, ada: first, bob: None}

    fake_org.upsert("Contact", ada, AccountId=second)
    _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
    assert _accounts(sync_connection)[ada] == second
