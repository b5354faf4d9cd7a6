"""Audience fixtures: described fields (ObjectCursor.field_plan) and IngestedRecord rows."""

import itertools

import pytest
from django.utils import timezone

from ingestion.engine.state import FieldPlan
from ingestion.engine.values import facet_fields, facets_of
from ingestion.models import IngestedRecord, ObjectCursor

_ids = itertools.count(1)

PREFIX = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "Campaign": "701",
    "CampaignMember": "00v",
}


def _f(type_, label=None, picklist=()):
    return {"type": type_, "label": label, "picklist_values": list(picklist), "filterable": True}


INDUSTRIES = ["Technology", "Finance", "Healthcare", "Retail", "Manufacturing"]
LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted"]
STAGES = ["Prospecting", "Negotiation", "Closed Won", "Closed Lost"]

FIELDS = {
    "Account": {
        "Id": _f("id"),
        "Name": _f("string"),
        "Industry": _f("picklist", None, INDUSTRIES),
        "BillingCountry": _f("string"),
        "Website": _f("url"),
        "AnnualRevenue": _f("currency"),
        "NumberOfEmployees": _f("int"),
        "Tags__c": _f("multipicklist", None, ["A", "B", "C"]),
        "IsPartner__c": _f("boolean"),
        "CreatedDate": _f("datetime"),
        "BillingAddress": _f("address"),
    },
    "Contact": {
        "Id": _f("id"),
        "FirstName": _f("string"),
        "LastName": _f("string"),
        "Name": _f("string"),
        "Email": _f("email"),
        "Phone": _f("phone"),
        "MobilePhone": _f("phone"),
        "Title": _f("string"),
        "AccountId": _f("reference"),
        "MailingCountry": _f("string"),
        "LeadSource": _f("picklist", None, ["Web", "Event"]),
        "HasOptedOutOfEmail": _f("boolean"),
        "Birthdate": _f("date"),
        "CreatedDate": _f("datetime"),
        "Score__c": _f("double"),
        "Interests__c": _f("multipicklist", None, ["AI", "Cloud", "Data"]),
    },
    "Lead": {
        "Id": _f("id"),
        "FirstName": _f("string"),
        "LastName": _f("string"),
        "Name": _f("string"),
        "Email": _f("email"),
        "Phone": _f("phone"),
        "Company": _f("string"),
        "Title": _f("string"),
        "Status": _f("picklist", None, LEAD_STATUSES),
        "Industry": _f("picklist", None, INDUSTRIES),
        "Country": _f("string"),
        "Website": _f("url"),
        "CreatedDate": _f("datetime"),
        "ConvertedAccountId": _f("reference"),
        "IsConverted": _f("boolean"),
    },
    "Opportunity": {
        "Id": _f("id"),
        "Name": _f("string"),
        "AccountId": _f("reference"),
        "StageName": _f("picklist", None, STAGES),
        "Amount": _f("currency"),
        "CloseDate": _f("date"),
        "IsClosed": _f("boolean"),
        "IsWon": _f("boolean"),
    },
    "CampaignMember": {
        "Id": _f("id"),
        "CampaignId": _f("reference"),
        "ContactId": _f("reference"),
        "LeadId": _f("reference"),
        "Status": _f("picklist", None, ["Sent", "Responded"]),
    },
    "Campaign": {"Id": _f("id"), "Name": _f("string")},
}


def describe(connection, objects=FIELDS):
    """Write the field plans the sync engine's planner would have written."""
    for sobject, fields in objects.items():
        plan = {"fields": {n: {**f, "label": f["label"] or n} for n, f in fields.items()}}
        ObjectCursor.objects.update_or_create(
            connection=connection,
            sobject=sobject,
            defaults={"field_plan": plan, "initial_load_complete": True},
        )


def sf_id(sobject):
    return f"{PREFIX[sobject]}5g{next(_ids):011d}AAA"[:18]


@pytest.fixture
def record_factory(db):
    """Make IngestedRecord rows directly, as the sync engine would have written them: a None
    field is left out of data (ingestion/engine/values.py)."""

    def make(connection, sobject, *, is_deleted=False, id=None, **data):
        now = timezone.now()
        record_id = id or sf_id(sobject)
        data = {"Id": record_id, **{k: v for k, v in data.items() if v is not None}}
        return IngestedRecord.objects.create(
            connection=connection,
            sobject=sobject,
            sf_id=record_id,
            data=data,
            facets=facets_of(
                data, facet_fields(FieldPlan.from_json({"fields": FIELDS.get(sobject, {})}))
            ),
            system_modstamp=now,
            is_deleted=is_deleted,
            first_seen_at=now,
            last_seen_at=now,
        )

    return make


@pytest.fixture
def ready_connection(connection):
    """A connection whose initial ingestion completed, with described fields."""
    describe(connection)
    connection.initial_sync_completed_at = timezone.now()
    connection.save()
    return connection


@pytest.fixture
def loading_connection(connection):
    """A connection half-way through its initial ingestion, with described fields."""
    describe(connection)
    connection.initial_sync_started_at = timezone.now() - timezone.timedelta(minutes=30)
    connection.save()
    ObjectCursor.objects.filter(connection=connection).update(
        initial_load_complete=False, estimated_total=1000, records_ingested=400
    )
    return connection
