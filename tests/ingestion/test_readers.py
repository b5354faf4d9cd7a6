"""Bulk CSV pages and REST records become the same ParsedRecords, facets included."""

import json

import pytest
from django.db import connection as db

from ingestion.engine.readers import records_from_csv, records_from_rest
from ingestion.engine.state import FieldPlan
from ingestion.engine.values import jsonb_key_order

PLAN = FieldPlan.from_json(
    {
        "cursor_field": "SystemModstamp",
        "compounds": {},
        "fields": {
            "Id": {"type": "id"},
            "Status": {"type": "picklist"},
            "Interests__c": {"type": "multipicklist"},
            "IsDeleted": {"type": "boolean"},
            "Score__c": {"type": "double"},
            "Email": {"type": "email"},
            "SystemModstamp": {"type": "datetime"},
        },
    }
)
CSV = [
    '"Id","Status","Interests__c","IsDeleted","Score__c","Email","SystemModstamp"\n',
    '"00Q000000000001AAA","Open","Golf;Sailing","false","4.5","a@example.com",'
    '"2026-01-01T09:00:00.000Z"\n',
    '"00Q000000000002AAA","","","true","","","2026-01-01T10:00:00.000+0000"\n',
]


def test_csv_rows_carry_their_picklist_and_checkbox_values_as_facets():
    first, second = records_from_csv(iter(CSV), PLAN)
    assert first.facets == {
        "Status": "Open",
        "Interests__c": ["Golf", "Sailing"],
        "IsDeleted": False,
    }
    assert first.data["Score__c"] == 4.5
    assert second.facets == {"IsDeleted": True}
    assert second.is_deleted
    assert second.modstamp == "2026-01-01T10:00:00.000Z"


def test_rest_records_give_the_same_facets_as_csv_rows():
    rest = {
        "attributes": {"type": "Lead"},
        "Id": "00Q000000000001AAA",
        "Status": "Open",
        "Interests__c": "Golf;Sailing",
        "IsDeleted": False,
        "Score__c": 4.5,
        "Email": "a@example.com",
        "SystemModstamp": "2026-01-01T09:00:00.000+0000",
    }
    (from_rest,) = records_from_rest([rest], PLAN)
    (from_csv, _) = records_from_csv(iter(CSV), PLAN)
    assert from_rest.facets == from_csv.facets
    assert from_rest.data == from_csv.data


def test_empty_fields_are_left_out_of_the_stored_data_on_both_paths():
    # Reading them gives null all the same (data ->> 'Field', data.get); PostgreSQL parses
    # a third less JSON per row (bench/README.md, "Empty fields left out").
    rest = {
        "attributes": {"type": "Lead"},
        "Id": "00Q000000000002AAA",
        "Status": None,
        "Interests__c": None,
        "IsDeleted": True,
        "Score__c": None,
        "Email": "",
        "SystemModstamp": "2026-01-01T10:00:00.000+0000",
    }
    (_, from_csv) = records_from_csv(iter(CSV), PLAN)
    (from_rest,) = records_from_rest([rest], PLAN)
    stored = {
        "Id": "00Q000000000002AAA",
        "IsDeleted": True,
        "SystemModstamp": "2026-01-01T10:00:00.000Z",
    }
    assert from_csv.data == from_rest.data == stored


ADDRESS_PLAN = FieldPlan.from_json(
    {
        "cursor_field": "SystemModstamp",
        "fields": {
            "Id": {"type": "id"},
            "MailingCity": {"type": "string"},
            "MailingCountry": {"type": "string"},
            "SystemModstamp": {"type": "datetime"},
        },
        "compounds": {
            "MailingAddress": {
                "type": "address",
                "components": {"city": "MailingCity", "country": "MailingCountry"},
            }
        },
    }
)


def test_a_compound_field_is_left_out_only_when_all_its_parts_are_empty():
    page = [
        '"Id","MailingCity","MailingCountry","SystemModstamp"\n',
        '"003000000000001AAA","Oslo","","2026-01-01T09:00:00.000Z"\n',
        '"003000000000002AAA","","","2026-01-01T09:00:00.000Z"\n',
    ]
    partial, empty = records_from_csv(iter(page), ADDRESS_PLAN)
    assert partial.data["MailingAddress"] == {"city": "Oslo", "country": None}
    assert "MailingCountry" not in partial.data
    assert "MailingAddress" not in empty.data
    rest = {"Id": "003000000000002AAA", "MailingCity": None, "MailingAddress": None,
            "SystemModstamp": "2026-01-01T09:00:00.000Z"}  # fmt: skip
    (from_rest,) = records_from_rest([rest], ADDRESS_PLAN)
    assert from_rest.data == empty.data


def _in_jsonb_order(document: dict) -> bool:
    keys = list(document)
    return keys == sorted(keys, key=jsonb_key_order) and all(
        _in_jsonb_order(value) for value in document.values() if isinstance(value, dict)
    )


def test_csv_records_keep_their_keys_in_jsonb_order_compounds_included():
    # PostgreSQL then takes each document's keys as they come instead of sorting them
    # (bench/README.md, "Documents in jsonb's key order").
    page = [
        '"Id","MailingStreet","MailingCity","MailingCountry","IsDeleted","SystemModstamp"\n',
        '"003000000000001AAA","1 Quay","Oslo","Norway","false","2026-01-01T09:00:00.000Z"\n',
    ]
    plan = FieldPlan.from_json(
        {**ADDRESS_PLAN.to_json(), "fields": {**ADDRESS_PLAN.to_json()["fields"],
                                               "IsDeleted": {"type": "boolean"}}}
    )  # fmt: skip
    ((record),) = records_from_csv(iter(page), plan)
    assert list(record.data) == [
        "Id", "IsDeleted", "MailingCity", "MailingStreet", "MailingAddress", "MailingCountry",
        "SystemModstamp",
    ]  # fmt: skip
    assert _in_jsonb_order(record.data)
    assert _in_jsonb_order(record.facets)
    (first, _) = records_from_csv(iter(CSV), PLAN)
    assert _in_jsonb_order(first.data)
    assert list(first.facets) == ["Status", "IsDeleted", "Interests__c"]


@pytest.mark.django_db
@pytest.mark.skipif(db.vendor != "postgresql", reason="PostgreSQL's own jsonb key order")
def test_jsonb_key_order_is_the_order_postgresql_keeps():
    keys = ["b", "a", "ab", "Zz", "zz", "é", "e", "Id", "IsDeleted", "MailingAddress", "ё1"]
    with db.cursor() as cursor:
        cursor.execute("SELECT jsonb_object_keys(%s::jsonb)", [json.dumps(dict.fromkeys(keys))])
        kept = [key for (key,) in cursor.fetchall()]
    assert kept == sorted(keys, key=jsonb_key_order)
