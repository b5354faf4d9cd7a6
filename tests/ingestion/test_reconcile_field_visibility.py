"""Every reconciliation checks again which fields field-level security hides from the user."""

from connections.models import Connection
from ingestion.models import SyncRun
from tests.ingestion.fake_salesforce import field_def
from tests.ingestion.test_sync_engine import _run, _seed


def test_a_reconciliation_records_the_fields_hidden_from_the_user(
    sync_connection, fake_org, engine_config
):
    _seed(fake_org)
    _run(sync_connection, config=engine_config)
    fake_org.hidden_fields["Contact"] = [field_def("Salary__c", "currency", label="Salary")]

    run = _run(sync_connection, kind=SyncRun.Kind.RECONCILE, config=engine_config)

    assert run.status == SyncRun.Status.SUCCEEDED
    report = Connection.objects.get(pk=sync_connection.pk).field_visibility
    assert report["objects"] == {"Contact": [{"name": "Salary__c", "label": "Salary"}]}

    fake_org.hidden_fields.clear()  # the admin granted Read: the next reconciliation says so
    _run(sync_connection, kind=SyncRun.Kind.RECONCILE, config=engine_config)
    assert Connection.objects.get(pk=sync_connection.pk).field_visibility["objects"] == {}
