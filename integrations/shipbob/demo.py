"""Demo data: a 3PL warehouse, 3PL-IL, whose stock and orders ShipBob holds (a local fake ShipBob).

Registered with ``erp.demo`` (order 34, after the demo Shopify's 30, whose products are ours too),
run by ``manage.py seed_demo``; ``integrations.apps`` imports every connector package's demo.

* The fake is integrations.shipbob.fake (one in-memory account per process, seeded with its
  catalogue and stock), served at /integrations/fake-shipbob/ with the fakes on
  (``integrations.demo_fakes``); the hub's client reaches it in-process.
* A warehouse "3PL-IL" (ShipBob Cicero (IL)) and the connection "Demo ShipBob" (the fake's channel,
  token and a webhook secret; warehouse 3PL-IL), with ShipBob's fulfilment centre 10 (Cicero)
  mapped to 3PL-IL. Its health check subscribes ``order.shipped`` at the fake.
* ShipBob owns the stock at 3PL-IL: one poll of its inventory levels makes 3PL-IL's on-hand its
  counts at Cicero, as count moves "Counted by Demo ShipBob". Its catalogue is our demo products;
  its stove is STOVE-TI-01 where ours is STOVE-TITANIUM, linked here (an ExternalRef "sku", as
  mapping it from the quarantine would), so the stove's count lands too.
* A fulfilment rule: 3PL-IL's orders are shipped by ShipBob. A manual sales channel,
  "shipbob-demo", sells from 3PL-IL: an order entered on it goes to ShipBob. Nothing else is routed.
* "Ship waiting orders" and "Cycle count" on the connection's page (``demo_card`` / ``demo_act``):
  ShipBob's warehouse ships our channel's waiting orders (its signed ``order.shipped`` reaches the
  connection's hook endpoint in this process), or finds a unit more or less of a SKU at Cicero
  (the next poll applies the count here).
* Idempotent: the warehouse, channel, connection, mapping, link and rule are looked up by natural
  key and only what is missing is made.
"""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction

from erp import demo
from integrations import demo_fakes, health, hooks, outbound, polling
from integrations.models import Connection, FulfilmentRule, SyncRunStatus
from inventory.models import Product, Warehouse

DEMO_NAME = "Demo ShipBob"
KEY = "shipbob"
WAREHOUSE_CODE, WAREHOUSE_NAME = "3PL-IL", "ShipBob Cicero (IL)"
CENTRE, CENTRE_NAME = 10, "Cicero (IL)"
CHANNEL_CODE, CHANNEL_NAME = "shipbob-demo", "Shipped by ShipBob (demo)"
LINKED = {"STOVE-TI-01": "STOVE-TITANIUM"}  # ShipBob's SKU -> ours, where they differ
LEVEL, TOPIC = "inventory_level", "order.shipped"
SHIP, COUNT = "ship-orders", "cycle-count"
CARRIERS = ("USPS", "UPS", "FedEx")


def install_fakes() -> None:
    from integrations.shipbob.fake import shared_fake

    demo_fakes.mount(KEY, shared_fake())


def install_fakes_for_serving() -> None:
    """Mount the fake for a served app (the URL conf calls this once); tests mount their own."""
    if demo_fakes.fakes_enabled():
        install_fakes()


def is_demo(connection: Connection) -> bool:
    return demo_fakes.is_demo(connection, KEY)


# --- the seeder ------------------------------------------------------------------------------------


def _warehouse() -> Warehouse:
    from inventory.services import warehouse_create

    found = Warehouse.objects.filter(code=WAREHOUSE_CODE).first()
    return found or warehouse_create(code=WAREHOUSE_CODE, name=WAREHOUSE_NAME)


def _channel(warehouse: Warehouse) -> Any:
    from sales.models import ChannelKind, SalesChannel
    from sales.services import channel_create

    channel = SalesChannel.objects.filter(code=CHANNEL_CODE).first()
    if channel is None:
        channel = channel_create(
            code=CHANNEL_CODE, name=CHANNEL_NAME, warehouse=warehouse, kind=ChannelKind.MANUAL, currency="USD"
        )
    return channel


def _connection(warehouse: Warehouse) -> Connection:
    from integrations.connections import connection_create
    from integrations.shipbob.fake import ACCESS_TOKEN, CHANNEL_ID
    from integrations.shipbob.fake_data import sample_secret

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        return connection
    return connection_create(
        connector=KEY,
        name=DEMO_NAME,
        settings={"channel_id": CHANNEL_ID, "base_url": demo_fakes.fake_url(KEY)},
        secrets={"token": ACCESS_TOKEN, "webhook_secret": sample_secret()},
        warehouse=warehouse,
    )


def _centre(connection: Connection, warehouse: Warehouse) -> None:
    """Fulfilment centre 10 (Cicero) is 3PL-IL."""
    from integrations.mappings import ToolChoices, mapping_set
    from integrations.models import ValueMapping
    from integrations.shipbob.connector import FULFILLMENT_CENTER

    if not ValueMapping.objects.filter(
        connection=connection, kind=FULFILLMENT_CENTER, our_value=warehouse.code
    ).exists():
        mapping_set(
            connection=connection,
            kind=FULFILLMENT_CENTER,
            our_value=warehouse.code,
            tool_value=str(CENTRE),
            choices=ToolChoices([(str(CENTRE), CENTRE_NAME)]),
        )


def _links(connection: Connection) -> None:
    """ShipBob's SKUs that differ from ours, linked to our products (ExternalRef "sku")."""
    from django.contrib.contenttypes.models import ContentType

    from integrations.models import ExternalRef

    product_type = ContentType.objects.get_for_model(Product)
    ours = {p.sku: p for p in Product.objects.filter(sku__in=list(LINKED.values()))}
    for theirs, sku in LINKED.items():
        if sku in ours:
            ExternalRef.objects.get_or_create(
                connection=connection,
                object_type="sku",
                external_id=theirs,
                defaults={"content_type": product_type, "object_id": ours[sku].pk},
            )


def _rule(connection: Connection, warehouse: Warehouse) -> None:
    from integrations.routing import route_set

    if not FulfilmentRule.objects.filter(warehouse=warehouse, channel__isnull=True).exists():
        route_set(warehouse=warehouse, connection=connection)


def _on_hand(warehouse: Warehouse) -> str:
    from inventory import availability

    products = dict(Product.objects.filter(sku__in=_our_skus()).values_list("pk", "sku"))
    levels = availability.totals(list(products), warehouse.pk)
    counts = sorted((products[pk], int(level.on_hand)) for pk, level in levels.items() if level.on_hand)
    return ", ".join(f"{sku} {units}" for sku, units in counts) or "nothing"


@transaction.atomic
def seed_shipbob() -> list[str]:
    from integrations import registry

    try:
        registry.get(KEY)
    except registry.UnknownConnector:
        return ["integrations: no ShipBob connector installed, no demo connection"]
    warehouse = _warehouse()
    _channel(warehouse)
    connection = _connection(warehouse)
    _centre(connection, warehouse)
    _links(connection)
    _rule(connection, warehouse)
    if demo_fakes.fakes_enabled():
        install_fakes()
        health.health_check(connection=connection)  # subscribes order.shipped at the fake
        run = polling.poll(connection=connection, object_type=LEVEL)
        if run.status == SyncRunStatus.SUCCEEDED:
            stock = f"on hand at {warehouse.code} as ShipBob counts it: {_on_hand(warehouse)}"
        else:
            stock = f"ShipBob's counts not read: {run.errors}"
    else:
        stock = "ShipBob's counts not read (the fakes are off)"
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake ShipBob at "
        f"{demo_fakes.fake_url(KEY)}/; ships {warehouse.code}'s orders (channel {CHANNEL_CODE}); {stock}"
    ]


demo.register(34, "integrations-shipbob", seed_shipbob)


# --- the connection page's demo card -----------------------------------------------------------------


def _our_skus() -> list[str]:
    """The SKUs here of the products ShipBob stocks (its catalogue, by our names)."""
    from integrations.shipbob.fake import shared_fake

    return [LINKED.get(sku, sku) for sku in shared_fake().products]


def _waiting() -> list[tuple[int, str]]:
    """Our channel's orders with a shipment ready to go in the fake: (ShipBob's id, our number)."""
    from integrations.shipbob.fake import CHANNEL_ID, shared_fake

    fake = shared_fake()
    with fake._lock:
        return [
            (order["id"], str(order["reference_id"]))
            for order in fake.orders.values()
            if order["channel"]["id"] == CHANNEL_ID
            and any(s["status"] == "Processing" for s in order["shipments"])
        ]


def demo_card(connection: Connection) -> dict[str, Any] | None:
    """The "Demo ShipBob" card (None: not the demo connection, or the fakes are off). No queries."""
    if not demo_fakes.fakes_enabled() or not is_demo(connection):
        return None
    waiting = len(_waiting())
    return {
        "title": "Demo ShipBob",
        "text": (
            f"This connection talks to a fake ShipBob served by this app. ShipBob holds the stock of "
            f"{WAREHOUSE_CODE} (its {CENTRE_NAME} centre) and ships its orders: an order entered on the "
            f"channel {CHANNEL_CODE} goes to it once confirmed. Ship them as ShipBob's warehouse would (its "
            "signed order.shipped reaches this connection's endpoint and the shipment is recorded here), "
            f"or count a shelf: the hub polls ShipBob's counts and {WAREHOUSE_CODE}'s on-hand follows. "
            f"Waiting to ship now: {waiting} order{'' if waiting == 1 else 's'}."
        ),
        "actions": [
            {
                "name": SHIP,
                "label": "Ship waiting orders",
                "title": "ShipBob ships every order of our channel it has ready, and sends order.shipped",
            },
            {
                "name": COUNT,
                "label": "Cycle count",
                "title": f"ShipBob counts one SKU at {CENTRE_NAME} a unit off; the hub polls its counts",
            },
        ],
    }


def _subscribed(connection: Connection) -> None:
    """The served fake starts empty: subscribe order.shipped (the health check) when it has none to
    this connection's endpoint."""
    from integrations.shipbob.fake import shared_fake

    address = health.hook_url(connection)
    if not any(
        TOPIC in s["topics"] and s["url"] == address
        for s in shared_fake().subscription_views()
        if s["enabled"]
    ):
        health.health_check(connection=connection)


def deliver(connection: Connection, host: str) -> list[int]:
    """The fake's queued webhooks, to the connection's hook in this process; the answers."""
    from integrations.shipbob.fake import shared_fake

    return hooks.deliver_in_process(connection, shared_fake(), host)


def _ship(connection: Connection, host: str) -> tuple[str, str]:
    from integrations.shipbob.fake import shared_fake

    fake = shared_fake()
    _subscribed(connection)
    waiting = _waiting()
    if not waiting:
        return (
            "info",
            f"No order waits at ShipBob. Enter and confirm an order on the channel {CHANNEL_CODE} "
            f"(it sells from {WAREHOUSE_CODE}): it is sent to ShipBob, and waits here to be shipped.",
        )
    shipped: list[str] = []
    failed: list[str] = []
    for order_id, number in waiting:
        try:
            shipment = fake.ship(order_id, carrier=random.choice(CARRIERS))
        except ValueError as exc:
            failed.append(f"{number}: {exc}")
            continue
        tracking = (shipment.get("tracking") or {}).get("tracking_number") or "none yet"
        shipped.append(f"{number} (tracking {tracking})")
    answers = deliver(connection, host)
    outbound.deliveries_enqueue_due()  # what the shipments queued for the channels, now
    said = f"ShipBob shipped {len(shipped)} order{'' if len(shipped) == 1 else 's'}: {', '.join(shipped)}."
    refused = [a for a in answers if not 200 <= a < 300]
    if failed or refused or not shipped:
        problems = [f"not shipped: {'; '.join(failed)}"] if failed else []
        problems += [f"the hook refused {len(refused)} webhook(s) ({refused[0]})"] if refused else []
        return "warning", f"{said} {'; '.join(problems).capitalize()}."
    return "success", said


def _count(connection: Connection) -> tuple[str, str]:
    from integrations.shipbob.fake import shared_fake
    from inventory import availability

    fake = shared_fake()
    ours = {p.sku: p for p in Product.objects.filter(sku__in=_our_skus(), is_active=True)}
    skus = [sku for sku in fake.products if LINKED.get(sku, sku) in ours]
    if not skus:
        return "info", "ShipBob stocks none of our products: nothing to count."
    sku = random.choice(skus)
    before = fake.on_hand(sku, CENTRE)
    step = random.choice((-1, 1)) if fake.fulfillable(sku, CENTRE) > 0 else 1
    after = fake.count(sku, CENTRE, before + step)
    run = polling.poll(connection=connection, object_type=LEVEL)
    said = f"Cycle count at ShipBob {CENTRE_NAME}: {sku} {before} → {after} on hand."
    if run.status != SyncRunStatus.SUCCEEDED:
        errors = "; ".join(str(e.get("message")) for e in run.errors) or run.status
        return "warning", f"{said} Polling its counts did not succeed: {errors}"
    product = ours[LINKED.get(sku, sku)]
    here = availability.of(product.pk, connection.warehouse_id).on_hand
    return (
        "success",
        f"{said} Polled: {WAREHOUSE_CODE} has {int(here)} {product.sku} on hand "
        f'(a count move "Counted by {connection.name}").',
    )


def demo_act(connection: Connection, name: str, host: str) -> tuple[str, str]:
    """Run a demo action of the card: (message level, message)."""
    if name == SHIP:
        return _ship(connection, host)
    if name == COUNT:
        return _count(connection)
    raise ValueError(f"No demo action {name!r} on ShipBob")
