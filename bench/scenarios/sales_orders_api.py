"""Sales orders of 3 lines, created and confirmed through the API: the whole Django stack.

The same fixture as ``sales_orders_service`` (one warehouse, one channel, 50 customers, 300
products with plenty of stock), plus a superuser and an API key for them
(``erp.services.api_key_create``). Each operation is one HTTP request,
``POST /api/v1/sales/orders`` with 3 lines (by SKU, 1 to 3 units, 20 % VAT) and
``"confirm": true``, made in process with ``django.test.Client`` and the key as a Bearer
token: middleware, authentication, schema parsing, the services (one transaction), the
201 response with the order's detail, and the events dispatched on commit. Anything but a
201 fails the run. No network: this measures Django, not a web server.

Without the sales API mounted (``POST /api/v1/sales/orders`` not routed), setup prints why
and times nothing: the table shows 0 operations.

Teardown checks the orders as ``sales_orders_service`` does and removes the fixture, the
user and their key.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import Resolver404, resolve

from bench.scenario import Scenario
from bench.scenarios.sales_orders_service import WARMUP, SalesFixture
from erp.services import api_key_create

URL = "/api/v1/sales/orders"

_fixture = SalesFixture("BENCHSOA")
_client = Client(HTTP_HOST="localhost")  # an allowed host with DEBUG off
_headers: dict[str, str] = {}
_user: Any = None
_skipped = False


def _body(i: int) -> str:
    assert _fixture.channel is not None
    return json.dumps(
        {
            "channel": _fixture.channel.pk,
            "customer": _fixture.customer(i).pk,
            "lines": [
                {"sku": p.sku, "quantity": str(q), "taxes": [{"name": "VAT", "rate": "0.2"}]}
                for p, q in _fixture.lines(i)
            ],
            "external_reference": f"bench-{i}",
            "confirm": True,
        }
    )


def _post(i: int) -> None:
    # secure=True: with DEBUG off, plain HTTP is redirected to HTTPS (SECURE_SSL_REDIRECT).
    response = _client.post(URL, _body(i), content_type="application/json", secure=True, headers=_headers)
    if response.status_code != 201:
        raise AssertionError(f"POST {URL}: {response.status_code} {response.content[:500]!r}")


def _mounted() -> bool:
    try:
        resolve(URL)
    except Resolver404:
        return False
    return True


def setup(n: int) -> int:
    global _user, _skipped
    if not _mounted():
        _skipped = True
        print(f"  SKIPPED sales_orders_api: {URL} is not routed (sales/api.py not mounted)", file=sys.stderr)
        return 0
    _fixture.make()
    warnings.filterwarnings(
        "ignore", message="No directory at", category=UserWarning
    )  # whitenoise, no collectstatic
    _user = get_user_model().objects.create_superuser(username="bench-sales-api", email="", password=None)
    raw = api_key_create(user=_user, name="bench", rate_limit_per_minute=0).raw_key  # 0: unlimited
    _headers["Authorization"] = f"Bearer {raw}"
    for i in range(WARMUP):  # first connection, URL resolver, schemas, prepared plans: not timed
        _post(n + i)
    _fixture.expected = WARMUP + n
    return n


def operation(i: int) -> None:
    _fixture.timed(lambda: _post(i))


def teardown() -> None:
    if _skipped:
        return
    _fixture.report_trend()
    try:
        _fixture.check()
    finally:
        _fixture.remove(user=_user)


SCENARIO = Scenario(
    name="sales_orders_api",
    description=__doc__ or "",
    setup=setup,
    operation=operation,
    teardown=teardown,
    default_n=300,
)
