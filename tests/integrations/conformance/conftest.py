"""The conformance kit's wiring: one run of every case per connector, each against its own fake.

Connectors: every registered one (``registry.all_connectors()`` at collection) plus the
kit's own test-only connectors (``KIT_CONNECTORS``), which are registered for the
duration of each test only, so the rest of the suite never sees them.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations import http, outbound, polling, registry, routing
from integrations.connections import connection_create
from integrations.contract import Connector
from integrations.models import Connection, Delivery, DeliveryStatus
from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from procurement.models import Bill, Supplier
from procurement.services import (
    BillLineSpec,
    POLineSpec,
    ReceiveLine,
    bill_record,
    po_create,
    po_send,
    receipt_create,
)
from sales.models import Customer, Invoice, SalesOrder
from sales.services import invoice_create, invoice_issue, order_confirm
from tests.integrations.conformance.harness import Harness, harness_class
from tests.integrations.conformance.minimal.connector import MinimalConnector
from tests.integrations.conformance.parcel.connector import ParcelConnector
from tests.integrations.conformance.pipeline.connector import PipelineConnector
from tests.integrations.conformance.stockroom.connector import StockroomConnector
from tests.integrations.conformance.tally.connector import TallyConnector
from tests.integrations.factories import ExternalRefFactory
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.sales.factories import ChannelFactory, order_for, stocked_product

KIT_CONNECTORS: tuple[type[Connector], ...] = (
    MinimalConnector,
    ParcelConnector,
    PipelineConnector,
    StockroomConnector,
    TallyConnector,
)
HUB_STOCK = 10


def connectors_under_test() -> list[type[Connector]]:
    found = {c.key: c for c in registry.all_connectors()}
    for connector in KIT_CONNECTORS:
        found.setdefault(connector.key, connector)
    return [found[key] for key in sorted(found)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each part of the kit (a test module's ``PART``: the capabilities it checks) runs for every
    connector that declares them all."""
    if "connector_cls" in metafunc.fixturenames:
        part = getattr(metafunc.module, "PART", frozenset())
        connectors = [c for c in connectors_under_test() if part <= c.capabilities]
        if getattr(metafunc.module, "POLLED", False):  # the polling variant: channels without webhooks
            connectors = [c for c in connectors if "order" in c.poll_object_types and not c.webhook_topics]
        metafunc.parametrize("connector_cls", connectors, ids=[c.key for c in connectors])


@dataclass
class Kit:
    """One connection of the connector under test, its fake tool, and the hub's side of a store."""

    harness: Harness
    connection: Connection
    product: Product
    warehouse: Warehouse
    client: Any
    capture: Any

    def post(self, headers: dict[str, str], body: bytes):
        with self.capture(execute=True):
            return self.client.post(
                reverse("integrations:hook", args=[self.connection.pk]),
                data=body,
                content_type=headers.get("Content-Type", "application/json"),
                headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            )

    def needs_webhooks(self) -> None:
        """Skip a case about webhooks for a tool that sends none (its orders are polled: the
        channel part's polling variant, test_channel_polling.py, runs for it instead)."""
        if not self.harness.connector.webhook_topics:
            pytest.skip(f"{self.harness.connector.name} sends no webhooks: its orders are polled")

    def poll(self, object_type: str = "order") -> Any:
        """One poll of the connection, its events processed at once; the SyncRun."""
        with self.capture(execute=True):
            return polling.poll(
                connection=Connection.objects.get(pk=self.connection.pk), object_type=object_type
            )

    def receive_stock(self, quantity: int = 1) -> None:
        """A stock change in the hub: its outbox event fans out a (coalesced) push delivery."""
        with self.capture(execute=True):
            stock_receive(
                product=self.product, location=bin_of(self.warehouse), quantity=quantity, unit_cost=1
            )

    def run_due_deliveries(self) -> list[Delivery]:
        """Let the coalescing window (or a backoff) pass and attempt what is due."""
        open_ = Delivery.objects.filter(
            connection=self.connection, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
        )
        open_.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
        with self.capture(execute=True):
            outbound.deliveries_enqueue_due()
        return list(Delivery.objects.filter(connection=self.connection, topic="inventory.level_changed"))


@pytest.fixture
def harness(connector_cls):
    try:
        known = registry.get(connector_cls.key)
    except registry.UnknownConnector:
        known = None
    if known is None:
        registry.register(connector_cls)
    try:
        try:
            tool = harness_class(connector_cls)()
        except LookupError as exc:
            pytest.fail(str(exc))
        transport = tool.transport()
        with contextlib.ExitStack() as mounts:
            # A tool served from several hosts (Amazon: its API, Login with Amazon, S3's pre-signed
            # document URLs) names them all in ``origins``.
            for origin in getattr(tool, "origins", (tool.base_url,)):
                mounts.enter_context(http.mounted(origin, transport))
            yield tool
    finally:
        if known is None:
            registry.unregister(connector_cls.key)


@pytest.fixture
def kit(harness, db, client, django_capture_on_commit_callbacks) -> Kit:
    wh = warehouse("WH1")
    channel = ChannelFactory(warehouse=wh)
    product = stocked_product(HUB_STOCK, wh=wh, price="10.00", sku=harness.sku)
    connection = connection_create(
        connector=harness.connector.key,
        name=f"{harness.connector.name} under test",
        settings=harness.settings(),
        secrets=harness.secrets(),
        warehouse=wh,
        sales_channel=channel,
    )
    external_id, extra = harness.variant(harness.sku)
    ExternalRefFactory(connection=connection, external_id=external_id, internal=product, extra=extra)
    return Kit(harness, connection, product, wh, client, django_capture_on_commit_callbacks)


# --- the shipping part: a shipping tool or 3PL, and Shopify as the channel the order was sold on ----


@dataclass
class ShippingKit:
    """The tool under test ships for WH1; orders are sold on a Shopify store selling from WH1."""

    harness: Any  # the shipping tool's harness: see harness.ShippingHarness
    connection: Connection
    shop: Any  # Shopify's harness (integrations/shopify/conformance.py)
    shop_connection: Connection
    product: Product
    warehouse: Warehouse
    client: Any
    capture: Any

    def post(
        self,
        connection: Connection,
        headers: dict[str, str],
        body: bytes,
        query: dict[str, str] | None = None,
    ):
        url = reverse("integrations:hook", args=[connection.pk])
        if query:
            url = f"{url}?{urlencode(query)}"
        with self.capture(execute=True):
            return self.client.post(
                url,
                data=body,
                content_type=headers.get("Content-Type", "application/json"),
                headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            )

    def sell(self, quantity: int = 1) -> SalesOrder:
        """An order placed on the Shopify store: imported and confirmed here (stock reserved), and
        from there on its way to the tool that ships for the warehouse."""
        order = self.shop.new_order(sku=self.shop.sku, quantity=quantity, updated_at=timezone.now())
        response = self.post(self.shop_connection, *self.shop.order_webhook(order, created=True))
        assert response.status_code == 200, response.content
        return SalesOrder.objects.get(external_reference=str(order["name"]))

    def deliveries(self) -> list[Delivery]:
        return list(Delivery.objects.filter(connection=self.connection).order_by("pk"))


@pytest.fixture
def shipping_kit(harness, db, client, django_capture_on_commit_callbacks) -> Iterator[ShippingKit]:
    from integrations.shopify.conformance import Harness as ShopHarness

    shop = ShopHarness()
    with http.mounted(shop.base_url, shop.transport()):
        wh = warehouse("WH1")
        product = stocked_product(HUB_STOCK, wh=wh, price="10.00", sku=shop.sku)
        shop_connection = connection_create(
            connector="shopify",
            name="Shopify store",
            settings=shop.settings(),
            secrets=shop.secrets(),
            warehouse=wh,
            sales_channel=ChannelFactory(warehouse=wh, name="Shopify store"),
        )
        external_id, extra = shop.variant(shop.sku)
        ExternalRefFactory(connection=shop_connection, external_id=external_id, internal=product, extra=extra)
        connection = connection_create(
            connector=harness.connector.key,
            name=f"{harness.connector.name} under test",
            settings=harness.settings(),
            secrets=harness.secrets(),
            warehouse=wh,
        )
        routing.route_set(warehouse=wh, connection=connection)  # the tool ships what WH1 sells
        yield ShippingKit(
            harness,
            connection,
            shop,
            shop_connection,
            product,
            wh,
            client,
            django_capture_on_commit_callbacks,
        )


# --- the accounting part -------------------------------------------------------------------------------


@dataclass
class BooksKit:
    """The accounting tool under test keeps the books of what is sold from WH1."""

    harness: Any  # the accounting tool's harness: see harness.AccountingHarness
    connection: Connection
    product: Product
    channel: Any
    capture: Any
    client: Any

    def invoice(self, customer: Customer, quantity: int = 2) -> Invoice:
        """An order of ``customer`` confirmed, invoiced and the invoice issued here, with every
        event dispatched and every delivery it makes attempted (after commit)."""
        with self.capture(execute=True):
            order = order_confirm(
                order=order_for((self.product, quantity), channel=self.channel, customer=customer)
            )
        with self.capture(execute=True):
            invoice = invoice_issue(invoice=invoice_create(order=order))
        return invoice

    def run(self, fn: Any, **kwargs: Any) -> Any:
        with self.capture(execute=True):
            return fn(**kwargs)

    def deliveries(self, topic: str | None = None) -> list[Delivery]:
        found = Delivery.objects.filter(connection=self.connection).order_by("pk")
        return list(found.filter(topic=topic) if topic else found)

    def post(self, headers: dict[str, str], body: bytes):
        with self.capture(execute=True):
            return self.client.post(
                reverse("integrations:hook", args=[self.connection.pk]),
                data=body,
                content_type=headers.get("Content-Type", "application/json"),
                headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            )


@pytest.fixture
def books_kit(harness, db, client, django_capture_on_commit_callbacks) -> BooksKit:
    wh = warehouse("WH1")
    channel = ChannelFactory(warehouse=wh, invoice_policy="ordered")
    product = stocked_product(HUB_STOCK, wh=wh, price="10.00", sku="BOOK-MUG", name="Mug")
    connection = connection_create(
        connector=harness.connector.key,
        name=f"{harness.connector.name} under test",
        settings=harness.settings(),
        secrets=harness.secrets(),
    )
    return BooksKit(harness, connection, product, channel, django_capture_on_commit_callbacks, client)


# --- the bills part: vendors and supplier bills -------------------------------------------------------


@dataclass
class BillsKit:
    """The accounting tool under test keeps the books of what is bought into WH1: purchase orders
    sent and received here, and the suppliers' bills recorded against them."""

    harness: Any  # the accounting tool's harness: see harness.AccountingHarness, and existing_vendor
    connection: Connection
    product: Product
    warehouse: Warehouse
    capture: Any

    def bill(
        self, supplier: Supplier, *, quantity: int = 4, cost: str = "5.00", billed_at: str | None = None
    ) -> Bill:
        """``quantity`` units ordered from ``supplier`` at ``cost`` and received; then the supplier's
        bill recorded here (at ``billed_at`` per unit: another price than ordered fails the match),
        with its event dispatched and every delivery it makes attempted (after commit)."""
        po = po_send(
            po=po_create(
                supplier=supplier,
                warehouse=self.warehouse,
                lines=[POLineSpec(self.product, quantity, unit_cost=cost)],
            )
        )
        line = po.lines.get()
        receipt_create(po=po, lines=[ReceiveLine(line, quantity)])
        with self.capture(execute=True):
            return bill_record(
                po=po,
                supplier_reference=f"SUP-{po.number}",
                lines=[BillLineSpec(line, quantity, billed_at or cost)],
            )

    def run(self, fn: Any, **kwargs: Any) -> Any:
        with self.capture(execute=True):
            return fn(**kwargs)

    def deliveries(self, topic: str | None = None) -> list[Delivery]:
        found = Delivery.objects.filter(connection=self.connection).order_by("pk")
        return list(found.filter(topic=topic) if topic else found)


@pytest.fixture
def bills_kit(harness, db, django_capture_on_commit_callbacks) -> BillsKit:
    wh = warehouse("WH1")
    product = ProductFactory(sku="BOOK-BOLT", name="Bolt")
    connection = connection_create(
        connector=harness.connector.key,
        name=f"{harness.connector.name} under test",
        settings=harness.settings(),
        secrets=harness.secrets(),
    )
    return BillsKit(harness, connection, product, wh, django_capture_on_commit_callbacks)


# --- the 3PL part: a 3PL ships for WH1 from its own shelves and owns the on-hand there -------------


@dataclass
class ThreePLKit(ShippingKit):
    """The shipping kit's store, warehouse and Shopify channel, with the 3PL under test (see
    harness.ThreePLHarness) shipping for WH1 and owning the on-hand there (its ``tool_owns``)."""

    def stock(self) -> Any:
        """The product's availability at WH1 here: on hand, reserved, available."""
        from inventory import availability

        return availability.of(self.product.pk, self.warehouse.pk)

    def count_arrives(self, sku: str, on_hand: int) -> None:
        """The 3PL counts ``on_hand`` of ``sku`` and the hub hears it: by the tool's count webhook,
        or, from a 3PL that sends none (its harness's ``counts_by_webhook`` false: ShipBob), by
        the hub's poll of its levels."""
        if getattr(self.harness, "counts_by_webhook", True):
            response = self.post(self.connection, *self.harness.count(sku, on_hand))
            assert response.status_code == 200, response.content
            return
        self.harness.set_on_hand(sku, on_hand)
        with self.capture(execute=True):
            run = polling.poll(connection=self.connection, object_type="inventory_level")
        assert run.failed == 0, run.errors

    def run_shop_deliveries(self) -> list[Delivery]:
        """Let the coalescing window pass and attempt what is due; the Shopify store's stock pushes."""
        Delivery.objects.filter(
            connection=self.shop_connection, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
        ).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
        with self.capture(execute=True):
            outbound.deliveries_enqueue_due()
        return list(Delivery.objects.filter(connection=self.shop_connection, topic="inventory.level_changed"))


@pytest.fixture
def threepl_kit(shipping_kit: ShippingKit) -> ThreePLKit:
    return ThreePLKit(**vars(shipping_kit))


# --- the CRM part: customers out and in (the tool's app-level webhooks), deals out ----------------


@dataclass
class CrmKit:
    """The CRM under test follows the customers here and, where it takes deals, the orders sold from
    WH1; its webhooks arrive at the tool's one app-level address, routed by the account they name."""

    harness: Any  # the CRM's harness: see harness.CrmHarness
    connection: Connection
    product: Product
    channel: Any
    capture: Any
    client: Any

    def run(self, fn: Any, **kwargs: Any) -> Any:
        """Call a service; its events are dispatched and the deliveries they make attempted."""
        with self.capture(execute=True):
            return fn(**kwargs)

    def sell(self, customer: Customer, quantity: int = 2) -> SalesOrder:
        """An order of ``customer`` confirmed here (events dispatched, deliveries attempted)."""
        order = order_for((self.product, quantity), channel=self.channel, customer=customer)
        return self.run(order_confirm, order=order)

    def deliveries(self, topic: str | None = None) -> list[Delivery]:
        found = Delivery.objects.filter(connection=self.connection).order_by("pk")
        return list(found.filter(topic=topic) if topic else found)

    def post(self, headers: dict[str, str], body: bytes):
        """A delivery of the tool's webhooks to its app-level address; processed at once."""
        with self.capture(execute=True):
            return self.client.post(
                reverse("integrations:hook-app", args=[self.connection.connector]),
                data=body,
                content_type=headers.get("Content-Type", "application/json"),
                headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            )


@pytest.fixture
def crm_kit(harness, db, client, django_capture_on_commit_callbacks) -> CrmKit:
    wh = warehouse("WH1")
    channel = ChannelFactory(warehouse=wh)
    product = stocked_product(HUB_STOCK, wh=wh, price="12.50", sku="CRM-LAMP", name="Lamp")
    connection = connection_create(
        connector=harness.connector.key,
        name=f"{harness.connector.name} under test",
        settings=harness.settings(),
        secrets=harness.secrets(),
    )
    # the address the tool's webhooks are sent to, as the test client calls it (what signatures cover)
    harness.deliver_to(f"http://testserver{reverse('integrations:hook-app', args=[connection.connector])}")
    return CrmKit(harness, connection, product, channel, django_capture_on_commit_callbacks, client)
