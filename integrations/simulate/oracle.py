"""The day's own drift check: a tool's state (its fake's ``snapshot()``) against ours, read from the
database, not through the connector or the hub's reconciliation (which it checks too).

A sales channel's snapshot has ``orders`` (by the tool's order id: ``name``, ``cancelled``,
``current_total_price``, ``lines`` per SKU with ``quantity``, ``current_quantity``, ``fulfilled``
and ``refunded``, ``tracking_numbers``, ``refunds`` with their ``id`` and what came back,
``returned``, per SKU) and ``stock`` (per SKU, per tool location: available). Per order it checks:

* exists once: the order's ref here, and one sales order of that number on the channel;
* status: cancelled there (or every line taken back before anything shipped) and here alike;
* lines: what the customer still has (``current_quantity``) is our quantity less what came back;
  what the tool fulfilled is what we shipped;
* totals: the order's total, when nothing was edited or refunded (after an edit the tool and
  we may round tax differently; the lines say what matters);
* fulfilment and tracking: the same tracking numbers on both sides;
* refunds: each refund there is recorded here, and the goods it restocked came back here.

Stock: per SKU, what the tool offers at the connection's location is what we have available in
the connection's warehouse.

``order_differences`` answers per order and ``stock_differences`` per SKU, so the time to
consistency of one change is read the same way (``consistency``). ``oversold`` counts the units the
channels sold that are not reserved here (sold twice).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType

from integrations.models import Connection, ExternalRef

ORDER, REFUND, VARIANT = "order", "refund", "variant"


@dataclass(frozen=True)
class Difference:
    tool: str
    data: str  # order, stock
    key: str  # the tool's order id, or the SKU
    kind: str  # missing_here, duplicate_here, status, lines, shipped, total, tracking, refund, stock
    hub: str
    there: str

    def as_dict(self) -> dict[str, str]:
        return {
            "tool": self.tool,
            "data": self.data,
            "key": self.key,
            "kind": self.kind,
            "hub": self.hub,
            "tool_value": self.there,
        }


@dataclass
class _HubOrder:
    pk: int
    number: str
    status: str
    total: Decimal
    lines: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # sku -> quantity/shipped/returned
    tracking: set[str] = field(default_factory=set)


def _hub_orders(connection: Connection, external_ids: Iterable[str]) -> dict[str, list[_HubOrder]]:
    """The tool's order id -> our sales orders for it (a fixed number of queries)."""
    from sales.models import OrderLine, SalesOrder, Shipment

    refs = dict(
        ExternalRef.objects.filter(
            connection=connection, object_type=ORDER, external_id__in=list(external_ids)
        )
        .exclude(object_id=0)
        .values_list("external_id", "object_id")
    )
    orders = {
        o.pk: _HubOrder(o.pk, o.number, o.status, o.total, lines={}, tracking=set())
        for o in SalesOrder.objects.filter(pk__in=set(refs.values())).only("number", "status", "total")
    }
    for order_id, sku, quantity, shipped, returned in OrderLine.objects.filter(
        order_id__in=list(orders)
    ).values_list("order_id", "product__sku", "quantity", "quantity_shipped", "quantity_returned"):
        row = orders[order_id].lines.setdefault(
            sku, {"quantity": Decimal(0), "shipped": Decimal(0), "returned": Decimal(0)}
        )
        row["quantity"] += quantity
        row["shipped"] += shipped
        row["returned"] += returned
    for order_id, tracking in Shipment.objects.filter(order_id__in=list(orders)).values_list(
        "order_id", "tracking_number"
    ):
        if tracking:
            orders[order_id].tracking.add(tracking.strip())
    found: dict[str, list[_HubOrder]] = defaultdict(list)
    for external_id, order_id in refs.items():
        if order_id in orders:
            found[external_id].append(orders[order_id])
    return found


def _same_number(connection: Connection, names: Iterable[str]) -> dict[str, int]:
    """How many of our orders on the connection's channel carry each order number."""
    from django.db.models import Count

    from sales.models import SalesOrder

    if connection.sales_channel_id is None:
        return {}
    return dict(
        SalesOrder.objects.filter(channel_id=connection.sales_channel_id, external_reference__in=list(names))
        .values("external_reference")
        .annotate(n=Count("pk"))
        .values_list("external_reference", "n")
    )


def order_differences(
    tool: str, connection: Connection, orders: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[Difference]]:
    """The tool's orders (snapshot entries by id) against ours: id -> its differences (none: agreed)."""
    hub = _hub_orders(connection, orders)
    counts = _same_number(connection, (o["name"] for o in orders.values()))
    refunded = set(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=REFUND,
            external_id__in=[str(r["id"]) for o in orders.values() for r in o.get("refunds", ())],
        ).values_list("external_id", flat=True)
    )
    result: dict[str, list[Difference]] = {}
    for external_id, there in orders.items():
        out: list[Difference] = []

        def differ(
            kind: str, ours: object, theirs: object, key: str = external_id, out: list[Difference] = out
        ) -> None:
            out.append(Difference(tool, ORDER, key, kind, str(ours), str(theirs)))

        found = hub.get(external_id, [])
        if not found:
            differ("missing_here", "missing", there["name"])
            result[external_id] = out
            continue
        if len(found) > 1 or counts.get(there["name"], 1) > 1:
            differ("duplicate_here", max(len(found), counts.get(there["name"], 1)), 1)
        ours = found[0]
        _compare(ours, there, refunded, differ)
        result[external_id] = out
    return result


def _compare(ours: _HubOrder, there: Mapping[str, Any], refunded: set[str], differ: Any) -> None:
    from sales.models import OrderStatus

    cancelled_here = ours.status == OrderStatus.CANCELLED
    lines: Mapping[str, Mapping[str, int]] = there["lines"]
    # every line taken back before anything shipped: over there too, cancelled or not
    emptied = bool(lines) and all(not ln["current_quantity"] and not ln["fulfilled"] for ln in lines.values())
    over_there = bool(there["cancelled"]) or emptied
    if over_there != cancelled_here:
        differ("status", ours.status, "cancelled" if there["cancelled"] else "emptied" if emptied else "open")
    if not over_there:
        for sku in sorted(set(lines) | set(ours.lines)):
            theirs = lines.get(sku, {})
            mine = ours.lines.get(sku, {})
            held = mine.get("quantity", Decimal(0)) - mine.get("returned", Decimal(0))
            if Decimal(theirs.get("current_quantity", 0)) != held:
                differ("lines", f"{sku}: {held}", f"{sku}: {theirs.get('current_quantity', 0)}")
            if Decimal(theirs.get("fulfilled", 0)) != mine.get("shipped", Decimal(0)):
                differ("shipped", f"{sku}: {mine.get('shipped', 0)}", f"{sku}: {theirs.get('fulfilled', 0)}")
        untouched = not there.get("refunds") and all(
            ln.get("current_quantity") == ln.get("quantity") for ln in lines.values()
        )
        if untouched and Decimal(str(there["current_total_price"])) != ours.total:
            differ("total", ours.total, there["current_total_price"])
        missing = [str(r["id"]) for r in there.get("refunds", ()) if str(r["id"]) not in refunded]
        if missing:
            differ("refund", "no credit note", ", ".join(missing))
        returned: dict[str, int] = defaultdict(int)
        for refund in there.get("refunds", ()):
            for sku, quantity in refund.get("returned", {}).items():
                returned[sku] += int(quantity)
        for sku in sorted(set(returned) | {s for s, ln in ours.lines.items() if ln.get("returned")}):
            back = ours.lines.get(sku, {}).get("returned", Decimal(0))
            if Decimal(returned.get(sku, 0)) != back:
                differ("refund", f"{sku}: {back} returned", f"{sku}: {returned.get(sku, 0)} returned")
    tracking = {t.strip() for t in there.get("tracking_numbers", ()) if t}
    if tracking != ours.tracking:
        differ("tracking", ", ".join(sorted(ours.tracking)) or "none", ", ".join(sorted(tracking)) or "none")


def stock_differences(
    tool: str, connection: Connection, stock: Mapping[str, Mapping[str, int]], location: str
) -> dict[str, list[Difference]]:
    """SKU -> its difference (none: agreed): the tool's available at ``location`` against ours in the
    connection's warehouse. SKUs the tool has but we never linked are not compared."""
    from inventory import availability
    from inventory.models import Product

    linked = set(
        ExternalRef.objects.filter(
            connection=connection,
            object_type=VARIANT,
            content_type=ContentType.objects.get_for_model(Product),
        ).values_list("object_id", flat=True)
    )
    products = dict(Product.objects.filter(sku__in=list(stock), pk__in=linked).values_list("sku", "pk"))
    warehouse_id = connection.warehouse_id
    levels = availability.by_warehouse(products.values(), warehouse_id) if products else {}
    ours = {pid: a.available for (pid, wid), a in levels.items() if wid == warehouse_id}
    result: dict[str, list[Difference]] = {}
    for sku, by_location in stock.items():
        if sku not in products:
            continue
        mine = max(0, int(ours.get(products[sku], Decimal(0)).to_integral_value(rounding=ROUND_FLOOR)))
        theirs = int(by_location.get(location, 0))
        result[sku] = (
            [] if mine == theirs else [Difference(tool, "stock", sku, "stock", str(mine), str(theirs))]
        )
    return result


def oversold(channels: Iterable[int]) -> dict[str, int]:
    """Per SKU, the units of the ``channels``' open orders that are not reserved here and that no
    purchase order on its way to the warehouse they are sold from covers: sold twice (two
    channels selling the last unit before either heard of the other's sale). A unit a purchase
    order brings is a backorder: the day may end before the supplier delivers."""
    from inventory import availability
    from sales.models import OrderLine, OrderStatus
    from sales.selectors import reserved_by_line

    lines = list(
        OrderLine.objects.filter(
            OrderLine.USES_OUR_STOCK,  # not a marketplace's own (FBA) nor a service
            order__channel_id__in=list(channels),
            order__status__in=[OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD],
        ).values_list(
            "pk",
            "product__sku",
            "product_id",
            "order__channel__warehouse_id",
            "quantity",
            "quantity_shipped",
        )
    )
    reserved = reserved_by_line([pk for pk, *_ in lines])
    missing_at: Counter[tuple[str, int, int]] = Counter()  # (sku, product, warehouse) -> units
    for pk, sku, product_id, warehouse_id, quantity, shipped in lines:
        missing = quantity - shipped - reserved.get(pk, Decimal(0))
        if missing > 0:
            missing_at[(sku, product_id, warehouse_id)] += int(missing)
    short: Counter[str] = Counter()
    for warehouse_id in {w for _, _, w in missing_at}:  # what a purchase order brings there
        products = [p for _, p, w in missing_at if w == warehouse_id]
        flows = availability.by_warehouse(products, warehouse_id)
        for (sku, product_id, wid), units in missing_at.items():
            if wid == warehouse_id:
                found = flows.get((product_id, warehouse_id))
                short[sku] += max(0, units - (int(found.incoming) if found is not None else 0))
    return dict(sorted((sku, n) for sku, n in short.items() if n > 0))
