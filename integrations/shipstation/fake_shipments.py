"""Shipments in the fake ShipStation: labels the warehouse prints (``ship``) and voids (``void``),
and ``GET /shipments``.

``ship(order, lines=None, carrier=, service=, tracking=)`` prints one label in a new batch
(``batchNumber``) for the given ``{lineItemKey or sku: quantity}`` (default: every unit not yet
shipped). The order becomes ``shipped`` (its ``shipDate``, ``carrierCode`` and ``serviceCode``
set) when every unit has shipped; a partial shipment leaves it ``awaiting_shipment``. A
SHIP_NOTIFY (and ITEM_SHIP_NOTIFY) for the batch is queued. ``void(shipment_id)`` voids the label
(``voided`` true, ``voidDate`` set): its units count as unshipped again and a shipped order reopens
to ``awaiting_shipment``; ShipStation sends no webhook for a void. A relabel is another ``ship``.

``GET /shipments`` filters by ``orderNumber`` (exact), ``orderId``, ``storeId``, ``batchId`` (the
batch number), ``createDateStart/End``, ``voidDateStart/End`` (Pacific local time),
``shipDateStart/End`` (days), sorts by ``sortBy`` (ShipDate, CreateDate; default the shipment id)
and ``sortDir``, pages with ``page`` / ``pageSize``. ``shipmentItems`` is null unless
``includeShipmentItems`` is true.
"""

from __future__ import annotations

import copy
import datetime
import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from integrations.shipstation.fake_data import (
    FIRST_BATCH,
    FIRST_PRODUCT_ID,
    FIRST_SHIPMENT_ID,
    SHIPMENT_ITEM_KEYS,
    SHIPMENT_KEYS,
    SHIPPABLE,
    USER_ID,
    day,
    invalid,
    label_address,
    parse_day,
    stamp,
    weight,
)
from integrations.shipstation.fake_orders import (
    OrderBook,
    listing,
    lower_params,
    moment_param,
    paging,
    within,
)

_SHIPMENT_SORTS = {"shipdate": "ship_date", "createdate": "created"}


class ShipmentBook(OrderBook):
    """Labels printed and voided by the warehouse, over the orders. See the module doc."""

    def reset_shipments(self) -> None:
        with self._lock:
            self.shipments: dict[int, dict[str, Any]] = {}
            self._shipment_ids = itertools.count(FIRST_SHIPMENT_ID)
            self._batches = itertools.count(FIRST_BATCH)
            self._products: dict[str, int] = {}

    def _notify_shipped(self, store_id: int, batch: int) -> None:
        """A batch of labels was printed (the webhooks queue SHIP_NOTIFY)."""

    # --- what has shipped ---------------------------------------------------------------------------

    def _shipped(self, order_id: int) -> dict[int, int]:
        """Units shipped per ``orderItemId`` by the order's labels that are not voided."""
        shipped: dict[int, int] = {}
        for shipment in self.shipments.values():
            if shipment["order_id"] == order_id and not shipment["view"]["voided"]:
                for item_id, quantity in shipment["lines"].items():
                    shipped[item_id] = shipped.get(item_id, 0) + quantity
        return shipped

    def unshipped(self, order: int | str) -> dict[str, int]:
        """The units still to ship, per ``lineItemKey`` (or ``sku`` for an item without one)."""
        with self._lock:
            entry = self._entry(order)
            shipped = self._shipped(entry["id"])
            result: dict[str, int] = {}
            for item in entry["view"]["items"]:
                left = int(item["quantity"]) - shipped.get(item["orderItemId"], 0)
                if left > 0:
                    name = str(item["lineItemKey"] or item["sku"] or item["orderItemId"])
                    result[name] = result.get(name, 0) + left
            return result

    def shipments_of(self, order: int | str) -> list[dict[str, Any]]:
        """The order's shipments (voided ones too), with their items."""
        with self._lock:
            order_id = self._entry(order)["id"]
            return [copy.deepcopy(s["view"]) for s in self.shipments.values() if s["order_id"] == order_id]

    # --- the warehouse ------------------------------------------------------------------------------

    def ship(
        self,
        order: int | str,
        lines: Mapping[str, int] | None = None,
        *,
        carrier: str = "stamps_com",
        service: str = "usps_priority_mail",
        tracking: str | None = None,
        package: str = "package",
        cost: float | None = None,
    ) -> dict[str, Any]:
        """Print a label for ``lines`` ({lineItemKey or sku: quantity}; default everything not yet
        shipped) of the order (``orderId`` int or ``orderKey`` str): the shipment, with its items.
        ValueError when the order cannot ship (not awaiting shipment) or the lines are not its own."""
        with self._lock:
            entry = self._entry(order)
            view = entry["view"]
            if view["orderStatus"] not in SHIPPABLE:
                raise ValueError(f"Order {order!r} is {view['orderStatus']}: it cannot be shipped")
            shipped = self._shipped(entry["id"])
            left = {
                i["orderItemId"]: int(i["quantity"]) - shipped.get(i["orderItemId"], 0) for i in view["items"]
            }
            taking = self._taking(view["items"], left, lines)
            if not taking:
                raise ValueError(f"Order {order!r} has nothing (more) to ship")
            now = self.clock()
            shipment_id = next(self._shipment_ids)
            batch = next(self._batches)
            store_id = int(view["advancedOptions"]["storeId"])
            items = [
                self._shipment_item(i, taking[i["orderItemId"]])
                for i in view["items"]
                if i["orderItemId"] in taking
            ]
            computed: dict[str, Any] = {
                "shipmentId": shipment_id,
                "orderId": entry["id"],
                "orderKey": view["orderKey"],
                "userId": USER_ID,
                "customerEmail": view["customerEmail"],
                "orderNumber": view["orderNumber"],
                "createDate": stamp(now),
                "shipDate": day(now),
                "shipmentCost": cost if cost is not None else _cost(items),
                "insuranceCost": 0.0,
                "trackingNumber": tracking or f"94001118992231{shipment_id:08d}"[-22:],
                "isReturnLabel": False,
                "batchNumber": str(batch),
                "carrierCode": carrier,
                "serviceCode": service,
                "packageCode": package,
                "confirmation": view["confirmation"] or "none",
                "warehouseId": view["advancedOptions"]["warehouseId"],
                "voided": False,
                "voidDate": None,
                "marketplaceNotified": True,
                "notifyErrorMessage": None,
                "shipTo": label_address(view["shipTo"]),
                "weight": _weight(items) or copy.deepcopy(view["weight"]),
                "dimensions": copy.deepcopy(view["dimensions"]),
                "insuranceOptions": copy.deepcopy(view["insuranceOptions"]),
                "advancedOptions": {
                    "billToParty": view["advancedOptions"]["billToParty"],
                    "billToAccount": view["advancedOptions"]["billToAccount"],
                    "billToPostalCode": view["advancedOptions"]["billToPostalCode"],
                    "billToCountryCode": view["advancedOptions"]["billToCountryCode"],
                    "storeId": store_id,
                },
                "shipmentItems": items,
            }
            shipment_view = {key: computed.get(key) for key in SHIPMENT_KEYS}
            self.shipments[shipment_id] = {
                "id": shipment_id,
                "order_id": entry["id"],
                "store_id": store_id,
                "batch": batch,
                "created": now,
                "ship_date": parse_day(computed["shipDate"]),
                "void_date": None,
                "lines": taking,
                "view": shipment_view,
            }
            if all(left[i] - taking.get(i, 0) <= 0 for i in left):
                view["orderStatus"] = "shipped"
                view["shipDate"] = shipment_view["shipDate"]
                view["carrierCode"] = carrier
                view["serviceCode"] = service
            self._touch(entry)
            self._notify_shipped(store_id, batch)
            return copy.deepcopy(shipment_view)

    def _taking(
        self, items: list[dict[str, Any]], left: dict[int, int], lines: Mapping[str, int] | None
    ) -> dict[int, int]:
        """{orderItemId: units} this label ships."""
        if lines is None:
            return {item_id: n for item_id, n in left.items() if n > 0}
        taking: dict[int, int] = {}
        for name, quantity in lines.items():
            matches = [i for i in items if i["lineItemKey"] == name] or [i for i in items if i["sku"] == name]
            if not matches:
                raise ValueError(f"The order has no line {name!r}")
            wanted = int(quantity)
            for item in matches:  # a SKU on several lines fills them in turn
                item_id = item["orderItemId"]
                room = left[item_id] - taking.get(item_id, 0)
                step = min(room, wanted)
                if step > 0:
                    taking[item_id] = taking.get(item_id, 0) + step
                    wanted -= step
            if wanted > 0:
                raise ValueError(f"Line {name!r} has fewer than {quantity} units left to ship")
        return {k: v for k, v in taking.items() if v > 0}

    def _shipment_item(self, item: Mapping[str, Any], quantity: int) -> dict[str, Any]:
        sku = str(item["sku"] or "")
        if sku not in self._products:
            self._products[sku] = FIRST_PRODUCT_ID + len(self._products)
        values: dict[str, Any] = {
            "quantity": quantity,
            "taxAmount": None,
            "shippingAmount": None,
            "options": [],  # a label's items carry no options (the sample's)
            "productId": item["productId"] or self._products[sku],
            "createDate": None,
            "modifyDate": None,
        }
        return {
            key: copy.deepcopy(values[key] if key in values else item.get(key)) for key in SHIPMENT_ITEM_KEYS
        }

    def void(self, shipment_id: int) -> dict[str, Any]:
        """Void a label: its units are unshipped again, a shipped order reopens. No webhook."""
        with self._lock:
            shipment = self.shipments.get(int(shipment_id))
            if shipment is None:
                raise KeyError(f"No shipment {shipment_id} in the fake ShipStation")
            if shipment["view"]["voided"]:
                raise ValueError(f"Shipment {shipment_id} is already voided")
            now = self.clock()
            shipment["view"]["voided"] = True
            shipment["view"]["voidDate"] = stamp(now)
            shipment["void_date"] = now
            entry = self.orders.get(shipment["order_id"])
            if entry is not None:
                view = entry["view"]
                if view["orderStatus"] == "shipped":
                    view["orderStatus"] = "awaiting_shipment"
                    live = [
                        s
                        for s in self.shipments.values()
                        if s["order_id"] == entry["id"] and not s["view"]["voided"]
                    ]
                    view["shipDate"] = max(s["view"]["shipDate"] for s in live) if live else None
                self._touch(entry)
            return copy.deepcopy(shipment["view"])

    # --- GET /shipments ----------------------------------------------------------------------------

    def list_shipments(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET /shipments`` (see the module doc)."""
        query = lower_params(params)
        page, size = paging(query)
        moments = {
            name: moment_param(query, name.lower(), name)
            for name in ("createDateStart", "createDateEnd", "voidDateStart", "voidDateEnd")
        }
        days: dict[str, datetime.date | None] = {}
        for name in ("shipDateStart", "shipDateEnd"):
            try:
                days[name] = parse_day(query[name.lower()]) if name.lower() in query else None
            except ValueError:
                raise invalid(
                    {name: [f"The value '{query[name.lower()]}' is not valid for {name}."]}
                ) from None
        sort = query.get("sortby", "").lower()
        if sort and sort not in _SHIPMENT_SORTS:
            raise invalid({"sortBy": [f"The value '{query['sortby']}' is not valid for sortBy."]})
        include = query.get("includeshipmentitems", "false").lower() == "true"
        found = []
        for shipment in self.shipments.values():
            view = shipment["view"]
            ship_date = shipment["ship_date"]
            if (
                query.get("ordernumber", view["orderNumber"]) == view["orderNumber"]
                and query.get("orderid", str(view["orderId"])) == str(view["orderId"])
                and query.get("storeid", str(shipment["store_id"])) == str(shipment["store_id"])
                and query.get("batchid", str(shipment["batch"])) == str(shipment["batch"])
                and within(shipment["created"], moments["createDateStart"], moments["createDateEnd"])
                and within(shipment["void_date"], moments["voidDateStart"], moments["voidDateEnd"])
                and (days["shipDateStart"] is None or ship_date >= days["shipDateStart"])
                and (days["shipDateEnd"] is None or ship_date <= days["shipDateEnd"])
            ):
                found.append(shipment)
        if sort:
            field = _SHIPMENT_SORTS[sort]
            found.sort(
                key=lambda s: (s[field], s["id"]), reverse=query.get("sortdir", "ASC").upper() == "DESC"
            )
        views = []
        for shipment in found:
            view = copy.deepcopy(shipment["view"])
            if not include:
                view["shipmentItems"] = None
            views.append(view)
        return listing("shipments", views, page, size)


def _weight(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The label's weight: its items' (None when they have none, or in different units)."""
    weights = [(i["weight"], i["quantity"]) for i in items if i["weight"]]
    units = {w["units"] for w, _ in weights}
    if not weights or len(units) != 1:
        return None
    total = sum((Decimal(str(w["value"])) * q for w, q in weights), Decimal(0))
    return weight({"value": float(total), "units": units.pop()})


def _cost(items: list[dict[str, Any]]) -> float:
    """A postage that grows with the parcel's units (deterministic)."""
    units = sum(int(i["quantity"]) for i in items)
    return float((Decimal("7.95") + Decimal("1.46") * units).quantize(Decimal("0.01")))
