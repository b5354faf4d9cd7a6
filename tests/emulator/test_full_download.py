"""A third-party-style check: download every record of a profile through Bulk API 2.0 over
HTTP, parse it with Python's csv module, and compare with describe and REST COUNT()."""

from __future__ import annotations

import csv
import gzip
import io

import pytest
import requests

from emulator import EmulatorServer, Org

V = "62.0"
OBJECTS = [
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Campaign",
    "CampaignMember",
    "User",
    "Document",
]


def download_everything(profile: str, objects=OBJECTS, max_records: int = 50_000) -> None:
    server = EmulatorServer(Org.from_profile(profile, seed=11), port=0).start()
    base = server.base_url
    try:
        s = requests.Session()
        token = s.post(
            f"{base}/services/oauth2/token",
            data={
                "grant_type": "password",
                "username": "integration@example.com",
                "password": "emulator",
                "client_id": "emulator-client-id",
                "client_secret": "emulator-client-secret",
            },
            timeout=30,
        ).json()["access_token"]
        s.headers["Authorization"] = f"Bearer {token}"
        for sobject in objects:
            describe = s.get(
                f"{base}/services/data/v{V}/sobjects/{sobject}/describe", timeout=60
            ).json()
            selectable = [
                f["name"]
                for f in describe["fields"]
                if f["type"] not in ("address", "location", "base64")
            ]
            job = s.post(
                f"{base}/services/data/v{V}/jobs/query",
                json={
                    "operation": "query",
                    "query": f"SELECT {', '.join(selectable)} FROM {sobject}",
                },
                timeout=60,
            ).json()
            while (
                s.get(f"{base}/services/data/v{V}/jobs/query/{job['id']}", timeout=60).json()[
                    "state"
                ]
                != "JobComplete"
            ):
                pass
            rows = 0
            ids = set()
            locator = None
            while True:
                params = {"maxRecords": max_records}
                if locator:
                    params["locator"] = locator
                r = s.get(
                    f"{base}/services/data/v{V}/jobs/query/{job['id']}/results",
                    params=params,
                    headers={"Accept-Encoding": "gzip"},
                    stream=True,
                    timeout=300,
                )
                assert r.status_code == 200
                text = gzip.decompress(r.raw.read(decode_content=False)).decode("utf-8")
                reader = csv.reader(io.StringIO(text))
                assert next(reader) == selectable, sobject
                page = 0
                for row in reader:
                    assert len(row) == len(selectable)
                    ids.add(row[0])
                    page += 1
                assert page == int(r.headers["Sforce-NumberOfRecords"])
                rows += page
                locator = r.headers["Sforce-Locator"]
                if locator == "null":
                    break
            count = s.get(
                f"{base}/services/data/v{V}/query",
                params={"q": f"SELECT COUNT() FROM {sobject}"},
                timeout=60,
            ).json()["totalSize"]
            assert rows == count == len(ids), sobject
    finally:
        server.stop()


def test_every_record_of_the_tiny_profile():
    download_everything("tiny", max_records=37)


def test_every_record_of_the_demo_profile():
    download_everything("demo")


@pytest.mark.slow
def test_every_record_of_the_seed_example_profile():
    download_everything("seed-example", max_records=100_000)
