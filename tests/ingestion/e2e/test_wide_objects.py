"""A real org's shape: a wide Account (650 custom fields) with Person Accounts on.

No request may exceed Salesforce's 16,384 bytes of request line (414) or of line and headers
(431); the emulator refuses such requests as Salesforce does and its counters record the
largest request seen, so they prove it.
"""

import pytest

from audiences import services
from audiences.selectors import audience_size_estimate, audience_spec
from audiences.selectors.compiler import audience_records
from ingestion.engine.state import FieldPlan
from ingestion.engine.windows import field_groups
from ingestion.models import ObjectCursor, SyncRun
from tests.connections.emulated import start_emulator
from tests.ingestion.e2e.conftest import ALL_OBJECTS, assert_copy_equals_org, run_sync

LIMIT = 16_384


@pytest.fixture
def wide_org(settings):
    settings.INGESTION = {
        **settings.INGESTION,
        "POLL_INITIAL_SECONDS": 0.05,
        "POLL_MAX_SECONDS": 0.2,
        "RETRY_MAX_WAIT_SECONDS": 0.05,
    }
    emulated = start_emulator(settings, custom_fields={"Account": 650}, person_accounts=True)
    yield emulated
    emulated.server.stop()


def assert_within_limits(org) -> None:
    counters = org.counters()
    assert counters["refused_requests"] == {}
    assert counters["largest_request_line"] <= LIMIT
    assert counters["largest_request_line"] + 2 + counters["largest_request_headers"] <= LIMIT


def test_a_wide_person_account_org_syncs_whole_and_within_request_limits(
    wide_org, connect_as_factory
):
    org = wide_org.org
    connection = connect_as_factory(wide_org, objects=ALL_OBJECTS)

    initial = run_sync(connection)
    assert initial.status == SyncRun.Status.SUCCEEDED, initial.error_message
    plan = FieldPlan.from_json(ObjectCursor.objects.get(sobject="Account").field_plan)
    assert sum(name.endswith("__c") for name in plan.bulk_fields) >= 650
    assert len(field_groups("Account", plan.bulk_fields, plan.cursor_field)) > 1

    org.apply_random_changes(1000, seed=17)
    incremental = run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)
    assert incremental.status == SyncRun.Status.SUCCEEDED, incremental.error_message
    # The Account window went over REST, one query per field group: no Bulk job needed.
    assert incremental.bulk_jobs == 0
    assert incremental.api_calls_by_kind["query"] > len(ALL_OBJECTS)

    reconcile = run_sync(connection, kind=SyncRun.Kind.RECONCILE)
    assert reconcile.status == SyncRun.Status.SUCCEEDED, reconcile.error_message
    for sobject in ALL_OBJECTS:
        assert_copy_equals_org(wide_org, connection, sobject)
    assert_within_limits(org)

    # A people audience counts each person account once: as its Contact row, not again as
    # its Account.
    people = {
        a["PersonContactId"]
        for a in org.iter_records("Account", include_deleted=False)
        if a["IsPersonAccount"]
    }
    assert people
    connection.refresh_from_db()
    audience = services.audience_create(
        workspace=connection.workspace,
        connection=connection,
        name="Person accounts",
        holds="people",
        criteria={
            "type": "group",
            "match": "all",
            "children": [
                {
                    "type": "condition",
                    "object": "Account",
                    "field": "IsPersonAccount",
                    "operator": "is_true",
                    "value": None,
                }
            ],
        },
    )
    spec = audience_spec(audience=audience)
    contacts = audience_records(spec=spec, target="Contact").values_list("sf_id", flat=True)
    assert sorted(contacts) == sorted(people)
    assert audience_size_estimate(spec=spec).by_object["Contact"] == len(people)


def _new_accounts(org, n: int) -> None:
    for i in range(n):
        org.create("Account", {"Name": f"Wide {i}"})


def test_a_wide_window_of_several_pages_is_read_over_rest_and_merged_by_id(
    wide_org, connect_as_factory, settings
):
    settings.INGESTION = {**settings.INGESTION, "READ_MODE": "rest"}
    org = wide_org.org
    connection = connect_as_factory(wide_org, objects=["Account"])
    run_sync(connection)
    _new_accounts(org, 450)
    org.apply_random_changes(200, seed=5)

    run = run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    assert run.bulk_jobs == 0
    # Two long text areas in a query make Salesforce serve 200 rows a page: the first group's
    # three pages, and one query over each page's Id range for the second group.
    assert run.api_calls_by_kind == {"describe": 1, "query": 4, "query_more": 2}
    assert_copy_equals_org(wide_org, connection, "Account")
    assert_within_limits(org)


def test_a_wide_window_goes_to_bulk_when_a_job_costs_fewer_calls(wide_org, connect_as_factory):
    org = wide_org.org
    connection = connect_as_factory(wide_org, objects=["Account"])
    run_sync(connection)
    _new_accounts(org, 450)

    run = run_sync(connection, kind=SyncRun.Kind.INCREMENTAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error_message
    # REST would take 2 groups x 3 pages; the job takes a create, a poll and a result page.
    assert run.bulk_jobs == 1
    assert run.api_calls_by_kind["query"] == 1  # the first page, which also counted the window
    assert_copy_equals_org(wide_org, connection, "Account")
    assert_within_limits(org)
