"""Several independent orgs in one process, reached the way Salesforce's orgs are reached.

Salesforce has one login host for every org (login.salesforce.com). A username is unique across
all orgs, so the username someone signs in with decides the org; the token response then names
that org's own ``instance_url`` (its My Domain host), and the access token and the identity URL
carry its org id. Here:

* the **login host** is one port (``--port``): OAuth for every org's users. It finds the org by
  the username (authorize form, ``login_hint``, password grant), by the code or refresh token
  it issued (token grants, revoke), by the access token's org id prefix (userinfo, data calls),
  or by the org id in the identity URL;
* each org has its own **instance** port: its ``instance_url``, serving its REST, Bulk and
  control API exactly as a one-org emulator does.

Org k (1-based) has the seed ``seed + k - 1``, the org id of index k - 1, and the usual users at
``@example.com`` (org 1) or ``@orgk.example.com`` (org k >= 2); its API counters and usage are
its own. ``GET /__emulator__/orgs`` on the login host lists them.
"""

from __future__ import annotations

from waitress import trigger
from waitress.server import create_server
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Request, Response

from emulator.org import Org
from emulator.server import EmulatorServer
from emulator.web import control
from emulator.web.app import EmulatorApp
from emulator.web.common import json_response


class OrgRegistry:
    """The orgs of a multi-org emulator, and how a request finds its org."""

    def __init__(self, orgs: list[Org]):
        self.orgs = orgs
        self._by_username = {name: org for org in orgs for name in org.users_by_name}
        self._by_org_id = {org.org_id[:15]: org for org in orgs}

    @classmethod
    def from_profile(cls, name: str, count: int, *, seed: int = 42, **options) -> OrgRegistry:
        """``count`` orgs of profile ``name``, each with its own seed, org id and users."""
        return cls(
            [Org.from_profile(name, seed=seed + i, org_index=i, **options) for i in range(count)]
        )

    def by_username(self, username: str) -> Org | None:
        return self._by_username.get(username)

    def by_org_id(self, org_id: str) -> Org | None:
        return self._by_org_id.get(org_id[:15])

    def by_token(self, token: str) -> Org | None:
        """The org that issued an access token (its org id prefix), refresh token or code."""
        if "!" in token:
            return self.by_org_id(token.split("!", 1)[0])
        for org in self.orgs:
            state = org.auth.state
            if token in state.refresh or token in state.codes or token in state.access:
                return org
        return None

    def summary(self) -> list[dict]:
        return [
            {
                "org": index + 1,
                "org_id": org.org_id,
                "instance_url": org.base_url,
                "seed": org.seed,
                "profile": org.profile,
                "users": [u.username for u in org.user_list],
            }
            for index, org in enumerate(self.orgs)
        ]


class MultiOrgApp:
    """The WSGI application of a multi-org emulator: the login host and every org's instance."""

    def __init__(self, registry: OrgRegistry):
        self.registry = registry
        self.apps = {id(org): EmulatorApp(org) for org in registry.orgs}
        self.by_port: dict[str, Org] = {}

    def __call__(self, environ, start_response):
        request = Request(environ)
        org = self.by_port.get(environ.get("SERVER_PORT", ""))
        if org is None:
            if request.path.startswith("/__emulator__/orgs"):
                return self._control(request)(environ, start_response)
            org = self.login_org(request)
        return self.apps[id(org)].respond(request)(environ, start_response)

    def login_org(self, request: Request) -> Org:
        """The org a request to the login host is for (the first org when nothing says)."""
        path = request.path
        registry = self.registry
        org = None
        if path.startswith("/services/oauth2/authorize"):
            username = request.form.get("username") or request.args.get("login_hint") or ""
            org = registry.by_username(username)
        elif path.startswith("/services/oauth2/token"):
            form = request.form
            org = registry.by_username(form.get("username") or "") or registry.by_token(
                form.get("code") or form.get("refresh_token") or ""
            )
        elif path.startswith("/services/oauth2/revoke"):
            org = registry.by_token(request.values.get("token", ""))
        elif path.startswith("/id/"):
            org = registry.by_org_id(path.split("/")[2])
        else:
            auth = request.headers.get("Authorization", "")
            org = registry.by_token(auth.removeprefix("Bearer ").strip())
        return org or registry.orgs[0]

    def _control(self, request: Request) -> Response:
        parts = request.path.split("/", 4)  # "", "__emulator__", "orgs", k, rest
        if len(parts) < 4 or not parts[3]:
            return json_response({"orgs": self.registry.summary()})
        try:
            org = self.registry.orgs[int(parts[3]) - 1]
        except (ValueError, IndexError):
            return NotFound().get_response(request.environ)
        return control.handle(org, request, parts[4] if len(parts) > 4 else "")


class MultiOrgServer(EmulatorServer):
    """A multi-org emulator behind one waitress server: the login host on ``port``, then one
    port per org (ephemeral), all served by the same threads."""

    def __init__(self, registry: OrgRegistry, host: str = "127.0.0.1", port: int = 0, **kwargs):
        super().__init__(registry.orgs[0], host=host, port=port, **kwargs)
        self.registry = registry

    def _create(self):
        app = MultiOrgApp(self.registry)
        ports = [self.port] + [0] * len(self.registry.orgs)
        server = create_server(
            app,
            listen=" ".join(f"{self.host}:{port}" for port in ports),
            threads=self.threads,
            ident="emulator",
            log_socket_errors=False,
            channel_timeout=300,
            connection_limit=200 + 50 * len(self.registry.orgs),
            outbuf_overflow=4 * 1024 * 1024,
            outbuf_high_watermark=16 * 1024 * 1024,
            # Every listening socket brings a trigger pipe: past ~300 orgs the descriptors
            # outgrow select()'s 1,024.
            asyncore_use_poll=True,
        )
        # What EmulatorServer.stop expects of one server: its socket map and a trigger (any of
        # the listening servers' triggers wakes the shared loop).
        server._map = server.map
        server.trigger = next(s for s in server.map.values() if isinstance(s, trigger.trigger))
        login, *instances = server.effective_listen
        server.effective_host, server.effective_port = login
        for org, (host, port) in zip(self.registry.orgs, instances, strict=True):
            org.base_url = f"http://{_bracket(host)}:{port}"
            app.by_port[str(port)] = org
        self._server = server
        return server

    @property
    def instance_urls(self) -> list[str]:
        return [org.base_url for org in self.registry.orgs]


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
