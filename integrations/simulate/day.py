"""A simulated business day through the hub: every connected tool's fake, their faults, the beat
jobs on their schedule, and at the end a drift report per tool and data type.

``Day(orders=N, seed=S, faults=..., tools=("shopify",)).run()`` (``manage.py simulate_day``):

* morning: a warehouse with stock, a supplier, and each tool's connection (``tools.ChannelTool``:
  its fake, its channel, the products both sides sell), subscribed to the fake's webhooks by the
  health check;
* the day: N customers order on the channels; some orders are edited, cancelled or refunded in
  the tool; the warehouse ships confirmed orders here (pushed out as fulfilments); purchasing
  receives stock when a SKU runs low (pushed out as levels); each fake sends its webhooks as it
  queues them; the beat jobs run on their schedule (due deliveries every 15 s, inbound retries and
  the outbox sweep every minute, the safety-net poll every 5 minutes);
* faults (``Faults``): duplicated, dropped and reordered webhooks, 429 and 5xx bursts, timeouts
  and slow answers, every token expiring at once, a stock push refused for good, and with real
  workers a worker killed mid-task;
* the books (``books.BooksTool``, with ``--tools quickbooks``): the back office here invoices what
  shipped, sells to a wholesale customer on Net 30, records and pays the supplier's bills and voids
  one invoice; the accountant records payments and edits invoices in the tool;
* every change is watched until the hub and the tool agree on what it touched
  (``consistency``): p50 and p95 of that time;
* evening: no new faults, the clock runs on until the retries are done and the queues are empty,
  a last poll; then the day's own check (``oracle``: each tool's snapshot against our database)
  and the hub's reconciliation of orders and stock.

The ``Report`` fails (``ok`` false) on any drift, on an inbound event that failed, on a change the
two sides never agreed on, or on a dead letter no injected permanent error explains.

Two modes share all of this (``runner``): embedded (tasks in process, the clock simulated) and
real workers (PostgreSQL, a broker, Celery workers, the fakes served on ports, the wall clock).
"""

from __future__ import annotations

import datetime
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count

from integrations import health, hooks, inbound, outbound, polling, reconcile, registry
from integrations.fakes.clock import Clock, SimClock
from integrations.models import (
    Delivery,
    DeliveryStatus,
    Drift,
    ExternalRef,
    InboundEvent,
    InboundStatus,
    SyncRun,
)
from integrations.simulate import books, shippers
from integrations.simulate.books import BackOffice, BooksTool
from integrations.simulate.consistency import Change, Watcher
from integrations.simulate.faults import Faults
from integrations.simulate.oracle import ORDER, order_differences, oversold, stock_differences
from integrations.simulate.report import Report, dead_letter
from integrations.simulate.shippers import ShippingTool
from integrations.simulate.tools import ChannelTool, Participant, available

# The beat's schedule (erp/celery.py), on the day's clock.
DELIVERIES_EVERY = datetime.timedelta(seconds=15)
RETRY_EVERY = datetime.timedelta(minutes=1)


class Day:
    """One day; ``runner`` gives it its clock and its environment (embedded or real workers)."""

    def __init__(
        self,
        *,
        orders: int,
        seed: int,
        faults: Faults,
        tools: Sequence[str] = ("shopify",),
        safety_poll: bool = True,
        clock: Clock | None = None,
    ) -> None:
        known, shipping, keeping = available(), shippers.available(), books.available()
        unknown = [t for t in tools if t not in known and t not in shipping and t not in keeping]
        if unknown or not [t for t in tools if t in known]:
            everything = ", ".join(sorted([*known, *shipping, *keeping]))
            raise ValueError(
                f"Unknown tool(s) {', '.join(unknown) or '(none)'}, or no sales channel; known: {everything}."
            )
        self.n = orders
        self.seed = seed
        self.faults = faults
        self.safety_poll = safety_poll
        self.rng = random.Random(seed)
        self.clock: Clock = clock or SimClock()
        self.tools: dict[str, ChannelTool] = {
            key: known[key](clock=self.clock, rng=random.Random(f"{seed}:{key}"), faults=faults)
            for key in tools
            if key in known
        }
        # the shipping tools and 3PLs, each shipping one channel's orders
        self.shippers: dict[str, ShippingTool] = {
            key: shipping[key](clock=self.clock, rng=random.Random(f"{seed}:{key}"), faults=faults)
            for key in tools
            if key in shipping
        }
        # the accounting tools, and the back office whose invoices, payments and bills go to them
        self.books: dict[str, BooksTool] = {
            key: keeping[key](clock=self.clock, rng=random.Random(f"{seed}:{key}"), faults=faults)
            for key in tools
            if key in keeping
        }
        self.office = BackOffice(books=self.books, clock=self.clock, rng=random.Random(f"{seed}:office"))
        self.actions: Counter[str] = Counter()
        self.watcher = Watcher(now=self.clock)
        self.report = Report(orders=orders, seed=seed, faults=asdict(faults), tools=list(tools))
        self._due: dict[str, datetime.datetime] = {}
        self._pending_receipts: list[tuple[datetime.datetime, Any]] = []
        self._supplier: Any = None
        self._buyer: Any = None  # the purchasing manager who approves the day's larger orders
        self._warehouse: Any = None
        self._reorder_point = max(15, orders // 6)  # purchasing reorders a SKU below this
        self.served_at: dict[str, str] = {}  # tool -> where its fake is served (real workers)

    # --- hooks the runner overrides -----------------------------------------------------------

    # Half hours the evening waits at most for the hub and the tools to settle: a simulated day
    # more, by when every retry of theirs has run out.
    evening_rounds = 48

    def wait(self, seconds: float) -> None:
        """Time passes (the embedded clock moves; with real workers, this really waits)."""
        self.clock.sleep(seconds)

    def after_step(self, index: int) -> None:
        """Called after every customer (the real-worker runner kills its worker here, once)."""

    def participants(self) -> list[Participant]:
        """Every tool of the day: the sales channels, the shipping tools, then the books."""
        return [*self.tools.values(), *self.shippers.values(), *self.books.values()]

    def settled(self) -> bool:
        """Nothing is in flight in the hub: no event waiting, no delivery queued or retrying."""
        connections = [t.connection for t in self.participants()]
        queued = Delivery.objects.filter(
            connection__in=connections, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
        ).exists()
        waiting = InboundEvent.objects.filter(
            connection__in=connections, status__in=[InboundStatus.RECEIVED, InboundStatus.FAILED]
        ).exists()
        fakes_quiet = all(not t.webhooks_pending() for t in self.participants())
        return not queued and not waiting and fakes_quiet

    # --- the day -------------------------------------------------------------------------------

    def run(self) -> Report:
        started = time.perf_counter()
        self._morning()
        expire_at = {self.rng.randrange(self.n) for _ in range(self.faults.expired_tokens)}
        refuse_at = {self.rng.randrange(self.n) for _ in range(self.faults.permanent)}
        channels = list(self.tools.values())
        for index in range(self.n):
            self.wait(self.rng.randint(20, 180))
            tool = self.rng.choice(channels)
            tool.inject()
            if index in expire_at:  # every tool's tokens at once, as after an outage
                for each in channels:
                    each.expire_tokens()
                for keeper in self.books.values():
                    keeper.expire_tokens()
            if index in refuse_at:
                tool.refuse_for_good()
            self.watcher.watch(tool.place_order())
            if self.rng.random() < 0.15:
                tool.inject()
                change = tool.change_in_tool()
                if change is not None:
                    self.watcher.watch(change)
            self._deliver()
            if self.rng.random() < 0.3:
                self._ship_here()
            hold = shippers.changing(self.watcher, self.tools, self.shippers) if self.shippers else set()
            for shipper in self.shippers.values():
                shipper.inject()
                shipper.work(hold)
            self._purchase()
            if self.books:
                self.office.step()
            self._beat()
            self.after_step(index)
            self.watcher.check(self.tools)
        self._evening()
        self._end(started)
        return self.report

    def _morning(self) -> None:
        from inventory.services import stock_receive, warehouse_create, warehouse_default_location
        from procurement.services import supplier_create

        tag = f"{self.seed}{self.rng.randrange(10**6)}"
        self._warehouse = warehouse_create(code=f"SIM{tag}"[:20], name=f"Simulation {tag}")
        location = warehouse_default_location(self._warehouse)
        self._supplier = supplier_create(name=f"Simulated supplier {tag}", code=f"SUP{tag}"[:20])
        self._buyer = _purchasing_manager(tag)
        stock = max(40, self.n // 2)
        # who ships each channel's orders: a 3PL keeps the stock in a warehouse of its own, which
        # the channel it ships for sells from; every other channel sells from the day's warehouse
        ships = self._assign_shippers()
        sells_from = {
            channel: shipper.own_warehouse(tag) for channel, shipper in ships.items() if shipper.owns_stock
        }
        for tool in self.tools.values():
            tool.setup(
                warehouse=sells_from.get(tool.key, self._warehouse),
                tag=tag,
                stock=stock,
                served_at=self.served_at.get(tool.key),
            )
        from inventory.models import Product

        for product in Product.objects.filter(sku__in={s for t in self.tools.values() for s in t.skus()}):
            stock_receive(product=product, location=location, quantity=stock, unit_cost=Decimal("10.00"))
        for tool in self.tools.values():
            assert tool.connection is not None
            health.health_check(connection=tool.connection)
        for key, shipper in ships.items():
            tool = self.tools[key]
            assert tool.connection is not None
            shipper.setup(
                warehouse=sells_from.get(key, self._warehouse),
                channel=tool.connection.sales_channel,
                tag=tag,
                served_at=self.served_at.get(shipper.key),
                skus=tool.skus(),
                stock=stock,
            )
            if shipper.owns_stock:  # its counts are the on-hand of its warehouse before the first sale
                assert shipper.connection is not None
                for kind in shipper.polled_always:
                    polling.poll(connection=shipper.connection, object_type=kind)
        if self.books:
            self.office.open(
                tag=tag,
                warehouse=self._warehouse,
                supplier=self._supplier,
                channels=self._channel_ids(),
                skus=sorted({s for key, t in self.tools.items() if key not in sells_from for s in t.skus()}),
            )
        for keeper in self.books.values():
            keeper.setup(tag=tag, served_at=self.served_at.get(keeper.key))
        now = self.clock()
        self._due = {"deliveries": now, "retry": now}

    def _assign_shippers(self) -> dict[str, ShippingTool]:
        """Channel tool key -> the shipping tool that ships its orders: each takes the channel it
        prefers (``ships_for``: ShipStation Shopify's, ShipBob BigCommerce's) if there, else the
        first left; the channels no tool takes are shipped here."""
        left = list(self.tools)
        ships: dict[str, ShippingTool] = {}
        for shipper in sorted(self.shippers.values(), key=lambda s: not any(c in left for c in s.ships_for)):
            channel = next((c for c in shipper.ships_for if c in left), left[0] if left else None)
            if channel is None:
                raise ValueError(f"{shipper.key} has no channel left to ship for: add a sales channel.")
            left.remove(channel)
            ships[channel] = shipper
        return ships

    def _deliver(self) -> None:
        for tool in self.participants():
            connection = tool.connection
            assert connection is not None

            def send(url: str, headers: dict[str, str], body: bytes, _c: Any = connection) -> int:
                query = urlsplit(url).query  # ShipStation's address carries the connection's token
                return hooks.post_in_process(_c, headers, body, "localhost", query=query)[0]

            tool.deliver(send, reorder=self.rng.random() < self.faults.reorder)

    def _beat(self, *, force: bool = False) -> None:
        from erp import events

        now = self.clock()
        if force or now >= self._due["deliveries"]:
            self._due["deliveries"] = now + DELIVERIES_EVERY
            outbound.deliveries_enqueue_due()
        if force or now >= self._due["retry"]:
            self._due["retry"] = now + RETRY_EVERY
            inbound.inbound_retry_due()
            events.sweep()
        for tool in self._polled():  # each on its own cadence
            due = f"poll:{tool.key}"
            if force or now >= self._due.get(due, now):
                self._due[due] = now + tool.poll_every
                assert tool.connection is not None
                polling.poll(connection=tool.connection, object_type=ORDER)
        for shipper in self._others():
            due = f"poll:{shipper.key}"
            if force or now >= self._due.get(due, now):
                self._due[due] = now + shipper.poll_every
                self._poll_shipper(shipper)

    def _poll_shipper(self, shipper: ShippingTool | BooksTool) -> None:
        """What the day polls of a shipping tool (its shipments, a 3PL's counts) or of the books."""
        assert shipper.connection is not None
        for kind in shipper.polls(safety_poll=self.safety_poll):
            polling.poll(connection=shipper.connection, object_type=kind)

    def _polled(self) -> list[ChannelTool]:
        """The tools whose orders a poll reads: every one with the safety net, else only those that
        send no webhooks (Amazon: polling is how its orders come at all)."""
        return [t for t in self.tools.values() if self.safety_poll or not t.sends_webhooks]

    # --- the warehouse and purchasing ---------------------------------------------------------

    def _ship_here(self) -> None:
        from sales.models import FulfilledBy, OrderStatus, SalesOrder
        from sales.services import shipment_create

        channels = [t.connection.sales_channel_id for t in self.tools.values() if t.connection is not None]
        theirs = [s.channel.pk for s in self.shippers.values() if s.channel is not None]
        confirmed = list(
            SalesOrder.objects.filter(
                channel_id__in=[c for c in channels if c not in theirs],  # a tool ships the others
                status=OrderStatus.CONFIRMED,
                lines__fulfilled_by=FulfilledBy.MERCHANT,  # a marketplace's own (FBA) orders are not ours
            )
            .distinct()
            .order_by("pk")[:50]
        )
        ready = self.rng.sample(confirmed, k=min(2, len(confirmed)))  # the seed decides, not the database
        refs = dict(
            ExternalRef.objects.filter(
                connection__in=[t.connection for t in self.tools.values()],
                object_type=ORDER,
                object_id__in=[o.pk for o in ready],
            )
            .exclude(object_id=0)
            .values_list("object_id", "external_id")
        )
        by_channel = {
            t.connection.sales_channel_id: t for t in self.tools.values() if t.connection is not None
        }
        # The warehouse ships what the hub shows settled: an order with a change in the tool not yet
        # agreed on (a cancel on its way here) waits, as a picker would for an order being changed.
        unsettled = {(c.tool, o) for c in self.watcher.pending for o in c.orders}
        for order in ready:
            tool = by_channel[order.channel_id]
            if self.rng.random() < 0.5 or (tool.key, refs.get(order.pk)) in unsettled:
                continue
            try:
                shipment_create(
                    order=order, carrier="UPS", tracking_number=f"1ZSIM{self.seed:04d}{order.pk:08d}"
                )
            except Exception as exc:  # not enough reserved stock and the like: the report says so
                self.actions[f"ship_refused:{type(exc).__name__}"] += 1
                continue
            self.actions["shipped_here"] += 1
            skus = tuple(order.lines.values_list("product__sku", flat=True))
            if order.pk in refs:
                self.watcher.watch(Change(tool.key, "shipped_here", self.clock(), (refs[order.pk],), skus))

    def _purchase(self) -> None:
        """Purchasing orders a SKU that runs low and receives it two hours later."""
        from inventory import availability
        from inventory.models import Product
        from procurement.services import (
            POLineSpec,
            ReceiveLine,
            needs_approval,
            po_approve,
            po_create,
            po_send,
            receipt_create,
        )

        now = self.clock()
        while self._pending_receipts and self._pending_receipts[0][0] <= now:
            _, po = self._pending_receipts.pop(0)
            receipt_create(po=po, lines=[ReceiveLine(line=ln, quantity=ln.quantity) for ln in po.lines.all()])
            self.actions["received_here"] += 1
            received = tuple(po.lines.values_list("product__sku", flat=True))
            for tool in self.tools.values():
                moved = tuple(s for s in received if s in tool.skus())
                if moved:
                    self.watcher.watch(Change(tool.key, "received_here", now, (), moved))
        if self._pending_receipts:
            return
        skus = {s for t in self.tools.values() for s in t.skus()}
        products = list(Product.objects.filter(sku__in=skus))
        levels = availability.by_warehouse([p.pk for p in products], self._warehouse.pk)
        low = [
            p
            for p in products
            if levels.get((p.pk, self._warehouse.pk)) is None
            or levels[(p.pk, self._warehouse.pk)].available < self._reorder_point
        ]
        if not low:
            return
        po = po_create(
            supplier=self._supplier,
            warehouse=self._warehouse,
            lines=[
                POLineSpec(product=p, quantity=self._reorder_point * 3, unit_cost=Decimal("10.00"))
                for p in low
            ],
        )
        if po.approved_at is None and needs_approval(po):
            po = po_approve(po=po, user=self._buyer)
        po_send(po=po, user=self._buyer)
        self.actions["purchase_orders"] += 1
        self._pending_receipts.append((now + datetime.timedelta(hours=2), po))

    # --- the evening and the report ----------------------------------------------------------

    def _evening(self) -> None:
        for tool in self.participants():
            tool.clear_faults()
        for shipper in self.shippers.values():
            shipper.evening()
        for _ in range(self.evening_rounds):
            self.wait(1800)
            if self.books:  # what shipped or came in since is invoiced or billed
                self.office.catch_up()
            self._deliver()
            self._purchase()
            self._beat(force=True)
            self.watcher.check(self.tools)
            # with the books, the day closes once the supplier delivered (its bill is the books')
            if self.settled() and not self.watcher.pending and not (self.books and self._pending_receipts):
                break
        self.wait(300)
        others = self._others()
        if self._polled() or any(s.polls(safety_poll=self.safety_poll) for s in others):
            for tool in self._polled():
                assert tool.connection is not None
                polling.poll(connection=tool.connection, object_type=ORDER)
            for other in others:
                self._poll_shipper(other)
            self._deliver()
            self._beat(force=True)  # what the last polls brought goes out to the channels
        self.watcher.check(self.tools)

    def _end(self, started: float) -> None:
        report = self.report
        for tool in self.tools.values():
            self._check(tool)
        for shipper in self._others():
            found = shipper.differences()
            self.report.drift_items += found
            self.report.drifts.update(Counter(f"{d['tool']} {d['data']} {d['kind']}" for d in found))
        report.books = {keeper.key: keeper.summary for keeper in self.books.values()}
        runs = [
            reconcile.reconcile(connection=tool.connection, object_type=kind)
            for tool in self.tools.values()
            for kind in (ORDER, "inventory")
            if tool.connection is not None
        ]
        runs += [  # what the hub pushed to the books, each record there with our values
            reconcile.reconcile(connection=keeper.connection, object_type=kind)
            for keeper in self.books.values()
            if keeper.connection is not None
            for kind in registry.get(keeper.key).reconcile_object_types
        ]
        self._fill(runs)
        report.actions = dict(
            sorted(
                (
                    self.actions
                    + self.office.actions
                    + sum((t.actions for t in self.participants()), Counter())
                ).items()
            )
        )
        report.api_faults = dict(sorted(sum((t.api_faults for t in self.participants()), Counter()).items()))
        report.consistency = self.watcher.summary()
        report.token_refreshes = sum(t.token_refreshes() for t in self.participants())
        if isinstance(self.clock, SimClock):
            report.simulated_minutes = int(self.clock.monotonic() // 60)
        report.seconds = round(time.perf_counter() - started, 2)
        report.database = str(settings.DATABASES["default"]["ENGINE"]).rsplit(".", 1)[-1]
        self._judge()

    def _check(self, tool: ChannelTool) -> None:
        """The day's own drift check of one tool: its snapshot against our database."""
        assert tool.connection is not None
        snapshot = tool.snapshot()
        placed = tool.placed_orders()
        orders = {k: v for k, v in snapshot["orders"].items() if k in placed}
        found = order_differences(tool.key, tool.connection, orders)
        found |= stock_differences(tool.key, tool.connection, snapshot["stock"], tool.location)
        counts: Counter[str] = Counter()
        for differences in found.values():
            for d in differences:
                counts[f"{d.tool} {d.data} {d.kind}"] += 1
                self.report.drift_items.append(d.as_dict())
        self.report.drifts.update(counts)
        for sku in tool.skus():
            self.report.stock[sku] = {
                "available_there": int(snapshot["stock"].get(sku, {}).get(tool.location, 0)),
            }

    def _fill(self, runs: list[SyncRun]) -> None:
        report = self.report
        connections = [t.connection for t in self.participants()]
        report.webhooks = dict(sum((Counter(t.webhook_counts()) for t in self.participants()), Counter()))
        events = InboundEvent.objects.filter(connection__in=connections)
        report.events = _by_status(events) | {"total": events.count()}
        deliveries = Delivery.objects.filter(connection__in=connections)
        report.deliveries = _by_status(deliveries) | {"total": deliveries.count()}
        report.retries = {
            "inbound_events_retried": events.filter(attempts__gt=1).count(),
            "deliveries_retried": deliveries.filter(attempts__gt=1).count(),
        }
        dead = list(deliveries.filter(status=DeliveryStatus.DEAD))
        report.dead_letters = {
            "inbound": events.filter(status=InboundStatus.DEAD).count(),
            "deliveries": len(dead),
        }
        report.injected_permanent = [i for t in self.participants() for i in t.injected]
        by_connection = {t.connection.pk: t for t in self.participants() if t.connection is not None}
        unexplained = [d for d in dead if not _explained(d, by_connection.get(d.connection_id or 0))]
        report.dead_letters_explained = len(dead) - len(unexplained)
        report.unexplained_dead = [
            dead_letter(d, getattr(by_connection.get(d.connection_id or 0), "key", "")) for d in unexplained
        ]
        report.quarantined = events.filter(status=InboundStatus.QUARANTINED).count()
        report.oversold = self._oversold()
        drifts = Drift.objects.filter(sync_run__in=runs).order_by("object_type", "kind", "external_id")
        report.reconcile_drifts = dict(Counter(d.kind for d in drifts))
        report.drift_items += [
            {
                "tool": "reconciliation",
                "data": d.object_type,
                "key": d.external_id,
                "kind": d.kind,
                "hub": d.hub_value,
                "tool_value": d.tool_value,
            }
            for d in drifts
        ]
        for run in runs:
            for error in run.errors:
                if error.get("level") == "error":
                    report.problems.append(f"reconcile {run.object_type}: {error.get('message')}")

    def _oversold(self) -> dict[str, int]:
        """Per SKU, the channels' units sold twice (``oracle.oversold``)."""
        return oversold(self._channel_ids())

    def _channel_ids(self) -> list[int]:
        """Our sales channels of the day's channel tools."""
        connections = [t.connection for t in self.tools.values() if t.connection is not None]
        return [c.sales_channel_id for c in connections if c.sales_channel_id is not None]

    def _others(self) -> list[ShippingTool | BooksTool]:
        """The shipping tools and the books: polled on their own cadence, checked by their own
        ``differences()``."""
        return [*self.shippers.values(), *self.books.values()]

    def _judge(self) -> None:
        report = self.report
        if report.drift_count:
            report.problems.append(
                f"{report.drift_count} drift(s): the day's check {report.drifts or 'none'}, "
                f"reconciliation {report.reconcile_drifts or 'none'}"
            )
        failed = report.events.get(InboundStatus.FAILED, 0)
        if failed:
            report.problems.append(f"{failed} inbound event(s) still failing")
        unexplained = sum(report.dead_letters.values()) - report.dead_letters_explained
        if unexplained > 0:
            report.problems.append(f"{unexplained} dead letter(s) no injected permanent error explains")
        if report.oversold:
            report.problems.append(f"oversold (sold by the channels, not reserved here): {report.oversold}")
        never = report.consistency.get("never_agreed", 0)
        if never:
            report.problems.append(
                f"{never} change(s) the hub and the tool never agreed on: "
                f"{report.consistency['never_agreed_kinds']}"
            )


def _purchasing_manager(tag: str) -> Any:
    """The day's purchasing manager (a user with the role), who approves orders above the threshold."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=f"simday-buyer-{tag}", password=None)
    user.groups.add(Group.objects.get(name="Purchasing manager"))
    return user


def _explained(delivery: Delivery, tool: Participant | None) -> bool:
    return tool is not None and tool.explains(delivery)


def _by_status(rows: Any) -> dict[str, int]:
    return {
        row["status"]: row["n"] for row in rows.values("status").annotate(n=Count("pk")).order_by("status")
    }
