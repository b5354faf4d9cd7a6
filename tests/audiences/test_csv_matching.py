"""CSV rows match ingested people by email then name + company domain; companies by website
and by their contacts' email domains; match rate = matched / valid; lists in audiences."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audiences import services
from audiences.models import CsvRowMatch
from audiences.selectors.lists import csv_list_match_counts


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _list(workspace, user, text, kind="people"):
    file = SimpleUploadedFile("l.csv", text.encode(), content_type="text/csv")
    csv_list = services.csv_list_upload(
        workspace=workspace, name=kind, kind=kind, file=file, user=user
    )
    services.csv_list_set_mapping(csv_list=csv_list, mapping=csv_list.mapping)
    return services.csv_list_import(csv_list=csv_list)


@pytest.fixture
def crm(ready_connection, record_factory):
    c, make = ready_connection, record_factory
    acme = make(c, "Account", Name="Acme", Website="https://www.acme.co.uk", Industry="Retail")
    globex = make(c, "Account", Name="Globex", Website=None, Industry="Technology")
    return {
        "acme": acme,
        "globex": globex,
        "ada": make(
            c,
            "Contact",
            FirstName="Ada",
            LastName="Lovelace",
            Email="ADA@acme.co.uk",
            AccountId=acme.sf_id,
        ),
        "grace": make(
            c, "Contact", FirstName="Grace", LastName="Hopper", Email=None, AccountId=acme.sf_id
        ),
        "gx": make(
            c,
            "Contact",
            FirstName="G",
            LastName="X",
            Email="g@mail.globex.com",
            AccountId=globex.sf_id,
        ),
        "lead": make(
            c,
            "Lead",
            FirstName="Alan",
            LastName="Turing",
            Email="alan@bletchley.example",
            Website="bletchley.example",
        ),
        "deleted": make(
            c, "Lead", FirstName="Old", LastName="Gone", Email="old@gone.example", is_deleted=True
        ),
    }


PEOPLE = """Email,First Name,Last Name,Company Domain
ada@acme.co.uk,,,
,grace,HOPPER,https://acme.co.uk/
,Alan,Turing,bletchley.example
old@gone.example,,,
nobody@nowhere.example,,,
,Grace,Hopper,other.example
"""


def test_people_match_by_email_then_name_and_domain(ready_connection, crm, user):
    csv_list = _list(ready_connection.workspace, user, PEOPLE)
    rows = CsvRowMatch.objects.filter(row__csv_list=csv_list).select_related("row")
    matches = {m.row.row_number: (m.record_id, m.method) for m in rows}
    assert matches == {
        1: (crm["ada"].pk, "email"),
        2: (crm["grace"].pk, "name_domain"),
        3: (crm["lead"].pk, "name_domain"),
    }
    result = csv_list_match_counts(csv_list=csv_list, connection=ready_connection)
    assert (result.matched, result.valid, round(result.rate, 3)) == (3, 6, 0.5)


def test_companies_match_by_website_and_by_contacts_email_domain(ready_connection, crm, user):
    text = "Company Domain\nacme.co.uk\nglobex.com\nunknown.example\ngmail.com\n"
    csv_list = _list(ready_connection.workspace, user, text, kind="companies")
    matched = dict(
        csv_list.rows.filter(matches__isnull=False).values_list("row_number", "matches__record_id")
    )
    assert matched == {1: crm["acme"].pk, 2: crm["globex"].pk}
    assert csv_list_match_counts(csv_list=csv_list, connection=ready_connection).rate == 0.5


def test_unmatched_rows_download(ready_connection, crm, user, client):
    csv_list = _list(ready_connection.workspace, user, PEOPLE)
    client.force_login(user)
    url = reverse("audiences:csv_list_unmatched", args=[csv_list.pk, ready_connection.pk])
    rows = list(csv.reader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))
    assert [r[0] for r in rows] == ["row", "4", "5", "6"]


def test_lists_include_and_exclude_in_an_audience(ready_connection, crm, user):
    include = _list(ready_connection.workspace, user, PEOPLE)
    exclude = _list(ready_connection.workspace, user, "Email\nalan@bletchley.example\n")
    audience = services.audience_create(
        workspace=ready_connection.workspace,
        connection=ready_connection,
        name="From CSV",
        include=[include],
        exclude=[exclude],
    )
    services.audience_evaluate(audience=audience, trigger="customer")
    audience.refresh_from_db()
    assert set(audience.members.values_list("record_id", flat=True)) == {
        crm["ada"].pk,
        crm["grace"].pk,
    }
    assert audience.match_rate == 0.5


def test_a_companies_list_selects_people_at_those_companies(ready_connection, crm, user):
    companies = _list(ready_connection.workspace, user, "Domain\nglobex.com\n", kind="companies")
    audience = services.audience_create(
        workspace=ready_connection.workspace,
        connection=ready_connection,
        name="At Globex",
        holds="contacts",
        include=[companies],
    )
    services.audience_evaluate(audience=audience, trigger="customer")
    assert list(audience.members.values_list("record_id", flat=True)) == [crm["gx"].pk]


def test_csv_lists_and_criteria_combine(ready_connection, crm, user):
    include = _list(ready_connection.workspace, user, PEOPLE)
    criteria = {
        "type": "group",
        "children": [
            {"type": "condition", "object": "Contact", "field": "Email", "operator": "is_known"}
        ],
    }
    audience = services.audience_create(
        workspace=ready_connection.workspace,
        connection=ready_connection,
        name="Both",
        holds="contacts",
        criteria=criteria,
        include=[include],
    )
    services.audience_evaluate(audience=audience, trigger="customer")
    assert list(audience.members.values_list("record_id", flat=True)) == [crm["ada"].pk]


def test_csv_only_audiences_work_before_the_initial_ingestion(
    loading_connection, record_factory, user
):
    ada = record_factory(loading_connection, "Contact", Email="ada@acme.co.uk")
    include = _list(loading_connection.workspace, user, "Email\nada@acme.co.uk\n")
    audience = services.audience_create(
        workspace=loading_connection.workspace,
        connection=loading_connection,
        name="CSV",
        include=[include],
    )
    services.audience_evaluate(audience=audience, trigger="customer")
    audience.refresh_from_db()
    assert audience.status == "ready"
    assert list(audience.members.values_list("record_id", flat=True)) == [ada.pk]
