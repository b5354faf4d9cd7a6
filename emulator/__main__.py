"""python -m emulator --host 127.0.0.1 --port 8765 --profile demo"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path

from emulator.data.profiles import PROFILES
from emulator.faults import FaultError
from emulator.org import Org
from emulator.registry import MultiOrgServer, OrgRegistry
from emulator.server import EmulatorServer
from emulator.users import PASSWORD, USERS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emulator", description="A local Salesforce org.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--profile", default="demo", choices=sorted(PROFILES))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--api-daily-limit", type=int, default=100_000)
    p.add_argument("--client-id", default="emulator-client-id")
    p.add_argument("--client-secret", default="emulator-client-secret")
    p.add_argument(
        "--processing-rate",
        type=float,
        default=None,
        help="Bulk records processed per emulated second (default: jobs complete at once)",
    )
    p.add_argument(
        "--faults", default="", help="fault SPEC, e.g. 'http_500:rate=0.01;latency:ms=50'"
    )
    p.add_argument("--sandbox", action="store_true", help="behave as a sandbox org")
    p.add_argument("--session-timeout", type=int, default=7200, help="seconds (default 7200)")
    p.add_argument("--rotate-refresh-tokens", action="store_true")
    p.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="allowed OAuth callback (repeatable); default: any http(s) URL on a loopback host",
    )
    p.add_argument("--threads", type=int, default=8)
    p.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a self-signed certificate for 127.0.0.1/localhost made at start",
    )
    p.add_argument(
        "--cert-file",
        default="emulator-cert.pem",
        help="where --tls writes the certificate (PEM) clients trust (default ./emulator-cert.pem)",
    )
    p.add_argument(
        "--custom-fields",
        action="append",
        default=[],
        metavar="OBJECT=N",
        help="N extra custom fields on OBJECT (repeatable), e.g. Account=650",
    )
    p.add_argument(
        "--person-accounts",
        action="store_true",
        help="Person Accounts on: Account gets the Person* fields, persons a Contact row",
    )
    p.add_argument(
        "--bulk-daily-jobs",
        type=int,
        default=10_000,
        help="Bulk API 2.0 query jobs allowed per rolling 24 hours (default 10000)",
    )
    p.add_argument(
        "--max-request-bytes",
        type=int,
        default=16_384,
        help="request line (414) and line + headers (431) ceiling (default 16384)",
    )
    p.add_argument(
        "--orgs",
        type=int,
        default=1,
        help="independent orgs in this process (default 1); see README 'Several orgs'",
    )
    return p


def parse_custom_fields(specs: list[str]) -> dict[str, int]:
    """['Account=650', 'Contact=20'] -> {'Account': 650, 'Contact': 20} (ValueError if bad)."""
    out: dict[str, int] = {}
    for spec in specs:
        name, sep, count = spec.partition("=")
        if not sep or not name.strip() or not count.strip().isdigit():
            raise ValueError(f"expected OBJECT=N, got {spec!r}")
        out[name.strip()] = out.get(name.strip(), 0) + int(count)
    return out


def banner(org: Org, server: EmulatorServer, started: float) -> str:
    lines = [
        f"Salesforce org emulator ready in {time.monotonic() - started:.2f}s",
        f"  base URL (login host and instance_url): {server.base_url}",
        f"  profile: {org.profile}  seed: {org.seed}  sandbox: {org.sandbox}",
    ]
    if server.cert_file:
        lines.append(f"  TLS certificate: {server.cert_file}")
        lines.append(f"    (clients trust it with REQUESTS_CA_BUNDLE={server.cert_file})")
    if org.custom_fields or org.person_accounts:
        extra = ", ".join(f"{o}+{n}" for o, n in org.custom_fields.items()) or "none"
        lines.append(f"  custom fields: {extra}  person accounts: {org.person_accounts}")
    lines += [
        f"  connected app: client_id={org.auth.config.client_id} "
        f"client_secret={org.auth.config.client_secret}",
        f"  users (password '{PASSWORD}'):",
    ]
    lines += [f"    {u.username:28} {u.situation}" for u in USERS]
    lines.append("  control API: " + server.base_url + "/__emulator__/")
    return "\n".join(lines)


def multi_banner(registry: OrgRegistry, server: MultiOrgServer, started: float) -> str:
    lines = [
        f"Salesforce org emulator ready in {time.monotonic() - started:.2f}s "
        f"({len(registry.orgs)} orgs)",
        f"  base URL (login host for every org): {server.base_url}",
        f"  profile: {registry.orgs[0].profile}  password for every user: '{PASSWORD}'",
    ]
    lines += [
        f"  org {i}: {org.org_id}  instance_url {org.base_url}  seed {org.seed}  "
        f"users {org.user_list[0].username} …"
        for i, org in enumerate(registry.orgs, start=1)
    ]
    lines.append("  control API: " + server.base_url + "/__emulator__/orgs")
    return "\n".join(lines)


def _org_options(args, custom_fields: dict[str, int]) -> dict:
    return dict(
        api_daily_limit=args.api_daily_limit,
        client_id=args.client_id,
        client_secret=args.client_secret,
        processing_rate=args.processing_rate,
        sandbox=args.sandbox,
        session_timeout=args.session_timeout,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
        redirect_uris=tuple(args.redirect_uri),
        bulk_daily_jobs=args.bulk_daily_jobs,
        max_request_bytes=args.max_request_bytes,
        custom_fields=custom_fields,
        person_accounts=args.person_accounts,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        custom_fields = parse_custom_fields(args.custom_fields)
    except ValueError as err:
        print(f"--custom-fields: {err}", file=sys.stderr)
        return 2
    if args.orgs > 1 and args.tls:
        print("--tls serves one org; use it without --orgs", file=sys.stderr)
        return 2
    options = _org_options(args, custom_fields)
    try:
        if args.orgs > 1:
            registry = OrgRegistry.from_profile(args.profile, args.orgs, seed=args.seed, **options)
            orgs = registry.orgs
        else:
            orgs = [Org.from_profile(args.profile, seed=args.seed, **options)]
    except ValueError as err:
        print(f"emulator: {err}", file=sys.stderr)
        return 2
    if args.faults:
        try:
            for org in orgs:
                org.faults.set_spec(args.faults)
        except FaultError as err:
            print(f"--faults: {err}", file=sys.stderr)
            return 2
    if args.orgs > 1:
        server = MultiOrgServer(registry, host=args.host, port=args.port, threads=args.threads)
    else:
        server = EmulatorServer(
            orgs[0],
            host=args.host,
            port=args.port,
            threads=args.threads,
            cert_file=str(Path(args.cert_file).resolve()) if args.tls else None,
        )
    server._create()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if args.orgs > 1:
        print(multi_banner(registry, server, started), flush=True)
    else:
        print(banner(orgs[0], server, started), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    print("emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
