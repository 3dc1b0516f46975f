"""ShipBob's part in the simulated day: a 3PL that keeps the stock of one channel and ships its orders.

The day gives ShipBob a warehouse here (its fulfilment centre, mapped on the connection) and the
channel it ships for (BigCommerce's store, when it takes part) sells from it. ShipBob owns that
stock: the hub polls its counts (ShipBob sends no inventory webhook), and they are the on-hand here.
At each step ShipBob's people may:

* ship up to two waiting orders: most whole, some in part (the rest later), some first without
  tracking (the carrier's number comes a few steps later; the hub reads the shipment again until
  it has it), some with ``order.shipped`` bodies that lack the tracking ShipBob has;
* move stock with no order: a unit broken, a cycle count one off, and, when a SKU runs low, a
  receiving order of the merchant's own (made in ShipBob's dashboard) stowed two hours later.

Stock moves only out of what is free there (never below what ShipBob has committed), as a person
would not count away units packed for an order. At the end every shipment that left must be a
shipment here with its tracking, told to the channel; every order open there open here; and the
stock at the centre what the hub has at ShipBob's warehouse: the same on hand, the same available.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar

from integrations import health
from integrations.connections import connection_create
from integrations.mappings import mapping_set
from integrations.models import Connection
from integrations.shipbob.connector import FULFILLMENT_CENTER
from integrations.shipbob.fake import ACCESS_TOKEN, BASE_URL, CHANNEL_ID, FakeShipBob
from integrations.shipbob.fake_data import sample_secret
from integrations.simulate.shippers import ShippingTool

CENTRE, CENTRE_NAME = 10, "Cicero (IL)"
RESTOCK_BELOW = 3 / 4  # of the opening stock: fulfillable units under it, the merchant sends more
RESTOCK = 1 / 2  # of the opening stock, each time
STOW_AFTER = datetime.timedelta(hours=2)
TRACKING_AFTER = 3  # steps before a label printed without tracking gets its number
CARRIERS = ("USPS", "UPS", "FedEx")


class Shipper(ShippingTool):
    key: ClassVar[str] = "shipbob"
    origin: ClassVar[str] = BASE_URL
    owns_stock: ClassVar[bool] = True
    ships_for: ClassVar[tuple[str, ...]] = ("bigcommerce",)
    polled: ClassVar[tuple[str, ...]] = ("shipment",)
    polled_always: ClassVar[tuple[str, ...]] = ("inventory_level",)  # no inventory webhook

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        clock = self.clock
        # one centre; a generous window: the day's own 429 bursts are injected
        self._fake = FakeShipBob(
            clock=clock,
            monotonic=clock.monotonic,
            fulfillment_centers={CENTRE: CENTRE_NAME},
            rate_limit=10_000,
            seed=False,
        )
        self._skus: list[str] = []
        self._restock_below, self._restock = 0, 0
        self._untracked: list[tuple[int, int]] = []  # (step it gets tracking, shipment id)
        self._restocking: dict[str, tuple[datetime.datetime, int]] = {}  # sku -> (stowed at, WRO id)
        self._step = 0

    @property
    def fake(self) -> FakeShipBob:
        return self._fake

    def token_refreshes(self) -> int:
        return 0  # a personal access token: nothing to refresh

    def stock_shelves(self, skus: Sequence[str], stock: int) -> None:
        self._skus = list(skus)
        self._restock_below, self._restock = int(stock * RESTOCK_BELOW), max(1, int(stock * RESTOCK))
        for sku in self._skus:
            self._fake.add_product(sku, sku.title(), stock={CENTRE: stock})

    def connect(self, *, tag: str, served_at: str | None) -> Connection:
        settings: dict[str, Any] = {"channel_id": CHANNEL_ID}
        if served_at:
            settings["base_url"] = served_at
        connection = connection_create(
            connector=self.key,
            name=f"Simulated ShipBob {tag}",
            settings=settings,
            secrets={"token": ACCESS_TOKEN, "webhook_secret": sample_secret()},
            warehouse=self.warehouse,
        )
        mapping_set(
            connection=connection,
            kind=FULFILLMENT_CENTER,
            our_value=self.warehouse.code,
            tool_value=str(CENTRE),
            tool_label=CENTRE_NAME,
        )
        health.health_check(connection=connection)  # subscribes order.shipped at the fake
        return connection

    # --- ShipBob's people ------------------------------------------------------------------------

    def work(self, hold: AbstractSet[str] = frozenset()) -> None:
        self._step += 1
        self._track_late()
        self._ship(hold)
        self._move_stock()

    def _waiting(self, hold: AbstractSet[str]) -> list[tuple[int, dict[str, int]]]:
        """Our channel's orders with a shipment ready to go, not held: (order id, {sku: units} of
        the first such shipment)."""
        fake = self._fake
        with fake._lock:
            ready = [
                (order, next((s for s in order["shipments"] if s["status"] == "Processing"), None))
                for order in list(fake.orders.values())[-40:]
                if order["channel"]["id"] == CHANNEL_ID and not self.held(order["reference_id"], hold)
            ]
            return [
                (order["id"], {p["sku"]: p["inventory_items"][0]["quantity"] for p in shipment["products"]})
                for order, shipment in ready
                if shipment is not None
            ][:10]

    def _ship(self, hold: AbstractSet[str]) -> None:
        rng, fake = self.rng, self._fake
        waiting = self._waiting(hold)
        if not waiting or rng.random() < 0.4:
            return
        for order_id, units in rng.sample(waiting, k=min(2, len(waiting))):
            carrier = rng.choice(CARRIERS)
            roll = rng.random()
            if roll < 0.1 and sum(units.values()) > 1:
                first = next(iter(units))
                fake.ship(order_id, carrier=carrier, partial={first: 1})
                self.actions["shipped_partly_there"] += 1
            elif roll < 0.2:
                shipment = fake.ship(order_id, carrier=carrier, tracking=False)
                self._untracked.append((self._step + TRACKING_AFTER, shipment["id"]))
                self.actions["shipped_without_tracking_there"] += 1
            elif roll < 0.3:
                fake.omit_tracking_next()
                fake.ship(order_id, carrier=carrier)
                self.actions["shipped_tracking_omitted_there"] += 1
            else:
                fake.ship(order_id, carrier=carrier)
                self.actions["shipped_there"] += 1

    def _track_late(self, *, all_of_them: bool = False) -> None:
        due = [s for at, s in self._untracked if all_of_them or at <= self._step]
        self._untracked = [(at, s) for at, s in self._untracked if s not in due]
        for shipment_id in due:
            self._fake.add_tracking(shipment_id, carrier=self.rng.choice(CARRIERS))

    def _move_stock(self) -> None:
        rng, fake = self.rng, self._fake
        now = self.clock()
        for sku, (stowed_at, wro_id) in list(self._restocking.items()):
            if stowed_at <= now:
                fake.receive(wro_id)
                del self._restocking[sku]
                self.actions["restocked_there"] += 1
        sku = rng.choice(self._skus)
        free = fake.fulfillable(sku, CENTRE)
        if rng.random() < 0.04 and free > 5:
            fake.damage(sku, CENTRE, 1)
            self.actions["damaged_there"] += 1
        elif rng.random() < 0.04 and free > 5:
            found = fake.on_hand(sku, CENTRE) + rng.choice((-1, 1))
            fake.count(sku, CENTRE, found)
            self.actions["counted_there"] += 1
        for sku in self._skus:
            if sku not in self._restocking and fake.fulfillable(sku, CENTRE) < self._restock_below:
                self._restocking[sku] = (now + STOW_AFTER, self._announce(sku, now))

    def _announce(self, sku: str, now: datetime.datetime) -> int:
        """The merchant announces a delivery to ShipBob in its dashboard (a WRO of its own)."""
        wro = self._fake.create_receiving(
            {
                "fulfillment_center": {"id": CENTRE},
                "package_type": "Package",
                "box_packaging_type": "EverythingInOneBox",
                "expected_arrival_date": (now + STOW_AFTER).isoformat(),
                "boxes": [
                    {
                        "tracking_number": f"1ZSIMWRO{self._step:06d}",
                        "box_items": [{"sku": sku, "quantity": self._restock}],
                    }
                ],
            }
        )
        return int(wro["id"])

    def evening(self) -> None:
        """The labels printed without tracking get it: the hub's retries of them can end."""
        self._track_late(all_of_them=True)

    # --- the end of the day ---------------------------------------------------------------------

    def differences(self) -> list[dict[str, Any]]:
        from inventory import availability
        from inventory.models import Product
        from sales.models import OrderStatus, SalesOrder

        snapshot = self._fake.snapshot()
        here = self.shipments_here()
        found: list[dict[str, Any]] = []

        def drift(data: str, key: str, kind: str, hub: Any, tool: Any) -> None:
            found.append(self.drift_item(data, key, kind, hub, tool))

        orders = {k: o for k, o in snapshot["orders"].items() if o["channel_id"] == CHANNEL_ID}
        for order in orders.values():
            for shipment in order["shipments"]:
                if shipment["status"] != "Completed":
                    continue
                recorded = here.get(str(shipment["id"]))
                if recorded is None:
                    drift("shipment", str(shipment["id"]), "missing_here", None, shipment["tracking_number"])
                elif recorded[1] != shipment["tracking_number"]:
                    drift(
                        "shipment", str(shipment["id"]), "tracking", recorded[1], shipment["tracking_number"]
                    )
        # our keys are our order numbers (a second generation "SO-1/2")
        ours = dict(
            SalesOrder.objects.filter(number__in={k.split("/")[0] for k in orders}).values_list(
                "number", "status"
            )
        )
        open_here = {OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD}
        statuses: Counter[str] = Counter()
        for key, order in orders.items():
            statuses[order["status"]] += 1
            status = ours.get(key.split("/")[0])
            if order["status"] in ("Processing", "Exception", "OnHold") and status not in open_here:
                drift("order", key, "open_there_not_here", status, order["status"])
            if order["status"] == "Fulfilled" and status not in (OrderStatus.SHIPPED, OrderStatus.CLOSED):
                drift("order", key, "shipped_there_not_here", status, order["status"])
        for pk in self.untold([pk for pk, _ in here.values()]):
            drift("shipment", str(pk), "channel_not_told", "shipped here", None)
        # the stock: ShipBob's is the truth, the hub's warehouse of it must say the same
        products = dict(Product.objects.filter(sku__in=self._skus).values_list("pk", "sku"))
        levels = availability.by_warehouse(list(products), self.warehouse.pk)
        for pk, sku in products.items():
            there = snapshot["stock"].get(sku, {}).get(str(CENTRE), {})
            level = levels.get((pk, self.warehouse.pk))
            ours_now = (int(level.on_hand), int(level.available)) if level is not None else (0, 0)
            theirs = (int(there.get("on_hand", 0)), int(there.get("fulfillable", 0)))
            if ours_now != theirs:
                drift("stock", sku, "on_hand_available", ours_now, theirs)
        self.actions.update({f"orders_{k}_there": v for k, v in statuses.items()})
        return found
