"""Alerts from real runs of the sync engine (against the fake org): an unreadable object makes
the run partial and emails once; the next good run emails that it is resolved."""

import pytest
from django.core import mail

from alerts.models import Alert
from ingestion.models import SyncRun
from tests.ingestion.test_sync_engine import _run, _seed

pytestmark = pytest.mark.django_db


def test_a_partial_sync_alerts_once_and_its_recovery_once(
    sync_connection, fake_org, engine_config, django_capture_on_commit_callbacks, workspace
):
    sync_connection.workspace = workspace  # owned by customer@acme.example
    sync_connection.save()
    _seed(fake_org)
    with django_capture_on_commit_callbacks(execute=True):
        _run(sync_connection, config=engine_config)
    assert mail.outbox == []

    fake_org.unreadable.add("Contact")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run = _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
        assert run.status == SyncRun.Status.PARTIAL
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [f"{sync_connection.label}: sync finished incomplete"]
    assert mail.outbox[0].to == ["customer@acme.example"]

    fake_org.unreadable.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _run(sync_connection, kind=SyncRun.Kind.INCREMENTAL, config=engine_config)
    assert mail.outbox[-1].subject.startswith("Resolved: ")
    assert len(mail.outbox) == 2
    assert not Alert.objects.filter(resolved_at=None).exists()
