"""The broker down: API writes still answer 2xx exactly once, and the sweep catches up later.

A real gunicorn server runs against the test database with CELERY_BROKER_URL pointing at
a closed port. Every write commits and must say so (2xx): an enqueue after commit can no
longer fail the request that committed (a 5xx would make the client retry, and duplicate).
The events wait in the outbox. Then a Redis server comes up on that very port with a real
worker, the outbox sweep runs there, and every waiting event ends dispatched.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest

from erp.models import OutboxEvent, User
from inventory.models import Product, StockMove
from procurement.models import PurchaseOrder, Supplier
from sales.models import Customer, SalesChannel, SalesOrder
from tests.erp.factories import UserFactory, api_key_for
from tests.erp.services import (
    Server,
    broker_for_this_process,
    celery_worker,
    free_port,
    gunicorn_server,
    redis_server,
    wait_until,
)
from tests.inventory.factories import bin_of, warehouse
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import ChannelFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker_port() -> int:
    """A port nothing listens on: the broker is down (until the test starts redis-server there)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("ERP_REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is required (apt-get install -y redis-server)")
        pytest.skip("no redis-server on PATH")
    return free_port()


@pytest.fixture
def server(broker_port: int) -> Iterator[Server]:
    with gunicorn_server(workers=2, CELERY_BROKER_URL=f"redis://127.0.0.1:{broker_port}/0") as running:
        yield running


class Writer:
    """Sends each write once, with its own Idempotency-Key, and keeps every answer."""

    def __init__(self, server: Server, raw_key: str) -> None:
        self.server = server
        self.client = httpx.Client(
            base_url=f"{server.url}/api/v1",
            headers={"Authorization": f"Bearer {raw_key}"},
            timeout=60,
        )
        self.answers: list[tuple[str, int, str]] = []

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        self.answers.append((path, response.status_code, response.text[:300]))
        if response.status_code >= 500:
            pytest.fail(
                f"POST {path} answered {response.status_code} although it committed:\n{response.text[:500]}"
                f"\n--- server output ---\n{self.server.output()[-4000:]}"
            )
        assert response.is_success, f"POST {path} answered {response.status_code}: {response.text[:500]}"
        return dict(response.json())


def test_writes_answer_once_with_the_broker_down_and_the_sweep_dispatches_them_later(
    server: Server, broker_port: int
):
    # given: a warehouse, a sales channel and a supplier, and a key with every scope
    wh = warehouse("WH1")
    stock = bin_of(wh)
    channel = cast(SalesChannel, ChannelFactory(warehouse=wh))
    supplier = cast(Supplier, SupplierFactory(name="Parts Inc"))
    user = cast(User, UserFactory(username="integrator", is_staff=True, is_superuser=True))
    writer = Writer(server, api_key_for(user, name="broker down"))
    events_before = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    # when: a mix of API writes is sent while the broker's port is closed
    widget = writer.post("/inventory/products", {"sku": "BD-WIDGET", "name": "Widget", "sale_price": "12.50"})
    gadget = writer.post("/inventory/products", {"sku": "BD-GADGET", "name": "Gadget", "sale_price": "30.00"})
    writer.post(
        "/inventory/receipts",
        {"product": widget["id"], "location": stock.pk, "quantity": "40", "unit_cost": "4.00"},
    )
    writer.post(
        "/inventory/adjustments",
        {"product": widget["id"], "location": stock.pk, "delta": "-2", "reason": "damaged"},
    )
    customer = writer.post("/sales/customers", {"name": "Broker Down Ltd"})
    order = writer.post(
        "/sales/orders",
        {
            "channel": channel.pk,
            "customer": customer["id"],
            "external_reference": "BD-1",
            "lines": [{"product": widget["id"], "quantity": "3"}],
        },
    )
    writer.post(f"/sales/orders/{order['id']}/confirm")
    po = writer.post(
        "/procurement/purchase-orders",
        {
            "supplier": supplier.pk,
            "warehouse": wh.pk,
            "lines": [{"product": gadget["id"], "quantity": "5", "unit_cost": "10.00"}],
        },
    )
    writer.post(f"/procurement/purchase-orders/{po['id']}/send")
    writer.post(
        f"/procurement/purchase-orders/{po['id']}/receive",
        {"lines": [{"line_id": po["lines"][0]["id"], "quantity": "5"}]},
    )

    # then: every write answered 2xx, once, and what it wrote exists exactly once
    assert [status for _, status, _ in writer.answers] == [
        201,
        201,
        201,
        200,
        201,
        201,
        200,
        201,
        200,
        201,
    ], writer.answers
    assert Product.objects.filter(sku__in=["BD-WIDGET", "BD-GADGET"]).count() == 2
    assert Customer.objects.filter(name="Broker Down Ltd").count() == 1
    assert SalesOrder.objects.filter(external_reference="BD-1").count() == 1
    assert SalesOrder.objects.get(external_reference="BD-1").status == "confirmed"
    assert PurchaseOrder.objects.filter(supplier=supplier).count() == 1
    moves = StockMove.objects.filter(product_id__in=[widget["id"], gadget["id"]])
    assert sorted(moves.values_list("product__sku", "kind", "quantity")) == [
        ("BD-GADGET", "receipt", Decimal(5)),
        ("BD-WIDGET", "adjustment", Decimal(2)),
        ("BD-WIDGET", "receipt", Decimal(40)),
    ]
    # ... and their events wait in the outbox: nothing could be dispatched
    waiting = OutboxEvent.objects.filter(pk__gt=events_before)
    assert waiting.exists()
    assert not waiting.filter(dispatched_at__isnull=False).exists()
    topics = set(waiting.values_list("topic", flat=True))
    assert {"sales.order_confirmed", "inventory.level_changed"} <= topics, topics
    # ... and the server said why, and what will recover them
    log = server.output()
    assert "The task queue cannot be reached" in log, log[-3000:]
    assert "erp.events.sweep" in log, log[-3000:]
    assert "Internal Server Error" not in log, log[-3000:]

    # when: the broker comes back on that very port, with a worker, and the sweep runs there
    broker_url = f"redis://127.0.0.1:{broker_port}/0"
    with (
        redis_server(broker_port),
        celery_worker(broker_url, OUTBOX_SWEEP_GRACE_SECONDS="0"),
        broker_for_this_process(broker_url),
    ):
        from erp.celery import app

        app.send_task("erp.tasks.sweep_outbox_task")

        # then: every waiting event ends dispatched
        wait_until(
            lambda: not waiting.filter(dispatched_at__isnull=True).exists(),
            timeout=60,
            what=f"the sweep to dispatch {waiting.filter(dispatched_at__isnull=True).count()} waiting events",
        )
    assert not waiting.filter(last_error__gt="").exists(), list(waiting.values_list("topic", "last_error"))
