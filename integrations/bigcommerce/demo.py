"""Demo data: a BigCommerce connection to a local fake store, beside the demo Shopify.

Registered with ``erp.demo`` (order 31, after the demo Shopify's 30: its products are ours too),
run by ``manage.py seed_demo``; ``integrations.apps`` imports every connector package's demo.

* The fake is integrations.bigcommerce.fake (one in-memory store per process). With the fakes on
  (DEBUG or ERP_DEMO_FAKES) the hub serves it at /integrations/fake-bigcommerce/ (the generic
  route of connector fakes) and the hub's HTTP client is routed to it in-process
  (``install_fakes``), so seeding and the connection work without a running server.
* The connection "Demo BigCommerce store" points ``base_url`` at that address (ERP_DEMO_BASE_URL),
  uses the fake's token and app secret, maps the MAIN warehouse to the store's location 1, and
  sells through a sales channel of its own, "bigcommerce-demo", on MAIN.
* The store's variants are linked to our products by SKU (ExternalRef "variant" with the product
  id BigCommerce adjusts stock by): the tents and the sleeping bag; the stove is STOVE-TITANIUM
  here and STOVE-TI-01 there (the demo Shopify's quarantine example), so it stays unlinked.
* Idempotent: the channel, connection and refs are looked up by natural key.
* "Simulate an order" on the connection's page (``demo_card`` / ``demo_act``): a shopper orders one
  or two of the linked products in the fake store; its signed webhooks (store/order/created and the
  rest of the burst) reach the connection's hook endpoint in this process, the hub imports the order
  on "bigcommerce-demo" and confirms it, and what that queued (an order to the shipping tool a
  fulfilment rule names, e.g. the demo ShipStation) is run at once.
"""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from erp import demo
from integrations import health, hooks, outbound
from integrations.models import Connection, ExternalRef, InboundEvent, InboundStatus
from inventory.models import Product, Warehouse

DEMO_NAME = "Demo BigCommerce store"
FAKE_PATH = "fake-bigcommerce"
CHANNEL_CODE = "bigcommerce-demo"
CHANNEL_NAME = "BigCommerce demo store"
WAREHOUSE_CODE = "MAIN"
LOCATION_ID = 1
WEBHOOK_SECRET = "bc-demo-header-secret"
SIMULATE_ORDER = "simulate-order"


def fakes_enabled() -> bool:
    return bool(settings.ERP_DEMO_FAKES)


def demo_base_url() -> str:
    return f"{str(settings.ERP_DEMO_BASE_URL).rstrip('/')}/integrations/{FAKE_PATH}"


def install_fakes() -> None:
    """Route the hub's requests to the demo base URL to this process's fake store (no network)."""
    import httpx

    from integrations import http
    from integrations.bigcommerce.fake import shared_fake

    http.mount(demo_base_url(), httpx.WSGITransport(app=shared_fake()))


def install_fakes_for_serving() -> None:
    """Mount the fake store for a served app (the URL conf calls this once); tests mount their own."""
    if fakes_enabled():
        install_fakes()


def is_demo(connection: Connection) -> bool:
    base = str((connection.settings or {}).get("base_url") or "")
    return connection.connector == "bigcommerce" and base.rstrip("/") == demo_base_url()


def _channel(warehouse: Warehouse | None) -> Any:
    from sales.models import ChannelKind, SalesChannel
    from sales.services import channel_create

    channel = SalesChannel.objects.filter(code=CHANNEL_CODE).first()
    if channel is None and warehouse is not None:
        channel = channel_create(
            code=CHANNEL_CODE,
            name=CHANNEL_NAME,
            warehouse=warehouse,
            kind=ChannelKind.WEB_STORE,
            currency="USD",
        )
    return channel


def _connection(warehouse: Warehouse | None) -> Connection:
    from integrations.bigcommerce.fake import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH
    from integrations.connections import connection_create

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        return connection
    return connection_create(
        connector="bigcommerce",
        name=DEMO_NAME,
        settings={"store_hash": STORE_HASH, "location_id": LOCATION_ID, "base_url": demo_base_url()},
        secrets={
            "access_token": ACCESS_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
            "client_secret": CLIENT_SECRET,
        },
        warehouse=warehouse,
        sales_channel=_channel(warehouse),
    )


def _refs(connection: Connection) -> list[str]:
    """The store's variants linked to our products of the same SKU; the SKUs linked."""
    from integrations.bigcommerce import fake_data

    product_type = ContentType.objects.get_for_model(Product)
    variants = {
        entry["variant"]["sku"]: entry["variant"]
        for product in fake_data.seed_catalogue()
        for entry in product["variants"]
    }
    ours = {p.sku: p for p in Product.objects.filter(sku__in=list(variants), is_active=True)}
    linked = []
    for sku, variant in sorted(variants.items()):
        product = ours.get(sku)
        if product is None:
            continue
        ExternalRef.objects.get_or_create(
            connection=connection,
            object_type="variant",
            external_id=str(variant["id"]),
            defaults={
                "content_type": product_type,
                "object_id": product.pk,
                "extra": {"product_id": variant["product_id"]},
            },
        )
        linked.append(sku)
    return linked


@transaction.atomic
def seed_bigcommerce() -> list[str]:
    from integrations import registry

    try:
        registry.get("bigcommerce")
    except registry.UnknownConnector:
        return ["integrations: no BigCommerce connector installed, no demo connection"]
    if fakes_enabled():
        install_fakes()
    warehouse = (
        Warehouse.objects.filter(code=WAREHOUSE_CODE).first() or Warehouse.objects.order_by("code").first()
    )
    connection = _connection(warehouse)
    linked = _refs(connection)
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake BigCommerce at "
        f"{demo_base_url()}/; {len(linked)} SKUs linked ({', '.join(linked) or 'none'})"
    ]


demo.register(31, "integrations-bigcommerce", seed_bigcommerce)


# --- the connection page's demo card -----------------------------------------------------------------


def demo_card(connection: Connection) -> dict[str, Any] | None:
    """The "Demo BigCommerce store" card (None: not the demo connection, or the fakes are off). No queries."""
    if not fakes_enabled() or not is_demo(connection):
        return None
    return {
        "title": "Demo BigCommerce store",
        "text": (
            "This connection talks to a fake BigCommerce store served by this app. Simulate a shopper's "
            "order of one or two of the products linked here: the store's signed webhooks reach this "
            f"connection's endpoint, the hub imports the order on the channel {CHANNEL_CODE} and "
            "confirms it, and the fulfilment rule of that channel sends it on to the connection that "
            "ships it (in the demo, Demo ShipStation)."
        ),
        "actions": [
            {
                "name": SIMULATE_ORDER,
                "label": "Simulate an order",
                "title": "A shopper orders one or two linked products in the fake store; its webhooks follow",
            }
        ],
    }


def _subscribed(connection: Connection) -> None:
    """The served fake starts empty (the seeder ran in another process): register the hooks (the
    health check) when the fake has no active store/order/created hook to this connection."""
    from integrations.bigcommerce.fake import shared_fake

    address = health.hook_url(connection)
    if not any(
        h["is_active"] and h["scope"] == "store/order/created" and h["destination"] == address
        for h in list(shared_fake().hooks.values())
    ):
        health.health_check(connection=connection)


def _deliver(connection: Connection, host: str) -> tuple[list[int], list[str]]:
    """The fake's queued webhooks, to the connection's hook in this process: the answers, and the
    events' hashes (the hub's ids of the events)."""
    from integrations.bigcommerce.fake import shared_fake

    hashes: list[str] = []

    def send(url: str, headers: dict[str, str], body: bytes) -> int:
        with contextlib.suppress(ValueError, AttributeError):
            hashes.append(str(json.loads(body).get("hash") or ""))
        return hooks.post_in_process(connection, headers, body, host, query=urlsplit(url).query)[0]

    return [d.attempts[-1].status or 0 for d in shared_fake().deliver_webhooks(send)], hashes


def _lines(connection: Connection, rng: random.Random) -> list[tuple[str, int]]:
    """One or two of the linked products the fake store has to sell, one or two of each."""
    from integrations.bigcommerce.fake import shared_fake

    fake = shared_fake()
    location = int((connection.settings or {}).get("location_id") or LOCATION_ID)
    product_ids = ExternalRef.objects.filter(connection=connection, object_type="variant").values_list(
        "object_id", flat=True
    )
    linked = sorted(Product.objects.filter(pk__in=list(product_ids)).values_list("sku", flat=True))
    available: dict[str, int] = {}
    for sku in linked:
        try:
            available[sku] = fake.available_to_sell(sku, location)
        except KeyError:  # not (or no longer) a SKU of the store
            continue
    in_stock = [sku for sku, n in available.items() if n > 0]
    picked = rng.sample(in_stock, k=min(len(in_stock), rng.choice((1, 1, 2))))
    return [(sku, min(rng.choice((1, 1, 2)), available[sku])) for sku in picked]


def _next_step(order: Any) -> str:
    """Where the imported order goes next: its shipping connection (a fulfilment rule), or here."""
    from integrations.routing import shipper_of

    shipper = shipper_of(order)
    if shipper is not None:
        name = Connection.objects.filter(pk=shipper).values_list("name", flat=True).first()
        return f"shipped by {name}: Print labels on its page."
    return "ship it from the order page."


def simulate_order(
    *, connection: Connection, host: str = "localhost", rng: random.Random | None = None
) -> tuple[str, str]:
    """A shopper orders in the fake store; its webhooks reach the hub in process, and what the hub
    queued runs: (message level, message)."""
    from integrations.bigcommerce.fake import OutOfStock, shared_fake
    from sales.models import OrderStatus, SalesOrder

    rng = rng or random.Random()
    _subscribed(connection)
    lines = _lines(connection, rng)
    if not lines:
        return (
            "warning",
            "The fake BigCommerce store has none of the products linked here to sell (no stock at its "
            "location): receive some at the connection's warehouse, its stock is pushed to the store.",
        )
    location = int((connection.settings or {}).get("location_id") or LOCATION_ID)
    try:
        placed = shared_fake().create_order(lines, location_id=location)
    except OutOfStock as exc:
        return "warning", f"The fake store refused the order at checkout: {exc}."
    answers, hashes = _deliver(connection, host)
    outbound.deliveries_enqueue_due()  # what the import queued (the order to its shipper), now
    said = f"BigCommerce order {placed['id']} ({', '.join(f'{n} × {sku}' for sku, n in lines)})"
    refused = [a for a in answers if not 200 <= a < 300]
    if not answers:
        return (
            "warning",
            f"{said} placed in the fake store, but it sent no webhook: no hook of this connection is "
            "registered there (see the connection's health check).",
        )
    if refused:
        return (
            "warning",
            f"{said} placed in the fake store, but the hook refused {len(refused)} of its "
            f"{len(answers)} webhook(s) ({refused[0]}).",
        )
    ref = ExternalRef.objects.filter(
        connection=connection, object_type="order", external_id=str(placed["id"])
    ).first()
    order = (
        SalesOrder.objects.select_related("channel").filter(pk=ref.object_id).first()
        if ref is not None
        else None
    )
    if order is None:
        stuck = (
            InboundEvent.objects.filter(
                connection=connection,
                external_id__in=[h for h in hashes if h],
                status__in=[InboundStatus.FAILED, InboundStatus.QUARANTINED, InboundStatus.DEAD],
            )
            .order_by("pk")
            .first()
        )
        if stuck is not None:
            return (
                "warning",
                f"{said} placed in the fake store; its {stuck.topic} webhook is "
                f"{stuck.get_status_display().lower()}: {stuck.last_error or 'see the connection events'}.",
            )
        return (
            "success",
            f"{said} placed in the fake store; its webhooks reached the hub, which imports it in a "
            "moment (see the connection's events).",
        )
    if order.status != OrderStatus.CONFIRMED:
        return (
            "warning",
            f"{said} placed in the fake store, imported as {order.number} "
            f"({order.get_status_display().lower()}): see the order's page.",
        )
    return (
        "success",
        f"{said} placed in the fake store, imported as {order.number} on {order.channel.code}, "
        f"confirmed; {_next_step(order)}",
    )


def demo_act(connection: Connection, name: str, host: str) -> tuple[str, str]:
    """Run a demo action of the card: (message level, message)."""
    if name != SIMULATE_ORDER:
        raise ValueError(f"No demo action {name!r} on BigCommerce")
    return simulate_order(connection=connection, host=host)
