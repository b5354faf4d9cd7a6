"""The credential gate as this installation configures it (settings-backed).

``connections.salesforce.hosts.url_check`` is the gate itself (pure); this module feeds it
the allow-list from settings, for the client, the OAuth calls, the model and the admin form.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from urllib3.util import parse_url

from connections.salesforce.exceptions import SalesforceInstanceNotAllowed
from connections.salesforce.oauth import Gate

# Every My Domain (production and sandbox) is a login host a customer may pick.
# Reference: https://help.salesforce.com/s/articleView?id=sf.domain_name_format.htm
MY_DOMAIN_SUFFIX = ".my.salesforce.com"


def credential_gate() -> Gate:
    """Where credentials may go: tokens to the allowed instance hosts; the client secret and
    refresh tokens also to the configured login hosts and any My Domain."""
    configured = []
    for url in (settings.SALESFORCE_LOGIN_URL, settings.SALESFORCE_SANDBOX_LOGIN_URL):
        host = parse_url(url).host if url else None
        if host:
            configured.append(host)
    return Gate(
        allowed_hosts=tuple(settings.SALESFORCE_ALLOWED_INSTANCE_HOSTS),
        loopback_http=settings.SALESFORCE_INSECURE_LOOPBACK,
        login_hosts=(*configured, MY_DOMAIN_SUFFIX),
    )


def trusted_login_url(login_url: str) -> str:
    """The origin of a stored login host, if credentials may go there; else
    ``SalesforceInstanceNotAllowed``. Checked on every use, not only when the row is saved."""
    return credential_gate().check_login(login_url)


def validate_login_host(value: str) -> None:
    """Model and form validator: a login host must pass the credential gate."""
    try:
        trusted_login_url(value)
    except SalesforceInstanceNotAllowed as refusal:
        raise ValidationError(refusal.message, code="untrusted_login_host") from None
