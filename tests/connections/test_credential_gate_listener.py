"""End to end: no credential reaches a local listener through any catalogue bypass.

A real socket on 127.0.0.1 stands in for the attacker's host; every bypass of the catalogue
is aimed at it as an instance URL, an identity URL, a ``nextRecordsUrl`` and a stored login
host (the next refresh), with real requests sessions. The listener must not see a single
connection. Loopback http is allowed here (as in DEBUG), but 127.0.0.1 and localhost are not
on the allow-list, as in production.
"""

import socket
import threading

import pytest
import requests
from urllib3.util import parse_url

from connections.models import Connection
from connections.salesforce.client import SalesforceClient
from connections.salesforce.exceptions import SalesforceInstanceNotAllowed
from connections.services import connection_refresh_tokens, salesforce_client_for
from tests.connections.ssrf_catalogue import BYPASSES, LOOPBACK_PLAIN

ALLOWED = [".salesforce.com", ".force.com"]
TOKEN = "00D5g000004ZtQx!AQ8AQBearerTokenForTheListenerTest"


class Listener:
    """Accepts connections on 127.0.0.1 and remembers what arrived."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.socket.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.received.append(conn.recv(65536) or b"<connected>")
                except OSError:
                    self.received.append(b"<connected>")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


class NoSalesforceSession(requests.Session):
    """A real session that never leaves the machine: a request to a real Salesforce name
    (which only a broken gate could produce) fails instead of going out."""

    def send(self, request, **kwargs):
        assert not (parse_url(request.url).host or "").endswith("salesforce.com")
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def listener():
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture
def production_hosts(settings):
    settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS = ALLOWED
    settings.SALESFORCE_INSECURE_LOOPBACK = True


def _aimed(template: str, port: int) -> str:
    return template.format(host="127.0.0.1", port=port)


def _client(instance_url="https://acme.my.salesforce.com") -> SalesforceClient:
    return SalesforceClient(
        instance_url=instance_url,
        access_token=TOKEN,
        api_version="62.0",
        timeout=2.0,
        retry_attempts=1,
        allowed_hosts=ALLOWED,
        loopback_http=True,
        session=NoSalesforceSession(),
    )


@pytest.mark.parametrize("template", BYPASSES + LOOPBACK_PLAIN)
def test_no_data_call_reaches_the_listener(template, listener):
    url = _aimed(template, listener.port)
    client = _client()
    with pytest.raises(SalesforceInstanceNotAllowed):
        client.identity(url)
    with pytest.raises(SalesforceInstanceNotAllowed):
        next(client.query_pages("SELECT Id FROM Contact", next_records_url=url))
    with pytest.raises(SalesforceInstanceNotAllowed):
        _client(instance_url=url)
    assert listener.received == []


@pytest.mark.parametrize("template", BYPASSES + LOOPBACK_PLAIN)
def test_no_refresh_reaches_the_listener(template, listener, production_hosts, connection):
    url = _aimed(template, listener.port)
    # A row written before the model validated login_host (or edited in the database).
    Connection.objects.filter(pk=connection.pk).update(login_host=url)
    connection.refresh_from_db()
    with pytest.raises(SalesforceInstanceNotAllowed):
        connection_refresh_tokens(connection=connection)
    assert listener.received == []


@pytest.mark.parametrize("template", BYPASSES + LOOPBACK_PLAIN)
def test_a_stored_instance_url_cannot_aim_a_client_at_the_listener(
    template, listener, production_hosts, connection
):
    Connection.objects.filter(pk=connection.pk).update(instance_url=_aimed(template, listener.port))
    connection.refresh_from_db()
    with pytest.raises(SalesforceInstanceNotAllowed):
        salesforce_client_for(connection).limits()
    assert listener.received == []


def test_the_listener_does_hear_a_request_that_is_allowed():
    """The control: a listener on the allow-list receives the call (and its token)."""
    listener = Listener()
    client = SalesforceClient(
        instance_url=f"http://127.0.0.1:{listener.port}",
        access_token=TOKEN,
        api_version="62.0",
        timeout=0.5,
        retry_attempts=1,
        allowed_hosts=["127.0.0.1"],
        loopback_http=True,
    )
    with pytest.raises(Exception):  # noqa: B017 - the listener closes without answering
        client.limits()
    listener.close()
    assert any(TOKEN.encode() in data for data in listener.received)
