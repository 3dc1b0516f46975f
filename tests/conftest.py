"""Suite-wide fixtures and rules.

* The network is blocked (pytest-socket, see pyproject addopts). A test marked
  ``real_server`` may use sockets, to loopback addresses only.
* ``postgres`` tests need PostgreSQL (real row locks and concurrency); on SQLite
  they are skipped, unless ERP_REQUIRE_SERVICES=1 (CI), where that is an error.
* On PostgreSQL the migrations run once per session, into a template database, before the
  pytest-xdist workers start; each worker's test database is a copy of it (``CREATE DATABASE ...
  TEMPLATE``), whose migrate finds nothing left to apply. Migrating costs about a minute of CPU
  (Django renders the models' states again and again); two workers migrating side by side beside
  CI's simulated day took 124 s each. A caller that has migrated a template already names it in
  ERP_TEST_DATABASE_TEMPLATE (CI does, beside ``make check``): the session uses it as it is, its
  workers' migrate applies whatever it lacks, and it is the caller's to drop.
* On PostgreSQL a transactional test's flush deletes the rows it wrote (tests/flush.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from bench.database import POSTGRES_SCHEMES, BenchDatabase, drop_database, recreate_database
from tests import flush

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
REQUIRE_SERVICES = os.environ.get("ERP_REQUIRE_SERVICES") == "1"


# Files that take minutes (they seed the demo): run first, so that under pytest-xdist
# (--dist loadfile) no worker is left with one of them while the other has finished.
SLOW_FILES = ("test_demo.py",)


TEMPLATE_ENV = "ERP_TEST_DATABASE_TEMPLATE"  # set by the controlling process, read by its workers
MADE_TEMPLATE = pytest.StashKey[str]()  # the URL of the template this session made (and drops)


def _template_url(config: pytest.Config) -> str | None:
    """The template database's URL, when this session makes one: PostgreSQL from DATABASE_URL,
    migrations on, test databases created anew (not ``--reuse-db``), and this is not a worker."""
    url = os.environ.get("DATABASE_URL", "")
    if (
        hasattr(config, "workerinput")
        or urlsplit(url).scheme not in POSTGRES_SCHEMES
        or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
        or config.getoption("nomigrations", False)
        or (config.getoption("reuse_db", False) and not config.getoption("create_db", False))
    ):
        return None
    db = settings.DATABASES["default"]
    name = f"{db.get('TEST', {}).get('NAME') or 'test_' + db['NAME']}_template"
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _database(url: str) -> BenchDatabase:
    """The template, as bench/run.py names a database it drops and creates."""
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    return BenchDatabase(name=parts.path.lstrip("/"), django_url=url, admin_url=admin)


def pytest_configure(config: pytest.Config) -> None:
    flush.install()  # a transactional test's flush deletes what it wrote (tests/flush.py)


def pytest_sessionstart(session: pytest.Session) -> None:
    url = _template_url(session.config)
    if url is None or os.environ.get(TEMPLATE_ENV):  # given by the caller (CI makes it beside make check)
        return
    template = _database(url)
    recreate_database(template)
    done = subprocess.run(  # a process of its own: this one's database access is blocked here
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise pytest.UsageError(
            f"migrating the template database {template.name} failed:\n{done.stderr[-3000:]}"
        )
    os.environ[TEMPLATE_ENV] = template.name  # the workers, started after this hook, inherit it
    session.config.stash[MADE_TEMPLATE] = url


def pytest_sessionfinish(session: pytest.Session) -> None:
    url = session.config.stash.get(MADE_TEMPLATE, None)  # only the template this session made
    if url is not None and os.environ.pop(TEMPLATE_ENV, None):
        drop_database(_database(url))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Each test database is a copy of the session's template, when there is one."""
    template = os.environ.get(TEMPLATE_ENV)
    if template:
        settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = template


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # pytest-xdist tells its workers which tests to run by node id: items that share one run once.
    # (pytest 9.2 with schemathesis 4.32 gave all 203 operations of a fuzz test the same id.)
    shared = sorted(nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1)
    if shared:
        raise pytest.UsageError(
            f"{len(shared)} node id(s) are shared by more than one test, so pytest-xdist would run "
            "only one of each: " + ", ".join(shared[:5])
        )
    items.sort(key=lambda item: item.path.name not in SLOW_FILES)  # stable: the rest keep their order
    for item in items:
        if (
            item.get_closest_marker("real_server")
            or item.get_closest_marker("browser")
            or item.get_closest_marker("worker")
        ):
            item.add_marker(pytest.mark.enable_socket)
            item.add_marker(pytest.mark.allow_hosts(LOOPBACK))


def pytest_runtest_setup(item: pytest.Item) -> None:
    needs_postgres = item.get_closest_marker("postgres") or item.get_closest_marker("worker")
    if needs_postgres and connection.vendor != "postgresql":
        message = "needs PostgreSQL: run with DATABASE_URL=postgres://..."
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def api_client():
    from django.test import Client

    return Client()


@pytest.fixture
def admin_user(db):
    from tests.erp.factories import UserFactory

    return UserFactory(username="boss", is_staff=True, is_superuser=True)
