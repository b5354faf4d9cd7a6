"""Tokens are encrypted at rest and never rendered."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection as db

from connections.models import Connection

ACCESS = "00D5g000000SECRET!AccessTokenThatMustNeverLeak"
REFRESH = "5Aep861SECRETRefreshTokenThatMustNeverLeak"


def _raw_columns(pk: int) -> tuple[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM connections_connection WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def test_the_database_column_holds_no_plaintext_token(connection_factory):
    connection = connection_factory(access_token=ACCESS, refresh_token=REFRESH)
    raw_access, raw_refresh = _raw_columns(connection.pk)
    assert ACCESS not in raw_access
    assert REFRESH not in raw_refresh
    assert raw_access.startswith("gAAAAA")  # a Fernet token


def test_the_model_reads_the_token_back(connection_factory):
    connection = connection_factory(access_token=ACCESS, refresh_token=REFRESH)
    fresh = Connection.objects.get(pk=connection.pk)
    assert (fresh.access_token, fresh.refresh_token) == (ACCESS, REFRESH)


def test_an_empty_token_stays_empty(connection_factory):
    connection = connection_factory(access_token="", refresh_token="")
    assert _raw_columns(connection.pk) == ("", "")


def test_an_old_key_still_decrypts_after_rotation(connection_factory, settings):
    connection = connection_factory(access_token=ACCESS)
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode() + ","
    settings.FIELD_ENCRYPTION_KEY += _old_key()
    assert Connection.objects.get(pk=connection.pk).access_token == ACCESS


def _old_key() -> str:
    from primer_sf import settings_test

    return settings_test.FIELD_ENCRYPTION_KEY


def test_a_lost_key_reads_as_no_token_instead_of_crashing(connection_factory, settings):
    connection = connection_factory(access_token=ACCESS)
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    assert Connection.objects.get(pk=connection.pk).access_token == ""


@pytest.mark.parametrize("token", [ACCESS, REFRESH])
def test_tokens_never_appear_in_admin_pages(staff_client, connection_factory, token):
    connection = connection_factory(access_token=ACCESS, refresh_token=REFRESH)
    for url in (
        "/admin/connections/connection/",
        f"/admin/connections/connection/{connection.pk}/change/",
    ):
        page = staff_client.get(url)
        assert page.status_code == 200
        assert token not in page.content.decode()
    assert token not in repr(connection)
    assert token not in str(connection)
