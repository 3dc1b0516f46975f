"""Demo data: ShipStation ships the demo BigCommerce store's orders from MAIN (a local fake ShipStation).

Registered with ``erp.demo`` (order 33, after the demo BigCommerce store's 31: its channel is the one
routed here), run by ``manage.py seed_demo``; ``integrations.apps`` imports every connector
package's demo.

* The fake is integrations.shipstation.fake (one in-memory account per process), served at
  /integrations/fake-shipstation/ with the fakes on (``integrations.demo_fakes``); the hub's client
  reaches it in-process. Its ``base_url`` is that address too, so the resource URLs its SHIP_NOTIFY
  names are on the connection's own host (the hub follows no other).
* The connection "Demo ShipStation" holds the fake's API key and secret, its store and a webhook
  token; its health check subscribes SHIP_NOTIFY at the fake (the address carries the token).
* A fulfilment rule: MAIN's orders of the channel "bigcommerce-demo" (the demo BigCommerce store's)
  are shipped by this connection; every other channel's orders are still shipped here.
* "Print labels" on the connection's page (``demo_card`` / ``demo_act``): the fake's warehouse staff
  print a label for every order awaiting shipment, and the fake's SHIP_NOTIFY reaches the
  connection's hook endpoint in this process; the hub reads the batch, records the shipments with
  their tracking and tells the channel the order was sold on.
* Idempotent: the connection and the rule are looked up by natural key (name; warehouse and channel)
  and only what is missing is made.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from erp import demo
from integrations import demo_fakes, health, hooks, outbound
from integrations.models import Connection, FulfilmentRule, SyncRunStatus

DEMO_NAME = "Demo ShipStation"
KEY = "shipstation"
CHANNEL_CODE = "bigcommerce-demo"  # the demo BigCommerce store's channel (integrations/bigcommerce/demo.py)
WEBHOOK_TOKEN = "ss-demo-webhook-token"
TOPIC = "SHIP_NOTIFY"
PRINT_LABELS = "print-labels"
CARRIER, SERVICE = "stamps_com", "usps_priority_mail"


def install_fakes() -> None:
    from integrations.shipstation.fake import shared_fake

    fake = shared_fake()
    fake.base_url = demo_fakes.fake_url(KEY)  # the resource URLs of its notifications
    demo_fakes.mount(KEY, fake)


def install_fakes_for_serving() -> None:
    """Mount the fake for a served app (the URL conf calls this once); tests mount their own."""
    if demo_fakes.fakes_enabled():
        install_fakes()


def is_demo(connection: Connection) -> bool:
    return demo_fakes.is_demo(connection, KEY)


# --- the seeder ------------------------------------------------------------------------------------


def _connection() -> Connection:
    from integrations.connections import connection_create
    from integrations.shipstation.fake import API_KEY, API_SECRET, STORE_ID

    connection = Connection.objects.filter(name=DEMO_NAME).first()
    if connection is not None:
        return connection
    return connection_create(
        connector=KEY,
        name=DEMO_NAME,
        settings={"store_id": STORE_ID, "base_url": demo_fakes.fake_url(KEY)},
        secrets={"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": WEBHOOK_TOKEN},
    )


def _rule(connection: Connection) -> str:
    """MAIN's orders of the demo BigCommerce channel go to ``connection``; what the report says."""
    from integrations.routing import route_set
    from sales.models import SalesChannel

    channel = SalesChannel.objects.select_related("warehouse").filter(code=CHANNEL_CODE).first()
    if channel is None:
        return f"no channel {CHANNEL_CODE}, no orders routed to it"
    where = f"{channel.warehouse.code}'s {channel.code} orders"
    existing = FulfilmentRule.objects.filter(warehouse=channel.warehouse, channel=channel).first()
    if existing is None:
        route_set(warehouse=channel.warehouse, channel=channel, connection=connection)
    elif existing.connection_id != connection.pk:
        return f"{where} are shipped by another connection (left as it is)"
    return f"ships {where}"


@transaction.atomic
def seed_shipstation() -> list[str]:
    from integrations import registry

    try:
        registry.get(KEY)
    except registry.UnknownConnector:
        return ["integrations: no ShipStation connector installed, no demo connection"]
    connection = _connection()
    routed = _rule(connection)
    if demo_fakes.fakes_enabled():
        install_fakes()
        run = health.health_check(connection=connection)  # subscribes SHIP_NOTIFY at the fake
        hooked = (
            f"{TOPIC} subscribed"
            if run.status == SyncRunStatus.SUCCEEDED
            else f"{TOPIC} not subscribed: {run.errors}"
        )
    else:
        hooked = f"{TOPIC} not subscribed (the fakes are off)"
    return [
        f"integrations: connection '{connection.name}' (id {connection.pk}) to the fake ShipStation at "
        f"{demo_fakes.fake_url(KEY)}/; {routed}; {hooked}"
    ]


demo.register(33, "integrations-shipstation", seed_shipstation)


# --- the connection page's demo card -----------------------------------------------------------------


def demo_card(connection: Connection) -> dict[str, Any] | None:
    """The "Demo ShipStation" card (None: not the demo connection, or the fakes are off). No queries."""
    if not demo_fakes.fakes_enabled() or not is_demo(connection):
        return None
    from integrations.shipstation.fake import shared_fake

    waiting = len(shared_fake().orders_awaiting())
    return {
        "title": "Demo ShipStation",
        "text": (
            "This connection talks to a fake ShipStation served by this app. Orders sold on the demo "
            "BigCommerce store (channel bigcommerce-demo) are sent to it once confirmed and reserved. "
            "Print their labels as ShipStation's warehouse staff would: its SHIP_NOTIFY reaches this "
            "connection's endpoint, the hub records each shipment with its tracking and tells "
            f"BigCommerce. Waiting for a label now: {waiting} order{'' if waiting == 1 else 's'}."
        ),
        "actions": [
            {
                "name": PRINT_LABELS,
                "label": "Print labels",
                "title": "A label for each order awaiting shipment in the fake; its SHIP_NOTIFY follows",
            }
        ],
    }


def _subscribed(connection: Connection) -> None:
    """The served fake starts empty: subscribe SHIP_NOTIFY (the health check) when it has no hook of
    this connection's."""
    from integrations.shipstation.fake import shared_fake

    token = str(connection.get_secrets().get("webhook_token") or "")
    hooks_there = shared_fake().webhooks.values()
    if not any(h["active"] and h["event"] == TOPIC and f"token={token}" in h["url"] for h in hooks_there):
        health.health_check(connection=connection)


def deliver(connection: Connection, host: str) -> list[int]:
    """The fake's queued webhooks, to the connection's hook in this process; the answers."""
    from integrations.shipstation.fake import shared_fake

    return hooks.deliver_in_process(connection, shared_fake(), host)


def _tracking() -> str:
    return f"9400111899{secrets.randbelow(10**12):012d}"


def demo_act(connection: Connection, name: str, host: str) -> tuple[str, str]:
    """Run a demo action of the card: (message level, message)."""
    if name != PRINT_LABELS:
        raise ValueError(f"No demo action {name!r} on ShipStation")
    from integrations.shipstation.fake import shared_fake

    fake = shared_fake()
    _subscribed(connection)
    waiting = fake.orders_awaiting()
    if not waiting:
        return (
            "info",
            "No order awaits a label in the fake ShipStation. Enter and confirm an order on the channel "
            f"{CHANNEL_CODE} (the demo BigCommerce store's, selling from MAIN), or let one come in from "
            "the store: once its stock is reserved it is sent to ShipStation, and waits here for a label.",
        )
    printed: list[str] = []
    for order in waiting:
        label = fake.ship(order["orderKey"], carrier=CARRIER, service=SERVICE, tracking=_tracking())
        printed.append(f"{order['orderNumber']} (tracking {label['trackingNumber']})")
    answers = deliver(connection, host)
    outbound.deliveries_enqueue_due()  # what the shipments queued for the channels, now
    said = f"{len(printed)} label{'' if len(printed) == 1 else 's'} printed: {', '.join(printed)}."
    refused = [a for a in answers if not 200 <= a < 300]
    if refused:
        return "warning", f"{said} The hook refused {len(refused)} notification(s) ({refused[0]})."
    return "success", said
