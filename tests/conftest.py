"""Suite-wide fixtures and rules.

* The network is blocked (pytest-socket, see pyproject addopts). A test marked
  ``real_server`` may use sockets, to loopback addresses only.
* ``postgres`` tests need PostgreSQL (real row locks and concurrency); on SQLite
  they are skipped, unless ERP_REQUIRE_SERVICES=1 (CI), where that is an error.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from django.db import connection

LOOPBACK = ["127.0.0.1", "::1", "localhost"]
REQUIRE_SERVICES = os.environ.get("ERP_REQUIRE_SERVICES") == "1"


# Files that take minutes (they seed the demo): run first, so that under pytest-xdist
# (--dist loadfile) no worker is left with one of them while the other has finished.
SLOW_FILES = ("test_demo.py",)


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
