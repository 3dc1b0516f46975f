"""A tool's part in the simulated day: its fake, its connection, and what its users do in it.

Each connector that takes part ships ``integrations/<tool>/day.py`` with a ``ChannelTool`` subclass
named ``Tool``; ``available()`` finds them, so adding a tool to the day touches no file here.
A sales channel's part (``ChannelTool``) places customers' orders and changes some of them in
the tool (edits, cancellations, refunds); the day injects its faults through the fake's controls
(``integrations.fakes``: webhook duplicates and drops, 429 and 5xx bursts, timeouts, slow
answers, expired tokens, a permanent refusal), and reads its state with ``snapshot()``.
"""

from __future__ import annotations

import abc
import datetime
import importlib
import pkgutil
import random
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import httpx

import integrations
from integrations.fakes.clock import Clock
from integrations.models import Connection, Delivery, ExternalRef
from integrations.simulate.consistency import Change
from integrations.simulate.faults import Faults

Send = Callable[[str, dict[str, str], bytes], int]
POLL_EVERY = datetime.timedelta(minutes=5)  # the day's safety-net poll of a tool's orders


class Participant(abc.ABC):
    """One connected tool in the day: its fake, its connection, its webhooks and its faults.
    ``origin`` is the tool's real address (the embedded day mounts the fake there); with real
    workers the fake is served on a port and ``served_at`` is used."""

    key: ClassVar[str]
    origin: ClassVar[str]
    sends_webhooks: ClassVar[bool] = True  # False: its orders come by polling only (Amazon)
    # Other hosts the tool answers at (Amazon: Login with Amazon, S3's pre-signed documents).
    more_origins: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, clock: Clock, rng: random.Random, faults: Faults) -> None:
        self.clock = clock
        self.rng = rng
        self.faults = faults
        self.connection: Connection | None = None
        self.actions: Counter[str] = Counter()
        self.api_faults: Counter[str] = Counter()
        self.injected: list[dict[str, Any]] = []  # permanent errors, to explain dead letters

    # --- the fake ---------------------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def fake(self) -> Any:
        """The tool's fake (an ``integrations.fakes.base.FakeTool``)."""

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def wsgi_app(self) -> Any:
        return self.fake

    def snapshot(self, order_ids: Iterable[str] | None = None) -> dict[str, Any]:
        return dict(self.fake.snapshot())

    # --- webhooks ----------------------------------------------------------------------------------

    def deliver(self, send: Send, *, reorder: bool) -> None:
        self.fake.deliver_webhooks(send, reorder=reorder)

    def webhooks_pending(self) -> bool:
        """Whether the tool still has webhooks to send (or to retry)."""
        return bool(self.fake.pending_webhooks())

    def webhook_counts(self) -> dict[str, int]:
        outbox = list(self.fake.outbox)
        return dict(Counter(d.state for d in outbox)) | {
            "duplicates_sent": sum(d.duplicate for d in outbox),
            "retried": sum(len(d.attempts) > 1 for d in outbox),
        }

    # --- faults ------------------------------------------------------------------------------------

    def inject(self) -> None:
        """Faults for the next change: webhooks duplicated or dropped, bursts on the API."""
        self.inject_webhook_faults()
        self.inject_api_faults()

    def inject_webhook_faults(self) -> None:
        faults, rng, fake = self.faults, self.rng, self.fake
        fake.duplicate_next(sum(rng.random() < faults.duplicate for _ in range(3)))
        fake.drop_next(sum(rng.random() < faults.drop for _ in range(3)))

    def inject_api_faults(self) -> None:
        faults, rng, fake = self.faults, self.rng, self.fake
        if rng.random() < faults.throttle:
            fake.throttle_next(rng.randint(1, 4), retry_after=2.0)
            self.api_faults["429_burst"] += 1
        if rng.random() < faults.error:
            fake.fail_next(rng.randint(1, 3), status=rng.choice((500, 502, 503)))
            self.api_faults["5xx_burst"] += 1
        if rng.random() < faults.timeout:
            fake.timeout_next(1)
            self.api_faults["timeout"] += 1
        if rng.random() < faults.slow:
            fake.slow_next(1, seconds=float(rng.randint(2, 8)))
            self.api_faults["slow"] += 1

    def clear_faults(self) -> None:
        self.fake.clear_failures()

    def token_refreshes(self) -> int:
        """How many times the tool's token endpoint granted a refresh."""
        return int(self.fake.refreshes)

    def explains(self, delivery: Delivery) -> bool:
        """Whether an injected permanent error explains this dead letter."""
        return any(
            delivery.topic in i["topics"] and delivery.last_status_code == i["status"] for i in self.injected
        )


class ChannelTool(Participant):
    """A sales channel in the day: its customers order, and its merchant changes some orders there."""

    stock_resource: ClassVar[str]  # what the fake calls a stock push (faults aimed at it match this)

    def __init__(self, *, clock: Clock, rng: random.Random, faults: Faults) -> None:
        super().__init__(clock=clock, rng=rng, faults=faults)
        self.poll_every: datetime.timedelta = POLL_EVERY  # how often the day polls the tool's orders
        self.location = ""  # the tool's location whose stock mirrors the connection's warehouse
        self.placed: list[Any] = []  # the tool's ids of the orders its customers placed today

    @abc.abstractmethod
    def setup(self, *, warehouse: Any, tag: str, stock: int, served_at: str | None) -> Connection:
        """The connection (subscribed to the fake's webhooks), its channel, and the products both
        sides sell with ``stock`` of each on both sides."""

    @abc.abstractmethod
    def skus(self) -> list[str]: ...

    @abc.abstractmethod
    def expire_tokens(self) -> None:
        """Every access token the tool issued expires now (the hub must refresh and carry on)."""

    @abc.abstractmethod
    def refuse_for_good(self) -> None:
        """The tool refuses the next stock push for good (a 4xx no retry helps); noted in
        ``injected`` for ``explains``."""

    def stock_topics(self) -> list[str]:
        """The outbox topics whose deliveries push stock to this tool (what a refused push ends)."""
        from integrations import outbound_items

        assert self.connection is not None
        resolver = outbound_items.resolver_for(outbound_items.LEVEL_CHANGED, self.connection)
        return [] if resolver is None else outbound_items.topics_resolved_by(resolver)

    def shipped_here(self, order_id: Any) -> bool:
        """Whether this tool order is in the warehouse's hands: shipped (some of it) here, or handed
        to a shipping tool or 3PL, or being handed to one (a push of it waiting for a worker or in
        flight: the tool may have it before the hub has its answer, and a push waiting is taken
        within seconds, or as long as the workers are busy). The day's merchant does not cancel,
        edit or ship it in the tool then. Racing the warehouse on one order is a conflict for a
        person (the hub reports it as drift), not something the day is about."""
        from sales.models import SalesOrder, Shipment

        assert self.connection is not None
        order = (
            ExternalRef.objects.filter(
                connection=self.connection, object_type="order", external_id=str(order_id)
            )
            .exclude(object_id=0)
            .values_list("object_id", flat=True)
            .first()
        )
        if order is None:
            return False
        handed = ExternalRef.objects.filter(
            object_type="order",
            content_type__model=SalesOrder._meta.model_name,
            content_type__app_label=SalesOrder._meta.app_label,
            object_id=order,
            extra__sent=True,
        )
        return Shipment.objects.filter(order_id=order).exists() or handed.exists() or self.handing(order)

    def handing(self, order: int) -> bool:
        """Whether a push of our order ``order`` to a shipping tool or 3PL waits for a worker or is
        in flight (not yet succeeded, skipped or dead)."""
        from integrations import registry
        from integrations.contract import Capability
        from integrations.models import DeliveryStatus
        from sales.models import SalesOrder

        assert self.connection is not None
        takers = {c.key for c in registry.with_capability(Capability.ORDERS_OUT)}
        shippers = Connection.objects.filter(connector__in=takers).exclude(pk=self.connection.pk)
        return Delivery.objects.filter(
            connection__in=shippers,
            event__aggregate_type=SalesOrder._meta.label_lower,
            event__aggregate_id=str(order),
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED),
        ).exists()

    def placed_orders(self) -> set[str]:
        """The tool's ids of the orders placed during the day (what the day's check compares)."""
        return {str(order_id) for order_id in self.placed}

    # --- what people do in the tool --------------------------------------------------------------

    @abc.abstractmethod
    def place_order(self) -> Change:
        """A customer orders in the tool."""

    @abc.abstractmethod
    def change_in_tool(self) -> Change | None:
        """Someone edits, cancels or refunds an order in the tool (None: nothing to change)."""


def available() -> dict[str, type[ChannelTool]]:
    """Tool key -> its part in the day, for every connector package with a ``day.py``."""
    found: dict[str, type[ChannelTool]] = {}
    root = Path(integrations.__file__).parent
    for module in pkgutil.iter_modules([str(root)]):
        if module.ispkg and (root / module.name / "day.py").exists():
            tool = getattr(importlib.import_module(f"integrations.{module.name}.day"), "Tool", None)
            if isinstance(tool, type) and issubclass(tool, ChannelTool):
                found[tool.key] = tool
    return found
