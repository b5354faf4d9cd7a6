"""Bulk API 2.0 query jobs: create, poll, stream result pages by locator, abort, delete."""

import csv
import gzip
import io

import pytest
from responses import matchers

from connections.salesforce.exceptions import SalesforceUnavailable
from tests.connections.conftest import API, payload

JOB = "7505g00000XyZ12AAB"
SOQL = "SELECT Id, Email, Description, SystemModstamp FROM Contact"


def test_create_asks_for_query_all_by_default(sf, make_client):
    sf.post(
        f"{API}/jobs/query",
        json=payload("bulk_job_created.json"),
        match=[
            matchers.json_params_matcher(
                {
                    "operation": "queryAll",
                    "query": SOQL,
                    "contentType": "CSV",
                    "columnDelimiter": "COMMA",
                    "lineEnding": "LF",
                }
            )
        ],
    )
    job = make_client().bulk_create_query_job(SOQL)
    assert (job.id, job.state, job.api_version, job.is_terminal) == (
        JOB,
        "UploadComplete",
        "62.0",
        False,
    )


def test_create_without_deleted_rows_asks_for_query(sf, make_client):
    sf.post(
        f"{API}/jobs/query",
        json=payload("bulk_job_created.json"),
        match=[matchers.json_params_matcher({"operation": "query"}, strict_match=False)],
    )
    make_client().bulk_create_query_job(SOQL, include_deleted=False)


def test_a_failed_job_is_a_normal_job_with_its_message(sf, make_client):
    sf.get(f"{API}/jobs/query/{JOB}", json=payload("bulk_job_failed.json"))
    job = make_client().bulk_get_job(JOB)
    assert job.state == "Failed"
    assert job.is_terminal
    assert job.error_message == "Retried more than 15 times"
    assert job.retries == 15


def test_a_complete_job_reports_its_counts(sf, make_client):
    sf.get(f"{API}/jobs/query/{JOB}", json=payload("bulk_job_complete.json"))
    job = make_client().bulk_get_job(JOB)
    assert (job.state, job.number_records_processed, job.total_processing_time_ms) == (
        "JobComplete",
        3,
        334,
    )


def test_a_result_page_is_streamed_gzipped_with_its_locator(sf, make_client):
    csv_text = payload("bulk_results_page1.csv")
    sf.get(
        f"{API}/jobs/query/{JOB}/results",
        body=gzip.compress(csv_text.encode()),
        headers={
            "Content-Encoding": "gzip",
            "Sforce-Locator": "MTAwMDA",
            "Sforce-NumberOfRecords": "2",
        },
        content_type="text/csv",
        match=[
            matchers.query_param_matcher({"maxRecords": "50000"}),
            matchers.header_matcher({"Accept": "text/csv", "Accept-Encoding": "gzip"}),
        ],
    )
    with make_client().bulk_result_page(JOB, max_records=50000) as page:
        rows = list(csv.reader(page.text()))
    assert page.next_locator == "MTAwMDA"
    assert page.number_of_records == 2
    assert rows[0] == ["Id", "Email", "Description", "SystemModstamp"]
    assert rows[1][2] == "Line one\nline two, with a comma"
    assert rows[2][1] == ""


def test_the_last_page_has_no_next_locator(sf, make_client):
    sf.get(
        f"{API}/jobs/query/{JOB}/results",
        body='"Id"\n"0035g00000AbCdGAAZ"\n',
        headers={"Sforce-Locator": "null", "Sforce-NumberOfRecords": "1"},
        match=[matchers.query_param_matcher({"locator": "MTAwMDA", "maxRecords": "2"})],
    )
    with make_client().bulk_result_page(JOB, locator="MTAwMDA", max_records=2) as page:
        assert page.text().read() == '"Id"\n"0035g00000AbCdGAAZ"\n'
    assert page.locator == "MTAwMDA"
    assert page.next_locator is None


class _CutAfter(io.RawIOBase):
    """A socket that delivers some bytes, then breaks."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.data:
            raise ConnectionResetError(104, "Connection reset by peer")
        n = min(len(buffer), len(self.data))
        buffer[:n], self.data = self.data[:n], self.data[n:]
        return n


def test_a_connection_cut_mid_page_is_transient(sf, make_client):
    sf.get(
        f"{API}/jobs/query/{JOB}/results",
        body=io.BufferedReader(_CutAfter(b'"Id"\n"0035g00000AbCd')),
        headers={"Sforce-Locator": "MjAwMDA", "Sforce-NumberOfRecords": "50000"},
    )
    with make_client().bulk_result_page(JOB) as page:
        reader = csv.reader(page.text())
        with pytest.raises(SalesforceUnavailable) as caught:
            list(reader)
    assert caught.value.error_code == "DOWNLOAD_INTERRUPTED"
    assert caught.value.permanent is False


def test_abort_patches_the_state(sf, make_client):
    sf.patch(
        f"{API}/jobs/query/{JOB}",
        json=payload("bulk_job_aborted.json"),
        match=[matchers.json_params_matcher({"state": "Aborted"})],
    )
    assert make_client().bulk_abort_job(JOB).state == "Aborted"


def test_delete_removes_the_job(sf, make_client):
    sf.delete(f"{API}/jobs/query/{JOB}", status=204)
    assert make_client().bulk_delete_job(JOB) is None


def test_the_job_list_follows_next_records_url_to_the_last_page(sf, make_client):
    def job(n):
        return {
            "id": f"750R0000000zhf{n}IAA",
            "state": "JobComplete",
            "apiVersion": 66.0,
            "createdDate": f"2026-11-2{n}T10:00:00.000+0000",
        }

    more = "/services/data/v62.0/jobs/query?queryLocator=01gRM000000ABCD-1000"
    sf.get(
        f"{API}/jobs/query",
        json={"done": False, "records": [job(1), job(2)], "nextRecordsUrl": more},
        match=[matchers.query_param_matcher({"jobType": "V2Query"})],
    )
    sf.get(
        f"{API}/jobs/query",
        json={"done": True, "records": [job(3)], "nextRecordsUrl": None},
        match=[matchers.query_param_matcher({"queryLocator": "01gRM000000ABCD-1000"})],
    )
    jobs = list(make_client().bulk_list_jobs())
    assert [j.created_date[:10] for j in jobs] == ["2026-11-21", "2026-11-22", "2026-11-23"]


@pytest.mark.parametrize("downloaded", [False, True])
@pytest.mark.parametrize("encoding", ["gzip", "x-gzip"])  # RFC 9110 8.4.1.3: a proxy may say it
def test_a_downloaded_page_reads_as_the_streamed_one(sf, make_client, encoding, downloaded):
    csv_text = payload("bulk_results_page1.csv")
    sf.get(
        f"{API}/jobs/query/{JOB}/results",
        body=gzip.compress(csv_text.encode()),
        headers={"Content-Encoding": encoding, "Sforce-Locator": "MTAwMDA"},
        content_type="text/csv",
    )
    streamed = make_client().bulk_result_page(JOB)
    with streamed.download() if downloaded else streamed as page:
        assert page.text().read() == csv_text
    assert page.next_locator == "MTAwMDA"


def test_a_connection_cut_mid_download_is_transient(sf, make_client):
    sf.get(
        f"{API}/jobs/query/{JOB}/results",
        body=io.BufferedReader(_CutAfter(b'"Id"\n"0035g00000AbCd')),
        headers={"Sforce-Locator": "MjAwMDA"},
    )
    page = make_client().bulk_result_page(JOB)
    with pytest.raises(SalesforceUnavailable) as caught:
        page.download()
    assert caught.value.error_code == "DOWNLOAD_INTERRUPTED"


@pytest.mark.parametrize("downloaded", [False, True])
@pytest.mark.parametrize(
    "body",
    [
        lambda gz: gz[:-12],  # closed cleanly before the gzip stream's end
        lambda gz: io.BufferedReader(_CutAfter(gz[: len(gz) // 2])),  # the connection broke
        lambda gz: b"<html>not gzip</html>",  # labelled gzip, but not
    ],
    ids=["short", "cut", "not-gzip"],
)
def test_a_broken_gzipped_page_is_read_again_not_cut_short(sf, make_client, body, downloaded):
    """The page's gzip is undone by ISA-L (connections/salesforce/bulk.py, _Inflated): a body
    that stops short of its gzip stream's end is a transient failure, never a short page."""
    rows = "".join(f'"0035g00000AbC{n:03d}AAZ","{"x" * 200}"\n' for n in range(400))
    sf.get(
        f"{API}/jobs/query/{JOB}/results",
        body=body(gzip.compress(('"Id","Description"\n' + rows).encode())),
        headers={"Content-Encoding": "gzip", "Sforce-Locator": "MjAwMDA"},
    )

    def read() -> list:
        page = make_client().bulk_result_page(JOB)
        with page.download() if downloaded else page as readable:
            return list(csv.reader(readable.text()))

    with pytest.raises(SalesforceUnavailable) as caught:
        read()
    assert caught.value.error_code == "DOWNLOAD_INTERRUPTED"
    assert caught.value.permanent is False


def test_result_locators_follow_the_page_list(sf, make_client):
    results = f"/services/data/v62.0/jobs/query/{JOB}/results"
    more = f"/services/data/v62.0/jobs/query/{JOB}/resultPages?locator=Mg&maxRecords=2"
    sf.get(
        f"{API}/jobs/query/{JOB}/resultPages",
        json={
            "resultPages": [
                {"resultUrl": f"{results}?maxRecords=2"},
                {"resultUrl": f"{results}?locator=MQ&maxRecords=2"},
            ],
            "nextRecordsUrl": more,
            "done": False,
        },
        match=[matchers.query_param_matcher({"maxRecords": "2"})],
    )
    sf.get(
        f"{API}/jobs/query/{JOB}/resultPages",
        json={
            "resultPages": [{"resultUrl": f"{results}?locator=Mg&maxRecords=2"}],
            "nextRecordsUrl": None,
            "done": True,
        },
        match=[matchers.query_param_matcher({"locator": "Mg", "maxRecords": "2"})],
    )
    assert list(make_client().bulk_result_locators(JOB, max_records=2)) == [None, "MQ", "Mg"]
