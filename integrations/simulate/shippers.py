"""A shipping tool's or 3PL's part in the simulated day: the orders routed to it, and its staff who
pick, pack and ship them.

Each connector that ships orders and takes part ships ``integrations/<tool>/day.py`` with a
``ShippingTool`` subclass named ``Shipper``; ``available()`` finds them. The day routes one
channel's orders to each (a fulfilment rule of the day's warehouse), lets the tool's staff work
at every step (``work``: some orders shipped whole, some in part, a label voided and printed
again), delivers the tool's webhooks to the hub and polls its shipments as a safety net. At the
end ``differences()`` says where the tool and the hub disagree: a label the tool printed that is
not a shipment here with its tracking, an order open there but not here (or the other way), a
shipment here the order's own channel was never told of.
"""

from __future__ import annotations

import abc
import datetime
import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, ClassVar

import integrations
from erp.models import OutboxEvent
from integrations import routing
from integrations.models import Connection, Delivery, DeliveryStatus, ExternalRef
from integrations.simulate.pace import SCALE
from integrations.simulate.tools import Participant

POLL_EVERY = datetime.timedelta(minutes=10)  # the day's safety-net poll of a tool's shipments


class ShippingTool(Participant):
    """A shipping tool or 3PL in the day."""

    # A 3PL keeps the stock it ships in its own warehouse: the day gives it a warehouse here, which
    # the channel it ships for sells from, and the tool's counts are that warehouse's on-hand.
    owns_stock: ClassVar[bool] = False
    # The channels (tool keys) whose orders it prefers to ship; else it takes the first one left.
    ships_for: ClassVar[tuple[str, ...]] = ()
    # What the day polls of it: its shipments (a safety net under its webhooks), and a 3PL's counts.
    polled: ClassVar[tuple[str, ...]] = ("shipment",)
    polled_always: ClassVar[tuple[str, ...]] = ()  # polled even without the safety net (no webhook)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.poll_every = POLL_EVERY
        self.warehouse: Any = None
        self.channel: Any = None  # the channel whose orders it ships

    def own_warehouse(self, tag: str) -> Any:
        """The warehouse here of the stock the tool keeps (``owns_stock``), created for the day."""
        from inventory.services import warehouse_create

        self.warehouse = warehouse_create(code=f"3PL{tag}"[:20], name=f"{self.key} 3PL {tag}")
        return self.warehouse

    @abc.abstractmethod
    def connect(self, *, tag: str, served_at: str | None) -> Connection:
        """The connection to the fake, subscribed to its webhooks."""

    def setup(
        self,
        *,
        warehouse: Any,
        channel: Any,
        tag: str,
        served_at: str | None,
        skus: Sequence[str] = (),
        stock: int = 0,
    ) -> Connection:
        """Connect, and route ``channel``'s orders from ``warehouse`` to the tool. A 3PL stocks
        ``stock`` of each of ``skus`` on its shelves first (``stock_shelves``)."""
        self.warehouse, self.channel = warehouse, channel
        if served_at:
            # with real workers the day runs on the wall clock, its minutes passing SCALE times
            # faster: so do the polls (else none would run between the morning and the evening)
            self.poll_every = self.poll_every / SCALE
        if self.owns_stock:
            self.stock_shelves(skus, stock)
        self.connection = self.connect(tag=tag, served_at=served_at)
        routing.route_set(warehouse=warehouse, channel=channel, connection=self.connection)
        return self.connection

    def stock_shelves(self, skus: Sequence[str], stock: int) -> None:
        """A 3PL's products and stock at the start of the day (``owns_stock`` tools override it)."""
        raise NotImplementedError(f"{self.key} keeps no stock of its own")

    def polls(self, *, safety_poll: bool) -> tuple[str, ...]:
        """The object types the day polls of the tool."""
        return (*(self.polled if safety_poll else ()), *self.polled_always)

    def evening(self) -> None:
        """The end of the tool's working day, before the evening settles: what its staff leave
        half-done is finished (a 3PL's labels still without tracking get it). Nothing by default."""

    @abc.abstractmethod
    def work(self, hold: AbstractSet[str] = frozenset()) -> None:
        """The tool's staff ship some of the orders waiting there, not those in ``hold`` (our
        order numbers with a change on its way to the tool: a picker waits for an order being
        changed, as the day's warehouse here does; racing it is a person's conflict)."""

    @staticmethod
    def held(key: str, hold: AbstractSet[str]) -> bool:
        """Whether the tool's order ``key`` (our number, "SO-1/2" for a second one) is held."""
        return key.split("/")[0] in hold

    @abc.abstractmethod
    def differences(self) -> list[dict[str, Any]]:
        """Where the tool and the hub disagree at the end of the day (drift items)."""

    # --- what both sides say, for ``differences`` -------------------------------------------------

    def drift_item(self, data: str, key: str, kind: str, hub: Any, tool: Any) -> dict[str, Any]:
        """One disagreement of the tool and the hub, as the day's report lists it."""
        return {"tool": self.key, "data": data, "key": key, "kind": kind, "hub": hub, "tool_value": tool}

    def shipments_here(self) -> dict[str, tuple[int, str]]:
        """The tool's shipment id -> (our shipment id, its tracking here), for those recorded here."""
        from sales.models import Shipment

        assert self.connection is not None
        refs = dict(
            ExternalRef.objects.filter(connection=self.connection, object_type="fulfilment").values_list(
                "external_id", "object_id"
            )
        )
        tracking = dict(Shipment.objects.filter(pk__in=refs.values()).values_list("pk", "tracking_number"))
        return {tool_id: (pk, tracking.get(pk, "")) for tool_id, pk in refs.items()}

    def untold(self, shipment_ids: list[int]) -> list[int]:
        """Of our shipments, those the order's own channel connection has no fulfilment of (it was
        never told the order shipped)."""
        from sales.models import Shipment

        channel_connections = dict(
            Connection.objects.filter(sales_channel__isnull=False).values_list("sales_channel_id", "pk")
        )
        shipments = Shipment.objects.filter(pk__in=shipment_ids).values_list("pk", "order__channel_id")
        told = set(
            ExternalRef.objects.filter(
                object_type="fulfilment",
                content_type__model=Shipment._meta.model_name,
                content_type__app_label=Shipment._meta.app_label,
                object_id__in=shipment_ids,
            ).values_list("connection_id", "object_id")
        )
        return [
            pk
            for pk, channel_id in shipments
            if channel_id in channel_connections and (channel_connections[channel_id], pk) not in told
        ]


def changing(watcher: Any, tools: Mapping[str, Any], shipping: Mapping[str, ShippingTool]) -> set[str]:
    """Our numbers of the orders with a change on its way to a shipping tool: one the channel and
    the hub have not agreed on yet (a cancel or an edit made in the channel: ``watcher``'s pending
    changes), one whose event the hub has not dispatched yet (with real workers the channel and the
    hub agree before a worker makes the tool's delivery of it), or one the hub still has to deliver
    to the tool. The tools' staff leave them be."""
    from sales.models import SalesOrder

    pending = {(c.tool, o) for c in watcher.pending for o in c.orders}
    keys = {t.connection.pk: t.key for t in tools.values() if t.connection is not None}
    refs = ExternalRef.objects.filter(
        connection_id__in=list(keys), object_type="order", external_id__in={o for _, o in pending}
    ).exclude(object_id=0)
    ids = {
        object_id
        for connection_id, external_id, object_id in refs.values_list(
            "connection_id", "external_id", "object_id"
        )
        if (keys[connection_id], external_id) in pending
    }
    # committed here but not dispatched yet (a worker takes it up soon): its delivery is not made
    unsent = OutboxEvent.objects.filter(
        dispatched_at__isnull=True, aggregate_type=SalesOrder._meta.label_lower
    ).values_list("aggregate_id", flat=True)
    ids |= {int(aggregate) for aggregate in unsent if str(aggregate).isdigit()}
    ids |= {
        int(aggregate)
        for aggregate in Delivery.objects.filter(
            connection__in=[s.connection for s in shipping.values()],
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
            event__aggregate_type=SalesOrder._meta.label_lower,
        ).values_list("event__aggregate_id", flat=True)
        if str(aggregate).isdigit()
    }
    return set(SalesOrder.objects.filter(pk__in=ids).values_list("number", flat=True)) if ids else set()


def available() -> dict[str, type[ShippingTool]]:
    """Tool key -> its part in the day, for every connector package whose ``day.py`` has a Shipper."""
    found: dict[str, type[ShippingTool]] = {}
    root = Path(integrations.__file__).parent
    for module in pkgutil.iter_modules([str(root)]):
        if module.ispkg and (root / module.name / "day.py").exists():
            shipper = getattr(importlib.import_module(f"integrations.{module.name}.day"), "Shipper", None)
            if isinstance(shipper, type) and issubclass(shipper, ShippingTool):
                found[shipper.key] = shipper
    return found
