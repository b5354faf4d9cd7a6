"""``manage.py rotate_encryption_key``: every stored token moves to the first key, in batches,
resumably, so the old key can be dropped without losing a row."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection as db

from connections.models import Connection
from connections.services.keys import encrypted_rows_rotate

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


@pytest.fixture
def three_under_the_old_key(settings, connection_factory, workspace):
    settings.FIELD_ENCRYPTION_KEY = OLD
    rows = [
        connection_factory(workspace, access_token=f"00D!ACCESS-{n}", refresh_token=f"5Aep-{n}")
        for n in range(3)
    ]
    settings.FIELD_ENCRYPTION_KEY = f"{NEW},{OLD}"
    return rows


def _rotate(**options) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def _tokens() -> list[tuple[str, str]]:
    return list(Connection.objects.order_by("pk").values_list("access_token", "refresh_token"))


def _raw_access_tokens() -> list[str]:
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connections_connection ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_dropping_the_old_key_without_rotating_loses_the_tokens(three_under_the_old_key, settings):
    settings.FIELD_ENCRYPTION_KEY = NEW
    assert _tokens() == [("", "")] * 3


def test_after_rotating_the_old_key_can_go(three_under_the_old_key, settings):
    out = _rotate(batch_size=2)
    assert "connections.Connection: 2 rows done" in out
    assert "3 rows done (up to pk" in out
    assert "3 re-encrypted, 0 already current, 0 unreadable" in out
    settings.FIELD_ENCRYPTION_KEY = NEW
    assert _tokens() == [(f"00D!ACCESS-{n}", f"5Aep-{n}") for n in range(3)]
    for raw in _raw_access_tokens():
        Fernet(NEW.encode()).decrypt(raw.encode())  # raises if not under the new key


def test_a_stopped_rotation_resumes_with_what_is_left(three_under_the_old_key):
    first = encrypted_rows_rotate(
        model=Connection, columns=["access_token", "refresh_token"], batch_size=1
    )
    assert (first.rows, first.reencrypted) == (1, 1)
    out = _rotate()
    assert "2 re-encrypted, 1 already current" in out
    assert "0 re-encrypted, 3 already current" in _rotate()


def test_a_row_no_key_opens_is_left_alone_and_reported(three_under_the_old_key, settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    stranger = Connection.objects.order_by("pk").first()
    stranger.access_token = "00D!UNDER-A-LOST-KEY"
    stranger.save()
    settings.FIELD_ENCRYPTION_KEY = f"{NEW},{OLD}"
    before = _raw_access_tokens()[0]
    with pytest.raises(CommandError, match="1 row"):
        _rotate()
    assert _raw_access_tokens()[0] == before
    assert _tokens()[1:] == [(f"00D!ACCESS-{n}", f"5Aep-{n}") for n in (1, 2)]
