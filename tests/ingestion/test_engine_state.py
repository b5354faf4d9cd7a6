"""The engine's saved state: one codec that round-trips and reads older shapes, and the
checkpoint's steps and transitions."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ingestion.engine.plan import build_plan, plan_hash
from ingestion.engine.state import (
    Checkpoint,
    FieldPlan,
    Pace,
    Pacing,
    PassState,
    Phase,
    Purpose,
    ReadMode,
    Step,
)
from ingestion.engine.windows import Window
from ingestion.models import ObjectCursor
from tests.ingestion.fake_salesforce import BASE_FIELDS, field_def

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# A plan exactly as the planner stored it before the state was typed.
STORED_PLAN = {
    "fields": {
        "Id": {
            "type": "id",
            "label": "Record ID",
            "calculated": False,
            "filterable": True,
            "nillable": False,
            "picklist_values": [],
            "reference_to": [],
            "compound_field_name": None,
        },
        "Status": {
            "type": "picklist",
            "label": "Status",
            "calculated": False,
            "filterable": True,
            "nillable": True,
            "picklist_values": ["Open", "Closed"],
            "reference_to": [],
            "compound_field_name": None,
        },
        "SystemModstamp": {
            "type": "datetime",
            "label": "System Modstamp",
            "calculated": False,
            "filterable": True,
            "nillable": False,
            "picklist_values": [],
            "reference_to": [],
            "compound_field_name": None,
        },
    },
    "bulk_fields": ["Id", "Status", "SystemModstamp"],
    "rest_fields": [],
    "compounds": {},
    "cursor_field": "SystemModstamp",
    "has_is_deleted": False,
    "queryable": True,
}


def test_a_stored_plan_reads_back_into_the_same_json_and_the_same_hash():
    plan = FieldPlan.from_json(STORED_PLAN)
    assert plan.to_json() == STORED_PLAN
    assert plan.fields["Status"].picklist_values == ("Open", "Closed")
    # field_plan_hash values already stored stay valid: the hash is computed as before.
    shape = {
        "bulk": STORED_PLAN["bulk_fields"],
        "rest": STORED_PLAN["rest_fields"],
        "types": {name: info["type"] for name, info in STORED_PLAN["fields"].items()},
    }
    assert plan_hash(plan) == hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()


def test_partial_and_empty_stored_plans_read_with_defaults():
    plan = FieldPlan.from_json({"fields": {"Tier__c": {"type": "picklist"}, "Note": {}}})
    assert plan.fields["Tier__c"].label == "Tier__c"
    assert plan.type_of("Note") == "string"
    assert plan.type_of("Unknown") is None
    assert (plan.bulk_fields, plan.compounds, plan.cursor_field) == ((), {}, None)
    assert FieldPlan.from_json(None) == FieldPlan.from_json({}) == FieldPlan()


FIELD_TYPES = ["string", "picklist", "multipicklist", "boolean", "double", "datetime", "base64"]
names = st.from_regex(r"[A-Z][a-z]{1,8}(__c)?", fullmatch=True)
described_fields = st.dictionaries(
    names,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(FIELD_TYPES),
            "calculated": st.booleans(),
            "picklistValues": st.lists(
                st.fixed_dictionaries({"value": st.text(max_size=5), "active": st.booleans()})
            ),
        }
    ),
    max_size=6,
)


@given(described_fields, st.booleans())
def test_every_plan_the_planner_makes_survives_json(extra, with_address):
    fields = [*BASE_FIELDS, *(field_def(name, **spec) for name, spec in extra.items())]
    if with_address:
        fields += [
            field_def("MailingAddress", "address"),
            field_def("MailingCity", compoundFieldName="MailingAddress"),
        ]
    plan = build_plan({"fields": fields})
    stored = json.loads(json.dumps(plan.to_json()))
    assert FieldPlan.from_json(stored) == plan


windows = st.builds(
    lambda start, hours: Window(start, (start or T0) + timedelta(hours=hours)),
    st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    st.integers(1, 1000),
)
passes = st.builds(
    PassState,
    st.sampled_from(Purpose),
    st.lists(names, max_size=3).map(tuple),
    st.datetimes(timezones=st.just(UTC)),
)
checkpoints = st.builds(
    Checkpoint,
    window=st.one_of(st.none(), windows),
    pending=st.lists(windows, max_size=3),
    read_mode=st.sampled_from(ReadMode),
    phase=st.sampled_from(Phase),
    job_id=st.sampled_from(["", "750000000000000001"]),
    job_created_at=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    job_complete=st.booleans(),
    job_failures=st.integers(0, 1),
    locator=st.sampled_from(["", "MTAwMDA", "/services/data/v62.0/query/01g-2000"]),
    pass_in_flight=st.one_of(st.none(), passes),
    pacing=st.sampled_from(Pacing),
    pace=st.one_of(
        st.none(),
        st.builds(
            Pace,
            st.floats(0, 3600),
            st.floats(0, 10),
            st.floats(0, 1e6),
            st.floats(0, 3600),
        ),
    ),
)


@given(checkpoints)
def test_a_checkpoint_stored_on_a_cursor_loads_back_unchanged(checkpoint):
    cursor = ObjectCursor()
    checkpoint.store(cursor)
    # The JSON columns go through the database as JSON.
    cursor.pending_windows = json.loads(json.dumps(cursor.pending_windows))
    cursor.pass_in_flight = json.loads(json.dumps(cursor.pass_in_flight))
    cursor.job_pace = json.loads(json.dumps(cursor.job_pace))
    assert Checkpoint.load(cursor) == checkpoint


def test_a_bulk_window_goes_create_poll_read_then_blobs_then_the_next_window():
    first, second = Window(None, T0), Window(T0, T0 + timedelta(days=1))
    checkpoint = Checkpoint()
    assert checkpoint.step == Step.DONE
    checkpoint.open_windows([first, second], ReadMode.BULK)
    assert (checkpoint.window, checkpoint.pending, checkpoint.step) == (
        first,
        [second],
        Step.CREATE_JOB,
    )
    checkpoint.job_created("750000000000000001", T0)
    assert checkpoint.step == Step.POLL_JOB
    checkpoint.job_completed()
    assert checkpoint.step == Step.READ_RESULT_PAGE
    assert checkpoint.page_read("MTAwMDA") is False
    assert (checkpoint.step, checkpoint.locator) == (Step.READ_RESULT_PAGE, "MTAwMDA")
    assert checkpoint.page_read(None) is True
    checkpoint.read_blobs()
    assert (checkpoint.step, checkpoint.job_id, checkpoint.locator) == (Step.READ_BLOB_PAGE, "", "")
    assert checkpoint.next_window() == first
    assert (checkpoint.window, checkpoint.phase, checkpoint.step) == (
        second,
        Phase.ROWS,
        Step.CREATE_JOB,
    )
    assert checkpoint.next_window() == second
    assert checkpoint.step == Step.DONE


def test_a_job_fails_once_and_is_rerun_then_fails_again_and_its_window_splits():
    window = Window(None, T0)
    checkpoint = Checkpoint()
    checkpoint.open_windows([window], ReadMode.BULK)
    checkpoint.job_created("750000000000000001", T0)
    assert checkpoint.retry_failed_job() is True
    assert (checkpoint.step, checkpoint.job_failures) == (Step.CREATE_JOB, 1)
    checkpoint.job_created("750000000000000002", T0)
    assert checkpoint.retry_failed_job() is False
    halves = window.split(T0 - timedelta(days=2))
    checkpoint.split_window(*halves)
    assert (checkpoint.window, checkpoint.pending) == (halves[0], [halves[1]])
    assert (checkpoint.step, checkpoint.job_failures) == (Step.CREATE_JOB, 0)


def test_rest_windows_read_pages_and_move_to_bulk_when_too_slow():
    checkpoint = Checkpoint()
    checkpoint.open_windows([Window(T0, T0 + timedelta(minutes=5))], ReadMode.REST)
    assert checkpoint.step == Step.READ_REST_PAGE
    checkpoint.page_read("/services/data/v62.0/query/01g-2000")
    checkpoint.restart_pages()  # an expired locator: the window again from its first page
    assert (checkpoint.step, checkpoint.locator) == (Step.READ_REST_PAGE, "")
    checkpoint.move_to_bulk()
    assert checkpoint.step == Step.CREATE_JOB


def test_a_pass_runs_its_own_job_before_any_window_and_ends():
    checkpoint = Checkpoint()
    checkpoint.open_windows([Window(None, T0)], ReadMode.REST)
    checkpoint.start_pass(PassState(Purpose.RECONCILE, ("Score__c",), T0))
    assert checkpoint.step == Step.CREATE_JOB
    checkpoint.job_created("750000000000000001", T0)
    checkpoint.job_completed()
    assert checkpoint.step == Step.READ_PASS_PAGE
    checkpoint.end_pass()
    assert checkpoint.step == Step.READ_REST_PAGE
