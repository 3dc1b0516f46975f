"""The API against its own OpenAPI schema: schemathesis fuzzes every operation in process.

Each operation gets a bounded number of generated requests (valid and invalid ones), sent with
an API key that has every scope, against a database seeded with a small linked world so that
path ids sometimes name real rows. Every response must be a non-5xx, with a status, content
type and body the schema documents (the problem+json errors included: erp/openapi.py).

Reproducible: a fixed seed; set ERP_FUZZ_SEED=random (or a number) to explore, and
ERP_FUZZ_EXAMPLES=<n> for a longer run than CI's.
"""

from __future__ import annotations

import os
import random

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from psycopg.pq import TransactionStatus
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from erp.wsgi import application
from tests.contract.seed import existing_ids, seed_world

_seed_env = os.environ.get("ERP_FUZZ_SEED", "20240901")
SEED = random.randrange(2**32) if _seed_env == "random" else int(_seed_env)
MAX_EXAMPLES = int(os.environ.get("ERP_FUZZ_EXAMPLES", "6"))

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": False},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

# Filled per test by the `world` fixture: ids of rows that exist, for path parameters to pick from.
REAL_IDS: list[int] = []


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, replace each integer path id by the id of a row that exists."""
    if not REAL_IDS or not path_parameters:
        return st.just(path_parameters)
    real = {
        name: st.one_of(st.just(value), st.sampled_from(REAL_IDS))
        if isinstance(value, int)
        else st.just(value)
        for name, value in path_parameters.items()
    }
    return st.fixed_dictionaries(real)


@pytest.fixture(scope="module")
def seeded_world(django_db_setup, django_db_blocker):
    """The world, seeded once for the module inside a transaction that is rolled back at its end.

    Each test's own `db` transaction nests inside it (a savepoint), so what one operation's
    requests write is undone before the next operation is fuzzed, and the seed is paid once.
    """
    # Requests go through the real WSGI handler, whose request_started/finished signals would
    # close the test's connection mid-transaction (on PostgreSQL); Django's test client
    # disconnects the same handler for the same reason.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            world = seed_world()
            REAL_IDS[:] = existing_ids()
            yield world
            REAL_IDS.clear()
            transaction.set_rollback(True)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(seeded_world, db):
    return seeded_world


def _aborted() -> bool:
    """Is the test's transaction aborted by a refused statement (PostgreSQL only)?"""
    return (
        connection.vendor == "postgresql"
        and connection.connection.info.transaction_status == TransactionStatus.INERROR
    )


@schema.parametrize()
@settings(
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
def test_api_conforms_to_its_schema(case, world):
    # In production every request is its own transaction; here all share the test's. A request
    # the database refused (answered 422) would leave that transaction aborted for the next one,
    # so each request runs in a savepoint that is rolled back if the database refused something.
    savepoint = transaction.savepoint()
    try:
        case.call_and_validate(headers=world.auth_header, checks=CHECKS)
    finally:
        if _aborted():
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
