"""A simulated business day through the hub: a fake Shopify, faults, the beat jobs, a drift report.

``simulate_day(orders=N, seed=S)`` (``manage.py simulate_day``) runs on a simulated clock:

* setup: a warehouse, a web channel and the fake shop's four products here (same SKUs, stock
  enough for the day, the shop's levels set to ours), a Shopify connection to a fresh
  ``FakeShopify`` mounted in process, subscribed to its webhooks by the health check;
* the day: N shoppers order in the shop, a few orders are edited, cancelled or refunded there,
  the warehouse ships confirmed orders here (``shipment_create``, pushed out as fulfilments);
  the shop's webhooks are delivered to the hook endpoint as it queues them, and every few
  minutes the beat jobs run (due deliveries, inbound retries, the safety-net order poll);
* faults (``Faults``): duplicated and dropped webhooks, reordered batches, 429 and 5xx bursts
  on the shop's API;
* the end: the clock runs on until the retries are done, a final poll, then ``reconcile`` of
  orders and inventory. The ``Report`` counts the drifts by kind, events, deliveries, retries,
  dead letters and quarantined items; ``ok`` is false on any drift, on an inbound event that
  failed, or on a dead letter (the day injects no permanent error that would explain one).

Tasks run in process (embedded mode: no broker, eager tasks), so ``transaction.on_commit``
work runs as each request or job commits; the clock is ``django.utils.timezone.now`` patched,
and the hub's rate-limit waits move it instead of sleeping.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from unittest import mock

import httpx
from django.db.models import Count

from integrations import health, inbound, outbound, polling, ratelimits, reconcile
from integrations.connections import connection_create
from integrations.http import mounted
from integrations.models import (
    Connection,
    Delivery,
    DeliveryStatus,
    Drift,
    InboundEvent,
    InboundStatus,
    SyncRun,
)
from integrations.shopify import fake_data
from integrations.shopify.fake import ACCESS_TOKEN, CLIENT_SECRET, LOCATION_ID, SHOP_DOMAIN, FakeShopify

SHOP_URL = f"https://{SHOP_DOMAIN}"
BEAT = datetime.timedelta(minutes=5)  # how often the due deliveries and inbound retries run
POLL_EVERY = datetime.timedelta(minutes=30)  # the safety-net poll of orders


@dataclass(frozen=True)
class Faults:
    duplicate: float = 0.0  # share of webhook deliveries sent twice
    drop: float = 0.0  # share of webhook deliveries lost
    reorder: float = 0.0  # share of delivery rounds sent newest first
    throttle: float = 0.0  # chance per step of a burst of 429s on the shop's API
    error: float = 0.0  # chance per step of a burst of 5xx

    @classmethod
    def named(cls, name: str) -> Faults:
        if name == "none":
            return cls()
        if name == "default":
            return cls(duplicate=0.05, drop=0.02, reorder=0.2, throttle=0.03, error=0.03)
        raise ValueError(f"Unknown fault profile {name!r} (default, none).")


@dataclass
class Report:
    orders: int
    seed: int
    faults: dict[str, float]
    simulated_minutes: int = 0
    seconds: float = 0.0
    actions: dict[str, int] = field(default_factory=dict)
    webhooks: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    drifts: dict[str, int] = field(default_factory=dict)
    drift_items: list[dict[str, str]] = field(default_factory=list)
    stock: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def drift_count(self) -> int:
        return sum(self.drifts.values())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok, "drift_count": self.drift_count}, indent=2)


class SimClock:
    """The simulated now; ``sleep`` (the hub's rate-limit waits) moves it."""

    def __init__(self, start: datetime.datetime | None = None) -> None:
        self.now = (start or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
        self._start = self.now

    def __call__(self) -> datetime.datetime:
        return self.now

    def tick(self, delta: datetime.timedelta) -> None:
        self.now += delta

    def sleep(self, seconds: float) -> None:
        self.tick(datetime.timedelta(seconds=max(seconds, 0.0)))

    def monotonic(self) -> float:
        return (self.now - self._start).total_seconds()


# --- the store -----------------------------------------------------------------------------------


def _setup(fake: FakeShopify, orders: int, tag: str) -> Connection:
    from inventory.models import Product
    from inventory.services import product_create, stock_receive, warehouse_create, warehouse_default_location
    from sales.models import ChannelKind
    from sales.services import channel_create

    wh = warehouse_create(code=f"SIM{tag}", name=f"Simulation {tag}")
    location = warehouse_default_location(wh)
    channel = channel_create(
        code=f"sim-{tag}", name=f"Simulated Shopify {tag}", warehouse=wh, kind=ChannelKind.WEB_STORE
    )
    stock = 3 * orders + 20
    for _, variant in fake.variants():
        sku = variant["sku"]
        product = Product.objects.filter(sku=sku).first() or product_create(
            sku=sku, name=sku.title(), sale_price=Decimal(variant["price"]), currency="USD"
        )
        stock_receive(product=product, location=location, quantity=stock, unit_cost=Decimal("10.00"))
        fake.set_available(sku, stock)
    return connection_create(
        connector="shopify",
        name=f"Simulated shop {tag}",
        settings={
            "shop_domain": SHOP_DOMAIN,
            "api_version": fake_data.API_VERSION,
            "location_id": LOCATION_ID,
        },
        secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
        warehouse=wh,
        sales_channel=channel,
    )


# --- the day -------------------------------------------------------------------------------------


class Day:
    def __init__(self, *, orders: int, seed: int, faults: Faults, safety_poll: bool = True) -> None:
        self.n = orders
        self.seed = seed
        self.faults = faults
        self.safety_poll = safety_poll
        self.rng = random.Random(seed)
        self.clock = SimClock()
        self.fake = FakeShopify(clock=self.clock, monotonic=self.clock.monotonic)
        self.actions: Counter[str] = Counter()
        self.placed: list[int] = []  # the shop's order ids
        self.connection: Connection | None = None
        self._last_beat = self.clock.now
        self._last_poll = self.clock.now

    # the hub's endpoint, as the shop's sender calls it
    def _send(self, url: str, headers: dict[str, str], body: bytes) -> int:
        from integrations.demo import _post_to_hook

        assert self.connection is not None
        status, _ = _post_to_hook(self.connection, headers, body, "localhost")
        return status

    def _faults_for_next_change(self) -> None:
        # a change queues about three deliveries (orders/create or a change, orders/updated, ...)
        self.fake.duplicate_next(sum(self.rng.random() < self.faults.duplicate for _ in range(3)))
        dropped = sum(self.rng.random() < self.faults.drop for _ in range(3))
        self.fake.drop_next(dropped)
        if self.rng.random() < self.faults.throttle:
            self.fake.throttle_next(self.rng.randint(1, 4), retry_after=2.0)
            self.actions["fault_429_burst"] += 1
        if self.rng.random() < self.faults.error:
            self.fake.fail_next(self.rng.randint(1, 3), status=self.rng.choice((500, 502, 503)))
            self.actions["fault_5xx_burst"] += 1

    def _deliver(self) -> None:
        reorder = self.rng.random() < self.faults.reorder
        self.fake.deliver_webhooks(self._send, reorder=reorder)

    def _beat(self, *, force: bool = False) -> None:
        assert self.connection is not None
        if force or self.clock.now - self._last_beat >= BEAT:
            self._last_beat = self.clock.now
            outbound.deliveries_enqueue_due()
            inbound.inbound_retry_due()
        if self.safety_poll and (force or self.clock.now - self._last_poll >= POLL_EVERY):
            self._last_poll = self.clock.now
            polling.poll(connection=self.connection, object_type="order")

    # the merchant and the warehouse
    def _order(self) -> None:
        skus = [v["sku"] for _, v in self.fake.variants()]
        picked = self.rng.sample(skus, k=self.rng.choice((1, 1, 2, 3)))
        placed = self.fake.create_order([(sku, self.rng.choice((1, 1, 2))) for sku in picked])
        self.placed.append(placed["id"])
        self.actions["ordered"] += 1

    def _change_in_tool(self) -> None:
        if not self.placed:
            return
        order_id = self.rng.choice(self.placed)
        order = self.fake.order(order_id)
        if order.get("cancelled_at"):
            return
        shipped = self.fake._shipped(order)
        roll = self.rng.random()
        if roll < 0.4 and not shipped:
            line = self.rng.choice(order["line_items"])
            if line.get("fulfillable_quantity", line["quantity"]) >= 1:
                self.fake.edit_order(order_id, {line["id"]: 1}, staff_note="customer asked")
                self.actions["edited"] += 1
        elif roll < 0.7 and not shipped:
            self.fake.cancel_order(order_id, reason="customer")
            self.actions["cancelled"] += 1
        elif shipped:
            line_id, quantity = next(iter(shipped.items()))
            refunded = sum(
                item["quantity"]
                for r in self.fake.refunds(order_id)
                for item in r["refund_line_items"]
                if item["line_item_id"] == line_id
            )
            if quantity - refunded >= 1:
                self.fake.refund_order(order_id, {line_id: 1}, restock_type="return", note="returned")
                self.actions["refunded"] += 1

    def _ship_here(self) -> None:
        from sales.models import OrderStatus, SalesOrder
        from sales.services import shipment_create

        assert self.connection is not None
        ready = list(
            SalesOrder.objects.filter(
                channel=self.connection.sales_channel, status=OrderStatus.CONFIRMED
            ).order_by("?")[:2]
        )
        for order in ready:
            if self.rng.random() < 0.5:
                continue
            try:
                shipment_create(
                    order=order,
                    carrier="UPS",
                    tracking_number=f"1ZSIM{self.seed:04d}{order.pk:08d}",
                )
                self.actions["shipped_here"] += 1
            except Exception as exc:  # not enough reserved stock and the like: the report says so
                self.actions["ship_refused"] += 1
                self.actions[f"ship_refused:{type(exc).__name__}"] += 1

    def run(self) -> Report:
        started = time.perf_counter()
        report = Report(orders=self.n, seed=self.seed, faults=asdict(self.faults))
        with self._patched():
            self.connection = _setup(self.fake, self.n, f"{self.seed}{self.rng.randrange(10**6)}")
            health.health_check(connection=self.connection)
            for _ in range(self.n):
                self.clock.tick(datetime.timedelta(seconds=self.rng.randint(20, 180)))
                self._faults_for_next_change()
                self._order()
                if self.rng.random() < 0.15:
                    self._faults_for_next_change()
                    self._change_in_tool()
                self._deliver()
                if self.rng.random() < 0.3:
                    self._ship_here()
                self._beat()
            # the evening: no new faults, the retries run out, then the safety net and reconciling
            self.fake.clear_failures()
            for _ in range(12):
                self.clock.tick(datetime.timedelta(minutes=30))
                self._deliver()
                self._beat(force=True)
            self.clock.tick(datetime.timedelta(minutes=5))
            if self.safety_poll:
                polling.poll(connection=self.connection, object_type="order")
            runs = [
                reconcile.reconcile(connection=self.connection, object_type=kind)
                for kind in ("order", "inventory")
            ]
            self._fill(report, runs)
        report.actions = dict(sorted(self.actions.items()))
        report.seconds = round(time.perf_counter() - started, 2)
        return report

    @contextlib.contextmanager
    def _patched(self) -> Iterator[None]:
        with (
            mounted(SHOP_URL, httpx.MockTransport(self.fake.handle)),
            mock.patch("django.utils.timezone.now", self.clock),
            mock.patch.object(ratelimits, "sleep", self.clock.sleep),
        ):
            yield

    def _fill(self, report: Report, runs: list[SyncRun]) -> None:
        connection = self.connection
        assert connection is not None
        report.simulated_minutes = int(self.clock.monotonic() // 60)
        outbox = self.fake.outbox
        report.webhooks = dict(Counter(d.state for d in outbox)) | {
            "duplicates_sent": sum(d.duplicate for d in outbox),
            "retried": sum(len(d.attempts) > 1 for d in outbox),
        }
        events = InboundEvent.objects.filter(connection=connection)
        report.events = {
            row["status"]: row["n"]
            for row in events.values("status").annotate(n=Count("pk")).order_by("status")
        } | {"total": events.count()}
        deliveries = Delivery.objects.filter(connection=connection)
        report.deliveries = {
            row["status"]: row["n"]
            for row in deliveries.values("status").annotate(n=Count("pk")).order_by("status")
        } | {"total": deliveries.count()}
        report.retries = {
            "inbound_events_retried": events.filter(attempts__gt=1).count(),
            "deliveries_retried": deliveries.filter(attempts__gt=1).count(),
        }
        report.dead_letters = {
            "inbound": events.filter(status=InboundStatus.DEAD).count(),
            "deliveries": deliveries.filter(status=DeliveryStatus.DEAD).count(),
        }
        report.quarantined = events.filter(status=InboundStatus.QUARANTINED).count()
        drifts = Drift.objects.filter(sync_run__in=runs).order_by("object_type", "kind", "external_id")
        report.drifts = dict(Counter(d.kind for d in drifts))
        report.drift_items = [
            {
                "object_type": d.object_type,
                "external_id": d.external_id,
                "kind": d.kind,
                "status": d.status,
                "hub": d.hub_value,
                "tool": d.tool_value,
            }
            for d in drifts
        ]
        report.stock = self._stock(connection)
        for run in runs:
            for error in run.errors:
                if error.get("level") == "error":
                    report.problems.append(f"reconcile {run.object_type}: {error.get('message')}")
        if report.drift_count:
            report.problems.append(f"{report.drift_count} drift(s): {report.drifts}")
        failed = events.filter(status=InboundStatus.FAILED).count()
        if failed:
            report.problems.append(f"{failed} inbound event(s) still failing")
        dead = sum(report.dead_letters.values())
        if dead:  # the day injects no permanent error, so no dead letter is explained
            report.problems.append(f"{dead} dead letter(s) no injected permanent error explains")

    def _stock(self, connection: Connection) -> dict[str, dict[str, int]]:
        from inventory.models import StockLevel

        stock = {}
        for _, variant in self.fake.variants():
            sku = variant["sku"]
            levels = StockLevel.objects.filter(product__sku=sku, location__warehouse=connection.warehouse)
            stock[sku] = {
                "on_hand_here": int(sum((lv.on_hand for lv in levels), Decimal(0))),
                "available_there": int(self.fake.available(sku) or 0),
            }
        return stock


def simulate_day(
    *, orders: int, seed: int = 1, faults: Faults | None = None, safety_poll: bool = True
) -> Report:
    return Day(
        orders=orders, seed=seed, faults=faults or Faults.named("default"), safety_poll=safety_poll
    ).run()
