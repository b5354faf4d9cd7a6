"""Fuzzing every customer URL of the audiences pages (and the read-only connection pages):
random query parameters, JSON bodies and form posts never get a server error."""

import json

import pytest
from django.urls import URLPattern, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiences import services
from audiences.models import CsvList
from tests.audiences.conftest import describe

NAMES = ["connection", "include", "exclude", "criteria", "holds", "name", "kind", "page",
         "encoding", "delimiter", "run", "save", "reading", "mapping", "email", "domain",
         "workspace", "q", "o", "next"]  # fmt: skip
NASTY = st.sampled_from(["", "abc", "[]", "[[1]]", "1e9", "-1", "0", "1.5", "9" * 20, "{}",
                         '{"a":1}', "null", "\x00", "\u2019", "%", "../", " 1 "])  # fmt: skip
VALUES = st.one_of(NASTY, st.text(max_size=12))
QUERY = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=6)), VALUES, max_size=5)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(),
              st.text(max_size=8), NASTY),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(NAMES), inner, max_size=4)),
    max_leaves=12,
)  # fmt: skip
BODY = st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(NAMES), JSON_VALUES, max_size=6))


def _customer_urls():
    """(prefix, pattern) of every audiences URL, and the connection pages that only read."""
    read_only = {"index", "workspace", "detail", "settings"}
    found = []
    for top in get_resolver().url_patterns:
        namespace = getattr(top, "namespace", None)
        if namespace not in ("audiences", "connections"):
            continue
        for pattern in top.url_patterns:
            assert isinstance(pattern, URLPattern)
            if namespace == "connections" and pattern.name not in read_only:
                continue  # the others talk to Salesforce (OAuth, revoke): never fuzzed
            found.append((namespace, str(top.pattern), pattern))
    return found


URLS = _customer_urls()


@pytest.fixture
def world_ids(client, user, connection, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    describe(connection)
    csv_list = CsvList.objects.create(
        workspace=connection.workspace, name="L", kind="people", file="x.csv",
        status="mapping", header=["Email"], mapping={"email": 0},
    )  # fmt: skip
    audience = services.audience_create(
        workspace=connection.workspace, connection=connection, name="A", include=[csv_list]
    )
    client.force_login(user)
    return {"pk": [audience.pk, csv_list.pk, connection.pk], "slug": [connection.workspace.slug]}


def _path(prefix: str, pattern: URLPattern, draw_pk, draw_str, ids) -> str:
    route = str(pattern.pattern)
    for name, converter in pattern.pattern.converters.items():
        kind = type(converter).__name__
        value = draw_pk() if kind == "IntConverter" else draw_str()
        for marker in (f"<int:{name}>", f"<str:{name}>", f"<slug:{name}>", f"<{name}>"):
            route = route.replace(marker, str(value))
    return "/" + prefix + route


@pytest.mark.parametrize(
    ("namespace", "prefix", "pattern"), URLS, ids=[f"{n}:{p.name}" for n, _, p in URLS]
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), query=QUERY, body=BODY)
def test_no_server_error(client, world_ids, namespace, prefix, pattern, data, query, body):
    pk = st.one_of(st.sampled_from(world_ids["pk"]), st.integers(0, 10**25))
    text = st.one_of(st.sampled_from([*world_ids["slug"], "people", "companies"]),
                     st.text("abc-_1", min_size=1, max_size=8))  # fmt: skip
    path = _path(prefix, pattern, lambda: data.draw(pk), lambda: data.draw(text), world_ids)
    responses = [client.get(path, query)]
    if namespace == "audiences":
        responses.append(client.post(path, json.dumps(body), content_type="application/json"))
        form = body if isinstance(body, dict) else {"x": body}
        form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in form.items()}
        responses.append(client.post(path, {k: v.replace("\x00", "") for k, v in form.items()}))
    for response in responses:
        assert response.status_code < 500, (path, response.status_code)
