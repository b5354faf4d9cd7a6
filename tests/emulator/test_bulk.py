"""Bulk API 2.0 query jobs over HTTP: lifecycle, result pages, CSV format, errors, snapshots."""

from __future__ import annotations

import csv
import gzip
import io

import pytest


def results(api, job_id, **params):
    return api.get(f"jobs/query/{job_id}/results", params=params)


def rows_of(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_a_job_moves_through_its_states_at_the_processing_rate(api):
    api.org.processing_rate = 50.0
    try:
        job = api.create_job("SELECT Id FROM Contact")
        assert job["state"] == "UploadComplete"
        api.org.clock.advance(1)
        info = api.get(f"jobs/query/{job['id']}").json()
        assert info["state"] == "InProgress"
        assert 0 < info["numberRecordsProcessed"] < 150
        early = results(api, job["id"])
        assert early.status_code == 412
        assert early.json() == [
            {
                "message": "can only download query results of successfully completed bulk job"
                " with status: JOB_COMPLETE. Current status: IN_PROGRESS",
                "errorCode": "JOB_NOT_COMPLETE",
            }
        ]
        api.org.clock.advance(3)
        info = api.get(f"jobs/query/{job['id']}").json()
        assert info["state"] == "JobComplete"
        assert info["numberRecordsProcessed"] == 150
        assert info["totalProcessingTime"] == 3000
        assert info["systemModstamp"] >= info["createdDate"]
    finally:
        api.org.processing_rate = None


def test_results_page_with_locators_until_the_string_null(api):
    job = api.create_job("SELECT Id, Name FROM Contact")
    api.wait_job(job["id"])
    seen = []
    locator = None
    pages = 0
    while True:
        params = {"maxRecords": 60}
        if locator:
            params["locator"] = locator
        r = results(api, job["id"], **params)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/csv")
        rows = rows_of(r.text)
        assert rows[0] == ["Id", "Name"]
        assert int(r.headers["Sforce-NumberOfRecords"]) == len(rows) - 1
        seen += [row[0] for row in rows[1:]]
        locator = r.headers["Sforce-Locator"]
        pages += 1
        if locator == "null":
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 150
    again = results(api, job["id"], locator="NjA", maxRecords=60)  # base64("60"): re-fetchable
    assert rows_of(again.text)[1][0] == seen[60]


def test_csv_is_written_as_salesforce_writes_it(api):
    job = api.create_job(
        "SELECT Id, Name, CreatedDate, IsDeleted, AnnualRevenue, NumberOfEmployees, ParentId,"
        " Description, Customer_Since__c FROM Account"
    )
    api.wait_job(job["id"])
    text = results(api, job["id"]).text
    lines = text.split("\n")
    assert lines[0] == (
        '"Id","Name","CreatedDate","IsDeleted","AnnualRevenue","NumberOfEmployees","ParentId",'
        '"Description","Customer_Since__c"'
    )
    assert text.endswith('"\n')
    rows = rows_of(text)
    for row in rows[1:]:
        assert row[2].endswith(".000Z")
        assert row[3] == "false"
        assert row[4] == "" or row[4].endswith(".0")
        assert row[5] == "" or row[5].isdigit()
    assert '""' in text  # null as an empty quoted cell
    assert any("\n" in row[7] for row in rows[1:])  # embedded newlines stay inside quotes
    assert any('"' in row[7] for row in rows[1:])  # embedded quotes are doubled on the wire
    requoted = "".join(
        ",".join('"' + cell.replace('"', '""') + '"' for cell in row) + "\n" for row in rows
    )
    assert requoted == text  # every value quoted, nothing else on the wire


@pytest.mark.parametrize(
    ("delimiter", "char", "ending", "newline"),
    [("TAB", "\t", "CRLF", "\r\n"), ("PIPE", "|", "LF", "\n"), ("SEMICOLON", ";", "LF", "\n")],
)
def test_column_delimiter_and_line_ending_are_honoured(api, delimiter, char, ending, newline):
    job = api.create_job("SELECT Id, Name FROM Lead", columnDelimiter=delimiter, lineEnding=ending)
    assert job["columnDelimiter"] == delimiter
    assert job["lineEnding"] == ending
    api.wait_job(job["id"])
    text = results(api, job["id"]).content.decode()
    assert text.startswith(f'"Id"{char}"Name"{newline}')
    assert len(rows_of(text.replace("\r\n", "\n"), char)) == 121


def test_results_are_gzipped_when_asked(api):
    job = api.create_job("SELECT Id, Email FROM Contact")
    api.wait_job(job["id"])
    r = api.get(
        f"jobs/query/{job['id']}/results",
        headers={"Accept-Encoding": "gzip"},
        stream=True,
    )
    assert r.headers["Content-Encoding"] == "gzip"
    raw = r.raw.read(decode_content=False)
    text = gzip.decompress(raw).decode()
    assert len(rows_of(text)) == 151
    plain = api.get(f"jobs/query/{job['id']}/results", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.text == text


def test_results_need_the_api_version_that_created_the_job(api):
    job = api.create_job("SELECT Id FROM Account")
    api.wait_job(job["id"])
    other = api.get(f"{api.base}/services/data/v58.0/jobs/query/{job['id']}/results")
    assert other.status_code == 409


def test_abort_and_delete(api):
    api.org.processing_rate = 1.0
    try:
        job = api.create_job("SELECT Id FROM Contact")
        not_yet = api.delete(f"jobs/query/{job['id']}")
        assert not_yet.status_code == 400
        assert not_yet.json() == [
            {
                "message": "Error encountered when deleting the job because the job is not"
                " terminated",
                "errorCode": "API_ERROR",
            }
        ]
        r = api.patch(f"jobs/query/{job['id']}", json={"state": "Aborted"})
        assert r.status_code == 200
        assert r.json()["state"] == "Aborted"
        assert api.patch(f"jobs/query/{job['id']}", json={"state": "Aborted"}).status_code == 400
        assert results(api, job["id"]).status_code == 412
        gone = api.delete(f"jobs/query/{job['id']}")
        assert gone.status_code == 204
        assert gone.content == b""
        assert api.get(f"jobs/query/{job['id']}").status_code == 404
    finally:
        api.org.processing_rate = None


def test_list_jobs_and_result_pages(api):
    ids = [api.create_job("SELECT Id FROM Lead")["id"] for _ in range(3)]
    body = api.get("jobs/query").json()
    assert body["done"] is True
    assert body["nextRecordsUrl"] is None
    assert {j["id"] for j in body["records"]} >= set(ids)
    assert all(j["jobType"] == "V2Query" for j in body["records"])
    assert api.get("jobs/query", params={"jobType": "V2Ingest"}).json()["records"] == []
    api.wait_job(ids[0])
    pages = api.get(f"jobs/query/{ids[0]}/resultPages", params={"maxRecords": 50}).json()
    assert pages["done"] is True
    assert len(pages["resultPages"]) == 3
    total = 0
    for page in pages["resultPages"]:
        total += int(api.get(page["resultUrl"]).headers["Sforce-NumberOfRecords"])
    assert total == 120
    old = api.get(f"{api.base}/services/data/v57.0/jobs/query/{ids[0]}/resultPages")
    assert old.status_code == 404


def test_bulk_refuses_what_bulk_cannot_do(api):
    cases = {
        "SELECT Id, BillingAddress FROM Account": (
            "API_ERROR",
            "Selecting compound data not supported in Bulk Query",
        ),
        "SELECT Id, Location__c FROM Account": (
            "API_ERROR",
            "Selecting compound data not supported in Bulk Query",
        ),
        "SELECT Id, Body FROM Document": ("FEATURENOTENABLED", "Binary field not supported"),
        "SELECT Id FROM AccountFeed": (
            "INVALIDENTITY",
            "Entity 'AccountFeed' is not supported by the Bulk API.",
        ),
        "SELECT Id FROM ActivityHistory": ("API_ERROR", "API does not support query"),
    }
    for soql, (code, message) in cases.items():
        r = api.post("jobs/query", json={"operation": "query", "query": soql})
        assert r.status_code == 400, soql
        assert r.json() == [{"message": message, "errorCode": code}], soql
    r = api.post("jobs/query", json={"operation": "query", "query": "SELECT COUNT() FROM Account"})
    assert r.status_code == 400
    r = api.post("jobs/query", json={"operation": "query", "query": "SELECT Id, Nope FROM Account"})
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"
    r = api.post("jobs/query", json={"operation": "upsert", "query": "SELECT Id FROM Account"})
    assert r.status_code == 400
    r = api.post(
        "jobs/query",
        json={"operation": "query", "query": "SELECT Id FROM Account", "columnDelimiter": "X"},
    )
    assert r.status_code == 400
    old = api.post(
        f"{api.base}/services/data/v46.0/jobs/query",
        json={"operation": "query", "query": "SELECT Id FROM Account"},
    )
    assert old.status_code == 404


def test_a_job_result_is_a_snapshot_taken_when_it_completed(api):
    job = api.create_job("SELECT Id, Title FROM Contact ORDER BY Id")
    api.wait_job(job["id"])
    first = rows_of(results(api, job["id"], maxRecords=10).text)
    victim, before_title = first[1][0], first[1][1]
    api.org.update("Contact", victim, {"Title": "Changed After Completion"})
    api.org.delete("Contact", first[2][0])
    api.org.create("Contact", {"LastName": "Late"})
    again = rows_of(results(api, job["id"]).text)
    assert len(again) == 151
    assert again[1] == [victim, before_title]
    assert again[2][0] == first[2][0]
    fresh = api.create_job("SELECT Id, Title FROM Contact ORDER BY Id")
    api.wait_job(fresh["id"])
    now = rows_of(results(api, fresh["id"]).text)
    assert len(now) == 151
    assert [victim, "Changed After Completion"] in now


def test_query_all_jobs_include_deleted_records(api):
    victim = api.query("SELECT Id FROM Lead LIMIT 1").json()["records"][0]["Id"]
    api.org.delete("Lead", victim)
    live = api.create_job("SELECT Id, IsDeleted FROM Lead")
    every = api.create_job("SELECT Id, IsDeleted FROM Lead", operation="queryAll")
    api.wait_job(live["id"])
    api.wait_job(every["id"])
    live_rows = rows_of(results(api, live["id"]).text)[1:]
    all_rows = rows_of(results(api, every["id"]).text)[1:]
    assert victim not in {r[0] for r in live_rows}
    assert [victim, "true"] in all_rows


def test_relationship_columns_are_dotted(api):
    job = api.create_job("SELECT Id, Account.Name, Owner.Email FROM Contact")
    api.wait_job(job["id"])
    rows = rows_of(results(api, job["id"]).text)
    assert rows[0] == ["Id", "Account.Name", "Owner.Email"]
    assert all(row[2].endswith("example.com") for row in rows[1:])


def test_jobs_and_their_results_are_kept_seven_days(api):
    job = api.create_job("SELECT Id FROM Account")
    api.wait_job(job["id"])
    api.org.clock.advance(6 * 86400)
    api.login()
    assert results(api, job["id"]).status_code == 200
    api.org.clock.advance(86400 + 60)
    api.login()
    assert api.get(f"jobs/query/{job['id']}").status_code == 404


def test_bulk_calls_are_counted_by_kind(api):
    job = api.create_job("SELECT Id FROM Account")
    api.wait_job(job["id"])
    results(api, job["id"])
    api.get("jobs/query")
    calls = api.org.counters()["api_calls"]
    assert calls["bulk_create"] == 1
    assert calls["bulk_poll"] >= 1
    assert calls["bulk_results"] == 1
    assert calls["bulk_list"] == 1
    assert api.org.counters()["jobs_by_state"] == {"JobComplete": 1}


def test_a_job_completed_with_nothing_changed_is_matched_once(api, monkeypatch):
    # The count taken when the job is created is its snapshot: completing it (a job made ahead,
    # first polled later) does not match every record again.
    calls = []
    matching = api.org.engine.matching
    monkeypatch.setattr(
        api.org.engine, "matching", lambda *a, **k: calls.append(a) or matching(*a, **k)
    )
    job = api.create_job("SELECT Id FROM Contact WHERE LastName != 'Nobody'")
    api.wait_job(job["id"])
    rows = rows_of(results(api, job["id"]).text)
    assert len(rows) == 151
    assert len(calls) == 1


def test_a_change_while_the_job_runs_is_in_its_results(api):
    # Salesforce snapshots a job's results when it completes: a record changed after the job
    # was created (and counted) but before it completed is read as it is then.
    api.org.processing_rate = 50.0
    try:
        job = api.create_job("SELECT Id, Title FROM Contact WHERE Title != 'Nobody' ORDER BY Id")
        assert job["state"] == "UploadComplete"
        first = api.query("SELECT Id FROM Contact ORDER BY Id LIMIT 2").json()["records"]
        api.org.update("Contact", first[0]["Id"], {"Title": "Changed While Running"})
        api.org.update("Contact", first[1]["Id"], {"Title": "Nobody"})
        created = api.org.create("Contact", {"LastName": "Late", "Title": "Newcomer"})
        api.org.clock.advance(10)
        api.wait_job(job["id"])
    finally:
        api.org.processing_rate = None
    rows = rows_of(results(api, job["id"]).text)[1:]
    assert [first[0]["Id"], "Changed While Running"] in rows
    assert first[1]["Id"] not in {row[0] for row in rows}
    assert [created, "Newcomer"] in rows
    assert len(rows) == 150


def test_a_job_ending_without_results_drops_what_it_counted(api):
    # An aborted or failed job never serves pages: the records matched to count it are let go.
    api.org.processing_rate = 1.0
    try:
        aborted = api.create_job("SELECT Id FROM Contact")
        assert api.org.jobs.get(aborted["id"]).counted is not None
        assert api.patch(f"jobs/query/{aborted['id']}", json={"state": "Aborted"}).ok
    finally:
        api.org.processing_rate = None
    assert api.org.jobs.get(aborted["id"]).counted is None
    api.org.faults.set("job_fail", count=1, object="Contact", message="Boom")
    failed = api.create_job("SELECT Id FROM Contact")
    api.wait_job(failed["id"], "Failed")
    assert api.org.jobs.get(failed["id"]).counted is None


def test_records_counted_by_an_engine_since_rebuilt_are_matched_again(api):
    # A reset rebuilds the stores at the same seq: what an older engine counted is not reused.
    api.org.processing_rate = 50.0
    try:
        job = api.create_job("SELECT Id FROM Contact")
        held = api.org.jobs.get(job["id"])
        _, seq, matches = held.counted
        held.counted = (object(), seq, matches[:3])
        api.org.clock.advance(10)
        api.wait_job(job["id"])
    finally:
        api.org.processing_rate = None
    assert len(rows_of(results(api, job["id"]).text)) == 151
