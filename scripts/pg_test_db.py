"""PostgreSQL databases with the collation guanxi needs: LC_COLLATE 'C', LC_CTYPE 'C.UTF-8'.

pg_trgm ignores Chinese characters unless the database's ctype classifies them, and the
server's default locale differs between machines. Django's test runner creates its test
database with the server's default and has no setting for the locale, so ``make test``
creates the test databases here first and runs pytest with ``--reuse-db`` (which makes
Django migrate the existing, empty database instead of creating its own).

Usage (DATABASE_URL names the database, e.g. postgres://postgres@127.0.0.1:5432/guanxi)::

    python scripts/pg_test_db.py check               # exit 0 if the server answers
    python scripts/pg_test_db.py test --workers 2    # (re)create test_<name>, test_<name>_gw0, …
    python scripts/pg_test_db.py ensure              # create <name> if missing (make migrate)

Only the standard library and psycopg (a project dependency) are used.
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import unquote, urlparse

COLLATE = "C"
CTYPE = "C.UTF-8"


def parse(url: str) -> dict:
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "psql"):
        raise SystemExit(f"DATABASE_URL is not a PostgreSQL URL: {parts.scheme or url!r}")
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "") or None,
        "password": unquote(parts.password or "") or None,
        "dbname": unquote(parts.path.lstrip("/")) or "guanxi",
    }


def connect(target: dict, *, timeout: int = 5):
    import psycopg

    return psycopg.connect(
        host=target["host"],
        port=target["port"],
        user=target["user"],
        password=target["password"],
        dbname="postgres",
        autocommit=True,
        connect_timeout=timeout,
    )


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create(cursor, name: str) -> None:
    cursor.execute(
        f"CREATE DATABASE {quote(name)} WITH TEMPLATE template0 ENCODING 'UTF8' "
        f"LC_COLLATE '{COLLATE}' LC_CTYPE '{CTYPE}'"
    )


def collation(cursor, name: str) -> tuple[str, str] | None:
    cursor.execute("SELECT datcollate, datctype FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone()


def cmd_check(target: dict, args) -> int:
    try:
        with connect(target, timeout=3) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # any failure to connect and ask means "not reachable"
        print(f"PostgreSQL at {target['host']}:{target['port']} is not reachable: {exc}".strip())
        return 1
    print(f"PostgreSQL {version} at {target['host']}:{target['port']} is reachable.")
    return 0


def cmd_test(target: dict, args) -> int:
    base = args.name or f"test_{target['dbname']}"
    names = [base] + [f"{base}_gw{n}" for n in range(args.workers)]
    with connect(target) as conn, conn.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
            create(cursor, name)
    print(f"Created {', '.join(names)} (LC_COLLATE '{COLLATE}', LC_CTYPE '{CTYPE}').")
    return 0


def cmd_ensure(target: dict, args) -> int:
    name = target["dbname"]
    with connect(target) as conn, conn.cursor() as cursor:
        found = collation(cursor, name)
        if found is None:
            create(cursor, name)
            print(f"Created database {name} (LC_COLLATE '{COLLATE}', LC_CTYPE '{CTYPE}').")
        elif found != (COLLATE, CTYPE):
            print(
                f"warning: database {name} has LC_COLLATE {found[0]!r}, LC_CTYPE {found[1]!r}; "
                f"guanxi needs '{COLLATE}' and '{CTYPE}' (Chinese search depends on it). "
                "Dump, recreate with this script and restore.",
                file=sys.stderr,
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("DATABASE_URL", ""), help="default: $DATABASE_URL"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="exit 0 if the server answers")
    test = sub.add_parser("test", help="(re)create the test databases")
    test.add_argument(
        "--workers", type=int, default=0, help="pytest-xdist workers (adds _gw0 … _gwN-1)"
    )
    test.add_argument("--name", help="test database name (default: test_<name in the URL>)")
    sub.add_parser("ensure", help="create the database in the URL if it does not exist")
    args = parser.parse_args(argv)
    if not args.url:
        raise SystemExit("Set DATABASE_URL (or pass --url).")
    target = parse(args.url)
    return {"check": cmd_check, "test": cmd_test, "ensure": cmd_ensure}[args.command](target, args)


if __name__ == "__main__":
    sys.exit(main())
