"""salesforce_client_for: a client wired to the connection's tokens, refresh, usage and budget."""

from unittest import mock

import pytest
from django.utils import timezone

from connections.models import ApiUsage
from connections.salesforce.client import SalesforceClient
from connections.salesforce.exceptions import SalesforceAuthError, SalesforceInstanceNotAllowed
from connections.salesforce.types import ApiUsage as Usage
from connections.salesforce.types import CallRecord
from connections.services import salesforce_client_for


def test_it_builds_a_client_for_the_instance_with_settings(connection, settings):
    settings.SALESFORCE_API_VERSION = "61.0"
    client = salesforce_client_for(connection)
    assert isinstance(client, SalesforceClient)
    assert client.instance_url == "https://acme.my.salesforce.com"
    assert client.api_version == "61.0"
    assert client.timeout == float(settings.SALESFORCE_REQUEST_TIMEOUT)


def test_the_refresh_callback_goes_through_the_locking_service(connection):
    client = salesforce_client_for(connection)
    with mock.patch(
        "connections.services.clients.connection_refresh_tokens", return_value="00D!NEW"
    ) as refresh:
        assert client.refresh() == "00D!NEW"
    refresh.assert_called_once_with(connection=connection)


def test_each_call_is_counted_when_reserved_and_its_answer_recorded(connection):
    seen, made = [], []
    client = salesforce_client_for(connection, recorder=seen.append, on_call=made.append)
    record = CallRecord("query", "GET", "/services/data/v62.0/query", 200, Usage(512, 15000), True)
    for _ in range(2):
        client.budget_check("query")
        client.recorder(record)

    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    assert ApiUsage.objects.get(connection=connection, hour=hour).calls == 2
    connection.refresh_from_db()
    assert (connection.org_api_used, connection.org_api_max) == (512, 15000)
    assert connection.org_api_checked_at is not None
    assert seen == [record, record]
    assert made == ["query", "query"]


def test_uncounted_calls_are_not_stored_as_usage(connection):
    client = salesforce_client_for(connection)
    client.recorder(CallRecord("versions", "GET", "/services/data/", 200, None, False))
    assert not ApiUsage.objects.exists()


def test_a_connection_without_tokens_gets_no_client(connection_factory):
    with pytest.raises(SalesforceAuthError):
        salesforce_client_for(connection_factory(access_token="", refresh_token=""))


def test_an_instance_outside_the_allow_list_gets_no_client(connection_factory):
    connection = connection_factory(instance_url="https://acme.salesforce.com.evil.example")
    with pytest.raises(SalesforceInstanceNotAllowed):
        salesforce_client_for(connection)
