"""A REST window read across a schema change starts again with the new field list."""

import pytest

from ingestion.models import IngestedRecord, ObjectCursor, SyncRun
from ingestion.services.runs import sync_run_enqueue
from ingestion.services.sync import sync_run_execute
from tests.ingestion.fake_salesforce import field_def


def _run(connection, config):
    run = sync_run_enqueue(
        connection=connection, kind=SyncRun.Kind.INITIAL, trigger=SyncRun.Trigger.COMMAND
    )
    sync_run_execute(run_id=run.pk, inline=True, config=config)
    run.refresh_from_db()
    return run


def test_a_field_added_mid_window_restarts_the_rest_pages(
    sync_connection, fake_org, engine_config, monkeypatch
):
    for n in range(10):
        fake_org.upsert("Contact", Name=f"Ada {n}")
    fake_org.rest_page_size = 3
    config = engine_config.__class__(**{**engine_config.__dict__, "read_mode": "rest"})
    sync_connection.enabled_objects = ["Contact"]
    sync_connection.save()
    from ingestion.engine import objects

    real_write, pages = objects.write_records, {"n": 0}

    def crashing_write(**kwargs):
        pages["n"] += 1
        if pages["n"] == 2:
            raise RuntimeError("worker killed")
        return real_write(**kwargs)

    monkeypatch.setattr(objects, "write_records", crashing_write)
    with pytest.raises(RuntimeError):
        _run(sync_connection, config)
    assert ObjectCursor.objects.get(sobject="Contact").locator  # mid-window, page 2 next
    fake_org.schema["Contact"].append(field_def("Segment__c"))
    for record in fake_org.records["Contact"].values():  # a new field's values, stamps unmoved
        record["Segment__c"] = "SMB"
    monkeypatch.setattr(objects, "write_records", real_write)

    assert _run(sync_connection, config).status == SyncRun.Status.SUCCEEDED
    stored = IngestedRecord.objects.filter(sobject="Contact")
    assert stored.count() == 10
    assert all(record.data.get("Segment__c") == "SMB" for record in stored)
