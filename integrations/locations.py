"""Where a connection's stock goes: one location of the tool, or several mapped to our warehouses.

By default a connection sells the stock of one warehouse (``ownership.home_warehouse``: its own,
else its sales channel's; None: every warehouse) and the tool keeps it at one location, the
connector's own default (a setting of the connection). A connector whose tool keeps stock at several
locations declares a ``MappingKind`` whose ``ours`` is ``"warehouse"`` (BigCommerce's "location");
once a person maps some of our warehouses to the tool's locations (``ValueMapping``, the
connection's Mappings tab), the connection sells the stock of exactly those warehouses, each pushed
to its own location (``InventoryOut.location_id``), coalesced per product and warehouse, remembered
and reconciled per location. A connection with no such mapping behaves as it always did.

Read straight from ``ValueMapping`` (not through ``integrations.mappings``, which sits above the
outbound engine): one query per connection, none for a connector that declares no such kind.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from integrations import registry
from integrations.contract import Connector, MappingKind
from integrations.models import Connection, ValueMapping
from inventory.models import Warehouse

WAREHOUSE = "warehouse"  # MappingKind.ours of a kind that maps our warehouses to the tool's locations


def home_warehouse(connection: Connection) -> int | None:
    """The warehouse whose stock the connection sells: its own, else its sales channel's (None: all).
    (``outbound_items.warehouse_of`` answers with this.)"""
    if connection.warehouse_id is not None:
        return connection.warehouse_id
    channel = connection.sales_channel if connection.sales_channel_id is not None else None
    return channel.warehouse_id if channel is not None else None


def location_kind(connector: type[Connector]) -> MappingKind | None:
    """The connector's kind that maps our warehouses to its locations, if it declares one."""
    return next((k for k in connector.mapping_kinds if k.ours == WAREHOUSE), None)


def locations_of(connection: Connection) -> dict[int, str]:
    """Our warehouse (pk) -> the tool's location, as the connection maps them; empty: the connection
    keeps to one warehouse and the tool's default location (today's behaviour)."""
    try:
        kind = location_kind(registry.get(connection.connector))
    except registry.UnknownConnector:
        return {}
    if kind is None or connection.pk is None:
        return {}
    warehouse = Warehouse.objects.filter(code=OuterRef("our_value")).values("pk")[:1]
    rows = (
        ValueMapping.objects.filter(connection=connection, kind=kind.key)
        .annotate(warehouse_id=Subquery(warehouse))
        .order_by("our_value")
        .values_list("warehouse_id", "tool_value")
    )
    return {int(wid): str(value).strip() for wid, value in rows if wid is not None and str(value).strip()}


def sells(connection: Connection, warehouse_id: object, located: dict[int, str] | None = None) -> bool:
    """Whether a level change at ``warehouse_id`` concerns the connection."""
    located = locations_of(connection) if located is None else located
    if located:
        return warehouse_id in located
    home = home_warehouse(connection)
    return home is None or warehouse_id == home


def coalesce_key(product_id: object, warehouse_id: object, located: dict[int, str]) -> str:
    """The key a product's stock deliveries to a connection coalesce under: per product, and per
    warehouse too for a connection with several locations (one location's push never supersedes
    another's)."""
    key = f"inventory.product:{product_id}"
    return f"{key}:wh:{warehouse_id}" if located and isinstance(warehouse_id, int) else key
