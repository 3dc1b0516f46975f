"""The benchmark's throwaway PostgreSQL database: which one (``BENCH_DATABASE_URL``, refused unless
its name says "bench"), dropped and created again (optionally as a copy of a migrated template),
and the environment erp.settings reads for it."""

from __future__ import annotations

import base64
import os
import secrets
import sys
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/erp_bench"
DEFAULT_DATABASE_NAME = "erp_bench"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql"}


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    django_url: str  # for DATABASE_URL
    admin_url: str  # the server's `postgres` database, to drop and create `name`


def bench_database() -> BenchDatabase:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        sys.exit(f"BENCH_DATABASE_URL must be a postgres:// URL, not {url!r}")
    name = unquote(parts.path.lstrip("/")) or DEFAULT_DATABASE_NAME
    if "bench" not in name:
        # This database is dropped: refuse anything that does not look like a throwaway one.
        sys.exit(f"Refusing to drop database {name!r}: a benchmark database's name must contain 'bench'")
    return BenchDatabase(
        name=name,
        django_url=urlunsplit(parts._replace(path=f"/{name}")),
        admin_url=urlunsplit(parts._replace(path="/postgres")),
    )


def recreate_database(db: BenchDatabase, *, template: str | None = None) -> str:
    """Drop and create the benchmark database, as a copy of ``template`` when given (a migrated
    database on the same server, which no session may be connected to); return the server's
    version."""
    import psycopg
    from psycopg import sql

    drop_database(db)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name))
    if template:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(create)
        return conn.info.parameter_status("server_version") or "unknown"


def drop_database(db: BenchDatabase) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))


def configure_environment(db: BenchDatabase, *, quick: bool = False) -> None:
    """Environment for erp.settings; must run before django.setup()."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "erp.settings"
    os.environ["DATABASE_URL"] = db.django_url
    os.environ["BENCH_ADMIN_URL"] = db.admin_url
    if quick:
        os.environ["BENCH_QUICK"] = "1"
    # Tasks run eagerly in this process: the on-commit dispatch is part of the in-process measurements.
    # The HTTP scenarios give their server a broker of its own (BENCH_BROKER_URL).
    if os.environ.pop("CELERY_BROKER_URL", None):
        print("note: CELERY_BROKER_URL ignored, tasks run eagerly in process", file=sys.stderr)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Measure as production runs (no per-query debug logging), unless DEBUG is set explicitly.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
