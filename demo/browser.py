"""The customer's browser on the emulator's login-and-consent page.

In the site, the browser follows our redirect to the authorize URL, the customer signs in and
allows access, and Salesforce redirects back to our callback with ``code`` and ``state``. The
demo has no browser, so this module does those two browser steps with plain HTTP: it fetches
the page the authorize URL serves, submits its form, and reads the redirect it answers with
(it does not follow it: the demo hands ``code`` to the same service the callback view calls).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

EMULATOR_PASSWORD = "emulator"


class ConsentError(Exception):
    """The consent page could not be used, or the org refused to authorize."""


def consent(authorize_url: str, *, username: str, password: str = EMULATOR_PASSWORD) -> str:
    """Sign in as ``username`` on the consent form and press Allow; return the redirect URL.

    The emulator's form: ``<select name="username">``, a ``password`` input and submit
    buttons ``name="action"`` (``allow`` / ``deny``), posting back to the same URL.
    """
    try:
        page = requests.get(authorize_url, timeout=30)
        if page.status_code != 200 or 'name="username"' not in page.text:
            raise ConsentError(f"The authorize page answered {page.status_code}: {page.text[:300]}")
        answer = requests.post(
            authorize_url,
            data={"username": username, "password": password, "action": "allow"},
            allow_redirects=False,
            timeout=30,
        )
    except requests.RequestException as error:
        raise ConsentError(f"The authorize page could not be reached: {error}") from error
    if answer.status_code not in (302, 303) or "Location" not in answer.headers:
        raise ConsentError(f"Signing in answered {answer.status_code}: {answer.text[:300]}")
    return answer.headers["Location"]


def code_from_redirect(location: str, *, state: str) -> str:
    """The authorization code from the redirect to our callback, after the checks the callback
    view makes: the ``state`` must be ours, and an ``error`` means the org said no."""
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    if query.get("state") != state:
        raise ConsentError("The redirect carried another state: refusing it (CSRF check).")
    if "error" in query:
        raise ConsentError(f"Not authorized: {query.get('error_description') or query['error']}")
    if not query.get("code"):
        raise ConsentError(f"The redirect carried no code: {location}")
    return query["code"]
