"""The benchmark's PostgreSQL database, and Django set up on it.

    python -m bench.database recreate [URL]     # drop and create (default: the bench database)

The benchmark measures the production path, so it refuses SQLite. Without DATABASE_URL it uses
its own database, ``primer_sf_bench``, so a run never touches a development copy.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/primer_sf_bench"


class DatabaseError(Exception):
    """The benchmark's database is not PostgreSQL, or could not be created."""


def database_url() -> str:
    """DATABASE_URL if set (empty counts as unset, as in settings), else the bench database."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        raise DatabaseError(
            f"The benchmark measures the production path and needs PostgreSQL, not {url!r}."
        )
    return url


def _split(url: str) -> tuple[str, str]:
    """The URL of the server's maintenance database, and the database name in ``url``."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    return maintenance, name


def create_database(url: str, *, drop: bool) -> None:
    """Create the database named in ``url`` if it is missing; ``drop`` first drops it."""
    import psycopg

    maintenance, name = _split(url)
    quoted = '"' + name.replace('"', '""') + '"'
    try:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            if drop:
                conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {quoted}")
    except psycopg.Error as error:
        raise DatabaseError(f"Could not prepare the database {name!r}: {error}") from error


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` if it exists."""
    import psycopg

    maintenance, name = _split(url)
    quoted = '"' + name.replace('"', '""') + '"'
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")


def django_setup() -> str:
    """Point Django at the bench database (local settings: DEBUG, the emulator) and set it up.
    Returns the database URL. Child processes inherit the same environment."""
    import django

    url = database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "primer_sf.settings")
    if not os.environ.get("DEBUG"):
        os.environ["DEBUG"] = "true"
    django.setup()
    return url


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "recreate":
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    url = argv[1] if len(argv) > 1 else DEFAULT_URL
    try:
        create_database(url, drop=True)
    except DatabaseError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
