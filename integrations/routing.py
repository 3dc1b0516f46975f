"""Routing: who ships an order (a shipping tool, a 3PL, or this warehouse's own staff), and what
becomes of the open orders when that changes.

A ``FulfilmentRule`` names, per warehouse and optionally per sales channel, the connection that
ships the orders sold from that warehouse; with no rule (or a rule naming no connection) they are
shipped here. Orders a marketplace fulfils itself (Amazon FBA) never go out, whatever the rule.

``route_set`` changes a rule in one transaction and moves the warehouse's open orders: each order
whose shipper changes gets an ``integrations.order_routed`` event addressed to its old connection
(which takes the order back: cancelled there) and one to its new connection (which creates it
there once the old tool has let go: ``outbound_orders``). Nothing is lost, and nothing ships twice:
the new tool gets an order only after the old one cancelled it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet

from erp import events, panels
from erp.exceptions import ValidationFailed
from integrations import registry
from integrations.contract import Capability
from integrations.models import Connection, FulfilmentRule
from inventory.models import Warehouse
from sales.models import OrderStatus, SalesChannel, SalesOrder

ROUTED = "integrations.order_routed"  # payload: order_id, connection_id (the addressee)
OPEN = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD)


def ships_orders(connection: Connection) -> bool:
    """Whether the connection's connector takes orders to ship (a shipping tool or a 3PL)."""
    try:
        return Capability.ORDERS_OUT in registry.get(connection.connector).capabilities
    except registry.UnknownConnector:
        return False


def _pick(rules: Iterable[FulfilmentRule], warehouse_id: int, channel_id: int) -> FulfilmentRule | None:
    """The rule for a channel's orders at a warehouse: its own, else the warehouse's for every channel."""
    found = [r for r in rules if r.warehouse_id == warehouse_id]
    return next((r for r in found if r.channel_id == channel_id), None) or next(
        (r for r in found if r.channel_id is None), None
    )


def _shipper(rule: FulfilmentRule | None) -> int | None:
    return rule.connection_id if rule is not None else None


def shipper_id(warehouse_id: int, channel_id: int) -> int | None:
    """The connection that ships the channel's orders from the warehouse (None: shipped here)."""
    rules = FulfilmentRule.objects.filter(warehouse_id=warehouse_id).filter(
        Q(channel_id=channel_id) | Q(channel__isnull=True)
    )
    return _shipper(_pick(rules, warehouse_id, channel_id))


def shipper_of(order: SalesOrder) -> int | None:
    """The connection that ships ``order`` (None: shipped here). One query."""
    return shipper_id(order.channel.warehouse_id, order.channel_id)


def routes_of_warehouse(warehouse: Warehouse) -> list[FulfilmentRule]:
    """The warehouse's rules, the one for every channel first."""
    return list(
        FulfilmentRule.objects.filter(warehouse=warehouse)
        .select_related("channel", "connection")
        .order_by(F("channel").asc(nulls_first=True), "channel__name")
    )


def routes_of_connection(connection: Connection) -> list[FulfilmentRule]:
    """The rules that send orders to ``connection``."""
    return list(
        FulfilmentRule.objects.filter(connection=connection)
        .select_related("warehouse", "channel")
        .order_by("warehouse__code", F("channel").asc(nulls_first=True), "channel__name")
    )


@dataclass(frozen=True)
class Moved:
    """What ``route_set`` did: the rule as it now stands (None: removed) and the open orders it moved."""

    rule: FulfilmentRule | None
    orders: int


def _open_orders(warehouse: Warehouse, channel: SalesChannel | None) -> list[tuple[int, int]]:
    """(order id, channel id) of the warehouse's orders still to ship, locked so that a rule change
    and an order's own change do not cross."""
    orders = SalesOrder.objects.filter(channel__warehouse=warehouse, status__in=OPEN)
    if channel is not None:
        orders = orders.filter(channel=channel)
    return list(orders.select_for_update(of=("self",)).order_by("pk").values_list("pk", "channel_id"))


@transaction.atomic
def route_set(
    *,
    warehouse: Warehouse,
    connection: Connection | None,
    channel: SalesChannel | None = None,
    user: Any = None,
) -> Moved:
    """Orders shipped from ``warehouse`` (of ``channel`` only, if given) are shipped by
    ``connection`` from now on (None: here). Open orders whose shipper changes move: taken back
    from the old tool, sent to the new one."""
    if connection is not None and not ships_orders(connection):
        message = f"{connection} does not ship orders: pick a shipping tool or a 3PL."
        raise ValidationFailed(message, field_errors={"connection": [message]})
    if channel is not None and channel.warehouse_id != warehouse.pk:
        message = f"{channel} sells from {channel.warehouse.code}, not from {warehouse.code}."
        raise ValidationFailed(message, field_errors={"channel": [message]})
    rules = list(FulfilmentRule.objects.select_for_update().filter(warehouse=warehouse).order_by("pk"))
    orders = _open_orders(warehouse, channel)
    before = {pk: _shipper(_pick(rules, warehouse.pk, ch)) for pk, ch in orders}
    current = next((r for r in rules if r.channel_id == (channel.pk if channel else None)), None)
    rule: FulfilmentRule | None
    if current is not None and channel is None and connection is None:
        # "shipped here" for every channel is the default: no row needed
        current.delete()
        rules.remove(current)
        rule = None
    elif current is not None:
        current.connection = connection
        current.updated_by = user if getattr(user, "pk", None) else None
        current.save(update_fields=["connection", "updated_by", "updated_at"])
        rule = current
    elif channel is None and connection is None:
        rule = None
    else:
        actor = user if getattr(user, "pk", None) else None
        rule = FulfilmentRule.objects.create(
            warehouse=warehouse, channel=channel, connection=connection, created_by=actor, updated_by=actor
        )
        rules.append(rule)
    moved = 0
    for pk, channel_id in orders:
        old, new = before[pk], _shipper(_pick(rules, warehouse.pk, channel_id))
        if old == new:
            continue
        moved += 1
        for addressee in (old, new):
            if addressee is not None:
                events.emit(
                    ROUTED,
                    aggregate=(SalesOrder._meta.label_lower, pk),
                    payload={"order_id": pk, "connection_id": addressee, "from": old, "to": new},
                )
    return Moved(rule, moved)


def shipping_connections() -> QuerySet[Connection]:
    """The connections that can ship orders (their connector takes orders out), by name."""
    keys = [c.key for c in registry.with_capability(Capability.ORDERS_OUT)]
    return Connection.objects.filter(connector__in=keys).order_by("name")


@dataclass(frozen=True)
class WarehouseRoutes:
    """A warehouse's rules as the Fulfilment page shows them: the one for every channel (None:
    shipped here) and those of single channels."""

    warehouse: Warehouse
    default: FulfilmentRule | None
    channels: list[FulfilmentRule]


def route_table() -> list[WarehouseRoutes]:
    """Every active warehouse with its rules (two queries)."""
    rules: dict[int, list[FulfilmentRule]] = {}
    for rule in FulfilmentRule.objects.select_related("channel", "connection").order_by("channel__name"):
        rules.setdefault(rule.warehouse_id, []).append(rule)
    return [
        WarehouseRoutes(
            warehouse=wh,
            default=next((r for r in rules.get(wh.pk, []) if r.channel_id is None), None),
            channels=[r for r in rules.get(wh.pk, []) if r.channel_id is not None],
        )
        for wh in Warehouse.objects.filter(is_active=True).order_by("code")
    ]


def _warehouse_panel(warehouse: Warehouse) -> dict[str, Any] | None:
    """The warehouse page's "Shipped by" (None: no shipping tool is connected, nothing to say)."""
    routes = routes_of_warehouse(warehouse)
    if not routes and not shipping_connections().exists():
        return None
    return {"warehouse": warehouse, "routes": routes}


def install() -> None:
    """Who ships a warehouse's orders shows on the warehouse's page (``erp.panels``)."""
    panels.register(
        panels.Panel(
            slot="inventory.warehouse",
            template="integrations/_warehouse_fulfilment.html",
            context=_warehouse_panel,
            area="inventory",  # the warehouse staff see who ships (the links need integrations)
        )
    )
