"""`--custom-fields OBJECT=N`: wide objects like a real org's, deterministic and lazy."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote_plus

import pytest
import requests

from emulator import EmulatorServer, Org
from emulator.__main__ import parse_custom_fields
from emulator.data.custom_fields import SaltedPool

USER = "integration@example.com"


@pytest.fixture(scope="module")
def wide() -> Org:
    return Org.from_profile("tiny", seed=7, custom_fields={"Account": 650, "Contact": 25})


def custom(org: Org, sobject: str) -> list[dict]:
    standard = {f["name"] for f in Org.from_profile("tiny").describe(sobject)["fields"]}
    return [f for f in org.describe(sobject)["fields"] if f["name"] not in standard]


def test_the_object_gets_n_custom_fields_with_real_names_types_and_lengths(wide):
    fields = custom(wide, "Account")
    assert len(fields) == 650
    names = [f["name"] for f in fields]
    assert len(set(n.lower() for n in names)) == 650
    assert all(
        n.endswith("__c") and len(n) <= 43 and f["custom"]
        for n, f in zip(names, fields, strict=False)
    )
    assert 20 <= sum(map(len, names)) / len(names) <= 35
    types = {f["type"] for f in fields}
    assert types >= {
        "string",
        "picklist",
        "multipicklist",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
        "boolean",
        "textarea",
        "email",
        "phone",
        "url",
    }
    by_type = {f["type"]: f for f in fields if not f["calculated"]}
    assert by_type["currency"]["precision"] == 18
    assert by_type["currency"]["scale"] == 2
    assert by_type["picklist"]["picklistValues"]
    long_text = [f for f in fields if f["type"] == "textarea" and f["length"] == 32768]
    assert long_text
    assert long_text[0]["filterable"] is False
    formulas = [f for f in fields if f["calculated"]]
    assert 40 <= len(formulas) <= 80
    assert all(f["calculatedFormula"] and not f["createable"] for f in formulas)
    assert len(custom(wide, "Contact")) == 25


def test_names_and_values_are_deterministic_from_the_seed():
    a = Org.from_profile("tiny", seed=7, custom_fields={"Account": 40})
    b = Org.from_profile("tiny", seed=7, custom_fields={"Account": 40})
    c = Org.from_profile("tiny", seed=8, custom_fields={"Account": 40})
    names = [f["name"] for f in custom(a, "Account")]
    assert names == [f["name"] for f in custom(b, "Account")]
    assert names != [f["name"] for f in custom(c, "Account")]
    assert list(a.iter_records("Account")) == list(b.iter_records("Account"))


def test_values_are_filled_and_formulas_evaluate(wide):
    fields = {f["name"]: f for f in custom(wide, "Account")}
    records = list(wide.iter_records("Account"))
    for name, f in fields.items():
        values = [r[name] for r in records]
        if f["type"] != "boolean":
            assert any(v is not None for v in values), name
        if f["calculatedFormula"] == "CASESAFEID(Id)":
            assert values == [r["Id"] for r in records]
        if f["calculatedFormula"] == "YEAR(DATEVALUE(CreatedDate))":
            assert values == [float(r["CreatedDate"][:4]) for r in records]
    picklist = next(n for n, f in fields.items() if f["type"] == "picklist")
    allowed = {v["value"] for v in fields[picklist]["picklistValues"]}
    assert {r[picklist] for r in records} - {None} <= allowed


def test_a_created_record_gets_its_formula_values(wide):
    wide.reset()
    sf_id = wide.create("Account", {"Name": "Wide Co"})
    record = next(r for r in wide.iter_records("Account") if r["Id"] == sf_id)
    keys = [
        f["name"] for f in custom(wide, "Account") if f["calculatedFormula"] == "CASESAFEID(Id)"
    ]
    assert keys
    assert all(record[k] == sf_id for k in keys)
    wide.reset()
    assert len(custom(wide, "Account")) == 650


def test_values_stay_lazy_until_read():
    org = Org.from_profile("demo", custom_fields={"Account": 800})
    columns = [c for c in org.stores["Account"].gen.columns.values() if isinstance(c, SaltedPool)]
    assert len(columns) > 700
    assert all(c._pool is None for c in columns)


def test_every_field_in_one_rest_query_is_over_the_request_line_limit_but_bulk_takes_it(wide):
    wide.reset()
    names = [
        f["name"]
        for f in wide.describe("Account")["fields"]
        if f["type"] not in ("address", "location")
    ]
    soql = f"SELECT {', '.join(names)} FROM Account"
    with EmulatorServer(wide, port=0) as server:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + wide.issue_tokens(USER)["access_token"]
        api = f"{server.base_url}/services/data/v62.0"
        assert len(f"GET /services/data/v62.0/query?q={quote_plus(soql)} HTTP/1.1") > 16_384
        assert session.get(f"{api}/query", params={"q": soql}).status_code == 414
        half = f"SELECT {', '.join(names[:300])} FROM Account"
        page = session.get(f"{api}/query", params={"q": half})
        assert page.status_code == 200
        assert page.json()["totalSize"] == wide.count("Account")
        job = session.post(f"{api}/jobs/query", json={"operation": "query", "query": soql}).json()
        text = session.get(f"{api}/jobs/query/{job['id']}/results").text
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == names
        assert len(rows) == wide.count("Account") + 1


def test_the_command_line_spec():
    assert parse_custom_fields(["Account=650", "Contact=20", "Account=5"]) == {
        "Account": 655,
        "Contact": 20,
    }
    for bad in ("Account", "Account=", "=3", "Account=x"):
        with pytest.raises(ValueError, match="OBJECT=N"):
            parse_custom_fields([bad])
    with pytest.raises(ValueError, match="no data object"):
        Org.from_profile("tiny", custom_fields={"Nope": 3})
    with pytest.raises(ValueError, match="0 to 800"):
        Org.from_profile("tiny", custom_fields={"Account": 801})
