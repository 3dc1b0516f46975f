"""ShipStation's part in the simulated day: the warehouse staff who ship the orders routed to it.

The day routes one channel's orders (Shopify's, when it takes part) to ShipStation. At each step
its staff may print labels for up to two waiting orders: most shipped whole, some in part (the
rest later), and now and then a label misprinted, voided and printed again before ShipStation's
notification goes out; now and then a label is found wrong after the hub recorded it, voided and
printed again for the same goods (the new tracking must reach the channel). The hub learns of
labels from SHIP_NOTIFY (with the day's duplicated and dropped webhooks) and from its poll of
shipments (the only way it hears of a void); at the end every label not voided must be a shipment
here with its tracking, told to the channel the order was sold on, and no voided label may be the
only one a shipment here stands on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar

from integrations import health
from integrations.connections import connection_create
from integrations.models import Connection
from integrations.shipstation.fake import API_KEY, API_SECRET, BASE_URL, STORE_ID, FakeShipStation
from integrations.simulate.shippers import ShippingTool

WEBHOOK_TOKEN = "ss-simulated-day-token"
CARRIERS = (
    ("stamps_com", "usps_priority_mail"),
    ("ups_walleted", "ups_ground"),
    ("fedex", "fedex_home_delivery"),
)


class Shipper(ShippingTool):
    key: ClassVar[str] = "shipstation"
    origin: ClassVar[str] = BASE_URL

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        clock = self.clock
        # a generous window: the day's own 429 bursts are injected; the window still answers its headers
        self._fake = FakeShipStation(clock=clock, monotonic=clock.monotonic, rate_limit=10_000)
        self._labels = 0

    @property
    def fake(self) -> FakeShipStation:
        return self._fake

    def token_refreshes(self) -> int:
        return 0  # API key and secret: nothing to refresh

    def connect(self, *, tag: str, served_at: str | None) -> Connection:
        settings: dict[str, Any] = {"store_id": STORE_ID}
        if served_at:
            settings["base_url"] = served_at
            self._fake.base_url = served_at  # the resource URLs its notifications name
        connection = connection_create(
            connector=self.key,
            name=f"Simulated ShipStation {tag}",
            settings=settings,
            secrets={"api_key": API_KEY, "api_secret": API_SECRET, "webhook_token": WEBHOOK_TOKEN},
        )
        health.health_check(connection=connection)  # subscribes SHIP_NOTIFY at the fake
        return connection

    # --- the warehouse staff --------------------------------------------------------------------

    def _tracking(self) -> str:
        self._labels += 1
        return f"9400SIM{self.rng.randrange(10**6):06d}{self._labels:06d}"

    def work(self, hold: AbstractSet[str] = frozenset()) -> None:
        if self.rng.random() < 0.05:
            self._relabel_late()
        rng, fake = self.rng, self._fake
        waiting = [o for o in fake.orders_awaiting() if not self.held(o["orderKey"], hold)][:10]
        if not waiting or rng.random() < 0.4:
            return
        for order in rng.sample(waiting, k=min(2, len(waiting))):
            key = order["orderKey"]
            carrier, service = rng.choice(CARRIERS)
            left = fake.unshipped(key)
            roll = rng.random()
            if roll < 0.1 and sum(left.values()) > 1:
                # what is on the shelf goes now, the rest with a later label
                first = next(iter(left))
                fake.ship(key, {first: 1}, carrier=carrier, service=service, tracking=self._tracking())
                self.actions["shipped_partly_there"] += 1
            elif roll < 0.2:
                # a misprint: voided at once, and printed again
                label = fake.ship(key, carrier=carrier, service=service, tracking=self._tracking())
                fake.void(label["shipmentId"])
                fake.ship(key, carrier=carrier, service=service, tracking=self._tracking())
                self.actions["relabelled_there"] += 1
            else:
                fake.ship(key, carrier=carrier, service=service, tracking=self._tracking())
                self.actions["shipped_there"] += 1

    def _relabel_late(self) -> None:
        """A label found wrong after the parcel was handed over (and after the hub recorded it):
        voided, and printed again for the same goods; the new tracking must reach the channel."""
        fake = self._fake
        with fake._lock:
            live: dict[int, list[dict[str, Any]]] = {}
            for shipment in fake.shipments.values():
                if not shipment["view"]["voided"]:
                    live.setdefault(shipment["order_id"], []).append(shipment["view"])
            whole = [
                (entry["view"]["orderKey"], labels[0])
                for entry in fake.orders.values()
                if entry["view"]["orderStatus"] == "shipped" and len(labels := live.get(entry["id"], [])) == 1
            ][-20:]
        recorded = self.shipments_here()
        whole = [(key, label) for key, label in whole if str(label["shipmentId"]) in recorded]
        if not whole:
            return
        key, label = self.rng.choice(whole)
        fake.void(label["shipmentId"])
        carrier, service = self.rng.choice(CARRIERS)
        fake.ship(key, carrier=carrier, service=service, tracking=self._tracking())
        self.actions["relabelled_late_there"] += 1

    # --- the end of the day ---------------------------------------------------------------------

    def differences(self) -> list[dict[str, Any]]:
        from sales.models import OrderStatus, SalesOrder

        snapshot = self._fake.snapshot()
        here = self.shipments_here()
        found: list[dict[str, Any]] = []

        def drift(data: str, key: str, kind: str, hub: Any, tool: Any) -> None:
            found.append(self.drift_item(data, key, kind, hub, tool))

        # our shipments a live label stands for (a voided label recorded here was replaced by one)
        standing = {
            here[i][0] for i, label in snapshot["shipments"].items() if not label["voided"] and i in here
        }
        for shipment_id, label in snapshot["shipments"].items():
            recorded = here.get(shipment_id)
            if label["voided"]:
                if recorded is not None and recorded[0] not in standing:
                    drift("shipment", shipment_id, "voided_but_recorded", recorded[1], label["tracking"])
            elif recorded is None:
                drift("shipment", shipment_id, "missing_here", None, label["tracking"])
            elif recorded[1] != label["tracking"]:
                drift("shipment", shipment_id, "tracking", recorded[1], label["tracking"])
        ours = dict(
            SalesOrder.objects.filter(
                number__in={o["orderNumber"] for o in snapshot["orders"].values()}
            ).values_list("number", "status")
        )
        open_here = {OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD}
        statuses: Counter[str] = Counter()
        for key, order in snapshot["orders"].items():
            statuses[order["status"]] += 1
            status = ours.get(order["orderNumber"])
            if order["status"] in ("awaiting_shipment", "on_hold") and status not in open_here:
                drift("order", key, "open_there_not_here", status, order["status"])
            if order["status"] == "shipped" and status not in (OrderStatus.SHIPPED, OrderStatus.CLOSED):
                drift("order", key, "shipped_there_not_here", status, order["status"])
        for pk in self.untold([pk for pk, _ in here.values()]):
            drift("shipment", str(pk), "channel_not_told", "shipped here", None)
        self.actions.update({f"orders_{k}_there": v for k, v in statuses.items()})
        return found
