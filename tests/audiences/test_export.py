"""Export: normalised, SHA-256-hashed email and phone; formula-injection guard; minimums."""

import csv
import hashlib
import io

import pytest
from django.urls import reverse

from audiences import services
from audiences.normalise import cell_safe, phone_e164
from audiences.selectors.members import EXPORT_HEADER, platform_warnings

ALL_CONTACTS = {
    "type": "group",
    "children": [{"type": "condition", "object": "Contact", "field": "Id", "operator": "is_known"}],
}


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def exported(ready_connection, record_factory, client, user):
    account = record_factory(ready_connection, "Account", Name='=HYPERLINK("http://x")')
    record_factory(
        ready_connection,
        "Contact",
        FirstName="+Ada",
        LastName="@Lovelace",
        Email="  Ada@Example.COM ",
        Phone="(415) 555-2671",
        MailingCountry="United States",
        AccountId=account.sf_id,
        Title="-CTO",
    )
    audience = services.audience_create(
        workspace=ready_connection.workspace,
        connection=ready_connection,
        name="All",
        holds="contacts",
        criteria=ALL_CONTACTS,
    )
    services.audience_evaluate(audience=audience, trigger="customer")
    client.force_login(user)
    response = client.get(reverse("audiences:export", args=[audience.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    return rows


def test_email_and_phone_are_normalised_and_hashed(exported):
    row = exported[0]
    assert list(row) == EXPORT_HEADER
    assert row["email"] == "ada@example.com"
    assert row["email_sha256"] == _sha("ada@example.com")
    assert row["phone"] == "14155552671"
    assert row["phone_e164_sha256"] == _sha("+14155552671")
    assert row["phone_digits_sha256"] == _sha("14155552671")


def test_cells_that_spreadsheets_would_run_are_escaped(exported):
    row = exported[0]
    assert row["first_name"] == "'+Ada"
    assert row["last_name"] == "'@Lovelace"
    assert row["title"] == "'-CTO"
    assert row["company"] == '\'=HYPERLINK("http://x")'


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_prefix_is_guarded(value):
    assert cell_safe(value) == "'" + value


def test_phones_need_a_country_when_they_are_local():
    assert phone_e164("(415) 555-2671") is None
    assert phone_e164("(415) 555-2671", "US") == "+14155552671"
    assert phone_e164("+44 20 7946 0958") == "+442079460958"
    assert phone_e164("12") is None


def test_warnings_under_each_platform_minimum(settings):
    minimums = {"linkedin": 300, "meta": 100, "google": 1000}
    warnings = platform_warnings(size=150, minimums=minimums)
    assert len(warnings) == 2
    assert warnings[0].startswith("Google needs at least 1,000")
    assert warnings[1].startswith("LinkedIn needs at least 300")
    assert platform_warnings(size=5000, minimums=minimums) == []


def test_the_summary_page_shows_the_configured_minimum(
    ready_connection, record_factory, client, user, settings
):
    settings.AUDIENCE_PLATFORM_MINIMUMS = {"meta": 5}
    record_factory(ready_connection, "Contact", Email="a@acme.example")
    audience = services.audience_create(
        workspace=ready_connection.workspace,
        connection=ready_connection,
        name="All",
        criteria=ALL_CONTACTS,
    )
    services.audience_evaluate(audience=audience, trigger="customer")
    client.force_login(user)
    page = client.get(reverse("audiences:detail", args=[audience.pk])).content.decode()
    assert "Meta needs at least 5 matched members to serve; this audience has 1" in page
