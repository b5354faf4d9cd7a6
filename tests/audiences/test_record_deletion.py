"""Records deleted in batches (disconnect with data deletion) take their audience members and
CSV matches with them, in the same commit."""

from unittest import mock

from audiences.models import Audience, AudienceMember, CsvList, CsvRow, CsvRowMatch
from connections.services import connection_disconnect
from ingestion.models import IngestedRecord


def test_members_and_matches_of_deleted_records_go_with_them(
    ready_connection, record_factory, user, settings, django_capture_on_commit_callbacks
):
    settings.INGESTION = {**settings.INGESTION, "PURGE_BATCH_RECORDS": 2}
    records = [record_factory(ready_connection, "Contact", Email=f"p{n}@x.com") for n in range(5)]
    audience = Audience.objects.create(
        workspace=ready_connection.workspace, connection=ready_connection, name="All"
    )
    AudienceMember.objects.bulk_create(
        AudienceMember(audience=audience, record=r, sobject="Contact") for r in records
    )
    csv_list = CsvList.objects.create(
        workspace=ready_connection.workspace, name="People", kind="people", created_by=user
    )
    row = CsvRow.objects.create(csv_list=csv_list, row_number=1, is_valid=True)
    CsvRowMatch.objects.create(row=row, connection=ready_connection, record=records[3])
    with (
        mock.patch("connections.services.authorization.oauth.token_revoke", return_value=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        connection_disconnect(connection=ready_connection, delete_data=True)
    assert not IngestedRecord.objects.filter(connection=ready_connection).exists()
    assert not AudienceMember.objects.filter(audience=audience).exists()
    assert not CsvRowMatch.objects.exists()
    assert Audience.objects.filter(pk=audience.pk).exists()
    assert CsvRow.objects.filter(pk=row.pk).exists()
