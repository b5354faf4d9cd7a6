"""Ops actions in the admin: cancel runs, reset cursors (with confirmation), see progress."""

from ingestion.models import ObjectCursor, SyncRun


def test_ops_cancel_a_running_sync(staff_client, connection, sync_run_factory):
    run = sync_run_factory(connection, status=SyncRun.Status.RUNNING)
    response = staff_client.post(
        "/admin/ingestion/syncrun/",
        {"action": "cancel_runs", "_selected_action": [run.pk], "confirmed": "yes"},
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED
    assert "ops@primer.example" in run.error_message


def test_resetting_cursors_asks_for_confirmation_first(staff_client, connection):
    cursor = ObjectCursor.objects.create(
        connection=connection, sobject="Lead", initial_load_complete=True, records_ingested=5
    )
    data = {"action": "reset_cursors", "_selected_action": [cursor.pk]}
    page = staff_client.post("/admin/ingestion/objectcursor/", data)
    assert page.status_code == 200
    assert "Yes, reset them" in page.content.decode()
    cursor.refresh_from_db()
    assert cursor.initial_load_complete

    staff_client.post("/admin/ingestion/objectcursor/", {**data, "confirmed": "yes"})
    cursor.refresh_from_db()
    assert not cursor.initial_load_complete
    assert cursor.records_ingested == 0


def test_the_connection_page_shows_progress_per_object(staff_client, connection):
    ObjectCursor.objects.create(
        connection=connection, sobject="Contact", records_ingested=250, estimated_total=1000
    )
    page = staff_client.get(f"/admin/connections/connection/{connection.pk}/change/")
    assert "250 of 1,000 (25%)" in page.content.decode()


def test_a_run_page_breaks_the_run_down_per_object(staff_client, connection, sync_run_factory):
    run = sync_run_factory(
        connection,
        status=SyncRun.Status.PARTIAL,
        api_calls_by_kind={"describe": 2, "bulk_create": 1},
        object_stats={"Campaign": {"status": "unreadable", "error": "Grant Read on Campaign"}},
    )
    html = staff_client.get(f"/admin/ingestion/syncrun/{run.pk}/change/").content.decode()
    assert "bulk_create: 1, describe: 2" in html
    assert "Grant Read on Campaign" in html


def test_a_full_resync_from_the_admin_resets_every_cursor(
    staff_client, connection, django_capture_on_commit_callbacks
):
    ObjectCursor.objects.create(connection=connection, sobject="Lead", initial_load_complete=True)
    with django_capture_on_commit_callbacks(execute=False):
        staff_client.post(
            "/admin/connections/connection/",
            {"action": "full_resync", "_selected_action": [connection.pk], "confirmed": "yes"},
        )
    run = SyncRun.objects.get()
    assert run.kind == SyncRun.Kind.FULL_RESYNC
    assert not ObjectCursor.objects.get(sobject="Lead").initial_load_complete


def test_the_connection_page_shows_api_calls_against_the_budget(staff_client, connection):
    from django.utils import timezone

    connection.org_api_max = 10_000
    connection.save()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    connection.api_usage.create(hour=hour, calls=120)
    page = staff_client.get(f"/admin/connections/connection/{connection.pk}/change/")
    assert "120 of this connection&#x27;s budget of 5,000 (50%)" in page.content.decode()
