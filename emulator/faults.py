"""Injected faults: what goes wrong in real orgs, on demand and reproducibly.

SPEC grammar (``--faults`` and ``PUT /__emulator__/faults {"spec": ...}``)::

    spec   := fault (";" fault)*
    fault  := NAME [":" param ("," param)*]
    param  := KEY "=" VALUE            (several values in one param are joined with "+")

e.g. ``http_500:rate=0.02,burst=3;latency:ms=150;job_fail:count=1,object=Contact``.
Rates are probabilities per eligible call, drawn from a generator seeded with the org seed (or
``seed=N``), so a run is reproducible. See CATALOG for every fault and its parameters.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

RATE_PARAMS = {"rate": (float, 1.0), "burst": (int, 1), "kinds": (str, None), "seed": (int, None)}
CATALOG: dict[str, dict] = {
    "http_500": dict(RATE_PARAMS),
    "unavailable_503": dict(RATE_PARAMS),
    "concurrent_limit": dict(RATE_PARAMS),
    "lock_row": dict(RATE_PARAMS),
    "latency": {"ms": (int, 100), "jitter_ms": (int, 0), "kinds": (str, None), "seed": (int, None)},
    "cut_stream": {
        "after_rows": (int, 1000),
        "count": (int, 0),
        "rate": (float, 1.0),
        "seed": (int, None),
    },
    "expire_tokens": {},
    "session_timeout": {"seconds": (int, 120)},
    "revoke_refresh_token": {"token": (str, None)},
    "daily_limit_reached": {},
    "job_fail": {"count": (int, 1), "object": (str, None), "message": (str, None)},
    "job_stuck": {"count": (int, 1), "object": (str, None)},
    "query_timeout": {"rows": (int, 100_000)},
    "field_removed": {"object": (str, None), "field": (str, None)},
    "revoke_read": {"object": (str, None), "user": (str, None), "after": (int, 0)},
}
ACTIONS = {"expire_tokens", "revoke_refresh_token"}
REQUIRED = {
    "field_removed": ("object",),
    "revoke_read": ("object",),
    "revoke_refresh_token": ("token",),
}
DEFAULT_JOB_ERROR = (
    "InternalServerError : Failed to process query: an unexpected error occurred. Please retry."
)


class FaultError(ValueError):
    """A fault name or parameter the emulator does not know."""


def parse_spec(spec: str) -> list[tuple[str, dict]]:
    """Parse a SPEC string into (name, params) pairs (values still strings)."""
    out = []
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        name, _, rest = part.partition(":")
        params = {}
        for item in (i.strip() for i in rest.split(",")):
            if not item:
                continue
            key, sep, value = item.partition("=")
            if not sep:
                raise FaultError(f"fault parameter {item!r} is not KEY=VALUE")
            params[key.strip()] = value.strip()
        out.append((name.strip(), params))
    return out


def _typed(name: str, params: dict) -> dict:
    schema = CATALOG.get(name)
    if schema is None:
        raise FaultError(f"unknown fault {name!r}; known: {', '.join(sorted(CATALOG))}")
    out = {}
    for key, value in params.items():
        if key not in schema:
            raise FaultError(f"fault {name!r} has no parameter {key!r}")
        kind = schema[key][0]
        try:
            out[key] = kind(value) if value is not None else None
        except (TypeError, ValueError):
            raise FaultError(f"fault {name}: {key} must be {kind.__name__}") from None
    for key, (_, default) in schema.items():
        out.setdefault(key, default)
    for key in REQUIRED.get(name, ()):
        if out.get(key) is None:
            raise FaultError(f"fault {name!r} needs {key}=...")
    return out


@dataclass
class _Active:
    params: dict
    rng: random.Random
    burst_left: int = 0
    used: int = 0
    calls: int = 0


class Faults:
    """The set of active faults, with the draws that decide when they strike."""

    def __init__(self, seed: int, on_action=None):
        self.seed = seed
        self.on_action = on_action  # called with (name, params) for one-shot actions
        self._active: dict[str, _Active] = {}
        self._lock = threading.Lock()

    def set(self, name: str, **params) -> dict:
        """Activate a fault (one-shot actions run at once); returns its full parameters."""
        typed = _typed(name, {k: (None if v is None else str(v)) for k, v in params.items()})
        if name in ACTIONS:
            if self.on_action is not None:
                self.on_action(name, typed)
            return typed
        seed = typed.get("seed")
        rng = random.Random(f"{self.seed if seed is None else seed}/{name}")
        with self._lock:
            self._active[name] = _Active(typed, rng)
        return typed

    def set_spec(self, spec: str) -> list[str]:
        names = []
        for name, params in parse_spec(spec):
            self.set(name, **params)
            names.append(name)
        return names

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._active.clear()
            else:
                self._active.pop(name, None)

    def active(self) -> dict:
        with self._lock:
            return {name: dict(a.params) for name, a in self._active.items()}

    def get(self, name: str) -> dict | None:
        a = self._active.get(name)
        return None if a is None else a.params

    # ----------------------------------------------------------------- draws
    def _strikes(self, name: str, kind: str) -> bool:
        a = self._active.get(name)
        if a is None:
            return False
        kinds = a.params.get("kinds")
        if kinds and kind not in kinds.split("+"):
            return False
        with self._lock:
            if a.burst_left > 0:
                a.burst_left -= 1
                return True
            if a.rng.random() < a.params["rate"]:
                a.burst_left = max(0, a.params["burst"] - 1)
                return True
        return False

    def call_failure(self, kind: str) -> str | None:
        """Which rate fault (if any) strikes this API call."""
        for name in ("unavailable_503", "http_500", "concurrent_limit", "lock_row"):
            if self._strikes(name, kind):
                return name
        return None

    def latency(self, kind: str) -> float:
        a = self._active.get("latency")
        if a is None:
            return 0.0
        kinds = a.params.get("kinds")
        if kinds and kind not in kinds.split("+"):
            return 0.0
        jitter = a.params["jitter_ms"]
        with self._lock:
            extra = a.rng.uniform(-jitter, jitter) if jitter else 0.0
        return max(0.0, (a.params["ms"] + extra) / 1000.0)

    def cut_after(self) -> int | None:
        """Rows after which this CSV stream is cut, or None."""
        a = self._active.get("cut_stream")
        if a is None:
            return None
        with self._lock:
            if a.params["count"] and a.used >= a.params["count"]:
                return None
            if a.rng.random() >= a.params["rate"]:
                return None
            a.used += 1
            return a.params["after_rows"]

    def job_outcome(self, sobject: str) -> tuple[str, str | None] | None:
        """('fail', message) or ('stuck', None) for a new job on sobject, consuming a count."""
        for name in ("job_fail", "job_stuck"):
            a = self._active.get(name)
            if a is None:
                continue
            obj = a.params.get("object")
            if obj and obj.lower() != sobject.lower():
                continue
            with self._lock:
                if a.params["count"] and a.used >= a.params["count"]:
                    continue
                a.used += 1
            if name == "job_fail":
                return "fail", a.params.get("message") or DEFAULT_JOB_ERROR
            return "stuck", None
        return None

    def query_timeout_rows(self) -> int | None:
        p = self.get("query_timeout")
        return None if p is None else p["rows"]

    def session_lifetime(self) -> int | None:
        p = self.get("session_timeout")
        return None if p is None else p["seconds"]

    def daily_limit_reached(self) -> bool:
        return "daily_limit_reached" in self._active

    def take_field_removal(self, sobject: str) -> dict | None:
        """After a describe of sobject: the one-shot field removal to apply, if armed."""
        a = self._active.get("field_removed")
        if a is None or a.params["object"].lower() != sobject.lower():
            return None
        with self._lock:
            self._active.pop("field_removed", None)
        return a.params

    def tick_revoke_read(self) -> dict | None:
        """Count one API call; returns the revoke_read params when it is due (once)."""
        a = self._active.get("revoke_read")
        if a is None:
            return None
        with self._lock:
            a.calls += 1
            if a.calls <= a.params["after"]:
                return None
            self._active.pop("revoke_read", None)
        return a.params
