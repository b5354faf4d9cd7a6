"""REST queries: pages follow nextRecordsUrl, resume from one, and come without attributes."""

from responses import matchers

from tests.connections.conftest import API, INSTANCE, payload

SOQL = "SELECT Id, Email, Account.Name, SystemModstamp FROM Contact"
NEXT = "/services/data/v62.0/query/01g5g00000GqXyZAAV-2"


def _two_pages(sf, endpoint="query"):
    sf.get(
        f"{API}/{endpoint}",
        json=payload("query_contacts_page1.json"),
        match=[matchers.query_param_matcher({"q": SOQL})],
    )
    sf.get(f"{INSTANCE}{NEXT}", json=payload("query_contacts_page2.json"))


def test_query_pages_follow_next_records_url(sf, make_client):
    _two_pages(sf)
    pages = list(make_client().query_pages(SOQL))
    assert [len(p.records) for p in pages] == [2, 1]
    assert pages[0].next_records_url == NEXT
    assert pages[1].next_records_url is None
    assert pages[1].done is True
    assert pages[0].total_size == 3


def test_records_come_without_attributes_at_any_depth(sf, make_client):
    _two_pages(sf)
    records = list(make_client().query(SOQL))
    assert [r["Id"] for r in records] == [
        "0035g00000AbCdEAAZ",
        "0035g00000AbCdFAAZ",
        "0035g00000AbCdGAAZ",
    ]
    assert records[0]["Account"] == {"Name": "Acme Corp"}
    assert records[1]["Account"] is None
    assert all("attributes" not in r for r in records)


def test_include_deleted_uses_query_all(sf, make_client):
    _two_pages(sf, endpoint="queryAll")
    assert len(list(make_client().query(SOQL, include_deleted=True))) == 3


def test_a_query_resumes_from_a_stored_next_records_url(sf, make_client):
    sf.get(f"{INSTANCE}{NEXT}", json=payload("query_contacts_page2.json"))
    pages = list(make_client().query_pages(SOQL, next_records_url=NEXT))
    assert [r["Id"] for r in pages[0].records] == ["0035g00000AbCdGAAZ"]


def test_batch_size_is_asked_with_the_query_options_header(sf, make_client):
    sf.get(
        f"{API}/query",
        json=payload("query_contacts_page2.json"),
        match=[matchers.header_matcher({"Sforce-Query-Options": "batchSize=500"})],
    )
    list(make_client().query_pages(SOQL, batch_size=500))


def test_count_returns_total_size(sf, make_client):
    sf.get(
        f"{API}/query",
        json=payload("count.json"),
        match=[matchers.query_param_matcher({"q": "SELECT COUNT() FROM Contact"})],
    )
    assert make_client().count("SELECT COUNT() FROM Contact") == 1742


def test_user_permissions_reads_user_permission_access(sf, make_client):
    sf.get(f"{API}/query", json=payload("user_permissions.json"))
    assert make_client().user_permissions() == {
        "PermissionsApiEnabled": True,
        "PermissionsViewSetup": True,
    }
    assert "UserPermissionAccess" in sf.calls[0].request.url


def test_identity_reads_the_identity_url_on_the_login_host(sf, make_client):
    url = "https://login.salesforce.com/id/00D5g000004ZtQxEAK/0055g00000BxYzQAAV"
    sf.get(url, json=payload("identity.json"))
    assert make_client().identity(url)["username"] == "integration@acme.example"


def test_describe_and_describe_global(sf, make_client):
    sf.get(f"{API}/sobjects", json=payload("describe_global.json"))
    sf.get(f"{API}/sobjects/Account/describe", json=payload("describe_account.json"))
    client = make_client()
    assert "Campaign" in {o["name"] for o in client.describe_global()["sobjects"]}
    assert client.describe("Account")["name"] == "Account"


def test_get_blob_returns_bytes(sf, make_client):
    path = "/services/data/v62.0/sobjects/Attachment/00P5g00000AbCdEEAZ/Body"
    sf.get(f"{INSTANCE}{path}", body=b"%PDF-1.4 binary", content_type="application/pdf")
    assert make_client().get_blob(path) == b"%PDF-1.4 binary"
