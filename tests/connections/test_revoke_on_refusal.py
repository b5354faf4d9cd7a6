"""A grant whose instance_url is refused is revoked at once at the trusted login host, nothing
is stored, and the customer is told why."""

import pytest
from responses import matchers

from connections.models import Connection
from connections.salesforce import oauth
from connections.salesforce.exceptions import SalesforceInstanceNotAllowed
from tests.connections.conftest import LOGIN, payload
from tests.connections.test_callback_view import started  # noqa: F401

BYPASS = "https://attacker.example\\@acme.my.salesforce.com"
GRANT = payload("token_response.json")


def _token_and_revoke(sf, *, revoke_status=200):
    sf.post(f"{LOGIN}/services/oauth2/token", json=dict(GRANT, instance_url=BYPASS))
    sf.post(
        f"{LOGIN}/services/oauth2/revoke",
        status=revoke_status,
        body="",
        match=[matchers.urlencoded_params_matcher({"token": GRANT["refresh_token"]})],
    )


def _exchange():
    return oauth.token_exchange(
        login_url=LOGIN,
        client_id="client-id",
        client_secret="client-secret",
        redirect_uri="https://app.primer.example/cb",
        code="aPrx",
        code_verifier="v" * 64,
        timeout=5.0,
        gate=oauth.Gate((".salesforce.com",)),
    )


def test_the_refused_grant_is_revoked_at_the_login_host(sf):
    _token_and_revoke(sf)
    with pytest.raises(SalesforceInstanceNotAllowed) as caught:
        _exchange()
    assert caught.value.grant_revoked is True
    assert [call.request.url for call in sf.calls] == [
        f"{LOGIN}/services/oauth2/token",
        f"{LOGIN}/services/oauth2/revoke",
    ]


def test_a_failed_revocation_is_reported_too(sf):
    _token_and_revoke(sf, revoke_status=503)
    with pytest.raises(SalesforceInstanceNotAllowed) as caught:
        _exchange()
    assert caught.value.grant_revoked is False


def test_the_customer_sees_why_and_nothing_is_stored(started, sf):  # noqa: F811
    client, _ = started
    before = list(Connection.objects.values_list("pk", "instance_url", "access_token"))
    _token_and_revoke(sf)
    response = client.get(
        "/connections/oauth/callback/", {"state": "good-state", "code": "aPrx"}, follow=True
    )
    text = " ".join(str(m) for m in response.context["messages"])
    assert "host this installation does not trust" in text
    assert "revoked at once" in text
    assert list(Connection.objects.values_list("pk", "instance_url", "access_token")) == before
