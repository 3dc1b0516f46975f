"""Orders in the fake ShipStation: created and updated by ``createorder`` (an upsert by ``orderKey``),
listed, held, restored, deleted, cancelled.

``POST /orders/createorder`` with an ``orderKey`` updates the order with that key (the whole
resource replaced, its ``orderId`` kept; items keep their ``orderItemId`` when their
``lineItemKey``, else their ``sku``, matches) or creates it with that key; without one it always
creates a new order with a generated key (a client that omits it makes duplicates). Only open
orders (``OPEN_STATUSES``) can be updated: a shipped or cancelled one is refused with a 400.
``orderStatus: "cancelled"`` in an update cancels the order.

``GET /orders`` filters by ``orderNumber`` (a case-insensitive "starts with", as ShipStation
does), ``orderStatus``, ``storeId``, ``importBatch``, ``orderDateStart/End``,
``createDateStart/End``, ``modifyDateStart/End`` (Pacific local time), sorts by ``sortBy``
(OrderDate, ModifyDate, CreateDate; default the order id) and pages with ``page`` and
``pageSize`` (default 100, at most 500). Query parameter names are case-insensitive (ASP.NET),
so the webhooks' ``storeID`` works.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import threading
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from integrations.fakes.pagination import numbered_page
from integrations.shipstation.fake_data import (
    ADVANCED_KEYS,
    DEFAULT_PAGE_SIZE,
    FIRST_ORDER_ID,
    FIRST_ORDER_ITEM_ID,
    ITEM_KEYS,
    MAX_PAGE_SIZE,
    OPEN_STATUSES,
    ORDER_KEYS,
    STATUSES,
    address,
    exception,
    invalid,
    item_stamp,
    order_not_found,
    parse_day,
    parse_local,
    stamp,
    weight,
)

REQUIRED = ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo")
_DEFAULTS: dict[str, Any] = {
    "amountPaid": 0.0,
    "taxAmount": 0.0,
    "shippingAmount": 0.0,
    "gift": False,
    "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0.0},
    "internationalOptions": {"contents": None, "customsItems": None, "nonDelivery": None},
    "externallyFulfilled": False,
}
_ADVANCED_DEFAULTS: dict[str, Any] = {
    "nonMachinable": False,
    "saturdayDelivery": False,
    "containsAlcohol": False,
    "mergedOrSplit": False,
    "mergedIds": [],
}
_DATES = ("orderDate", "paymentDate", "shipByDate")
_ORDER_SORTS = {"orderdate": "orderDate", "modifydate": "modified", "createdate": "created"}


def lower_params(params: Mapping[str, str]) -> dict[str, str]:
    """Query parameters by lower-case name (ASP.NET binds them case-insensitively); blanks dropped."""
    return {k.lower(): v for k, v in params.items() if v != ""}


def paging(params: Mapping[str, str]) -> tuple[int, int]:
    """``page`` (from 1) and ``pageSize`` (1..500, default 100) of a lower-cased query."""
    numbers = {}
    for name, key, default in (("page", "page", 1), ("pageSize", "pagesize", DEFAULT_PAGE_SIZE)):
        try:
            numbers[name] = int(params.get(key, default))
        except ValueError:
            raise invalid({name: [f"The value '{params[key]}' is not valid for {name}."]}) from None
    if numbers["page"] < 1:
        raise invalid({"page": ["page must be 1 or more."]})
    if not 1 <= numbers["pageSize"] <= MAX_PAGE_SIZE:
        raise invalid({"pageSize": [f"pageSize must be between 1 and {MAX_PAGE_SIZE}."]})
    return numbers["page"], numbers["pageSize"]


def moment_param(params: Mapping[str, str], key: str, name: str) -> datetime.datetime | None:
    """A date of a lower-cased query (Pacific local time unless it carries an offset)."""
    if key not in params:
        return None
    try:
        return parse_local(params[key])
    except ValueError:
        raise invalid({name: [f"The value '{params[key]}' is not valid for {name}."]}) from None


def within(
    value: datetime.datetime | None, start: datetime.datetime | None, end: datetime.datetime | None
) -> bool:
    if start is None and end is None:
        return True
    if value is None:
        return False
    return (start is None or value >= start) and (end is None or value <= end)


def listing(name: str, items: list[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
    """ShipStation's paginated list: ``{name: [...], "total", "page", "pages"}``."""
    chunk = numbered_page(items, page, size)
    return {name: chunk.items, "total": chunk.total, "page": chunk.number, "pages": chunk.pages}


def _money(*values: Any) -> float:
    total = sum((Decimal(str(v or 0)) for v in values), Decimal(0))
    return float(total.quantize(Decimal("0.01")))


class OrderBook:
    """The orders of the fake's stores. Holds ``_lock`` and ``clock``; see the module doc."""

    clock: Callable[[], datetime.datetime]
    _lock: threading.RLock
    stores: dict[int, str]
    warehouse_id: int

    def reset_orders(self) -> None:
        with self._lock:
            self.orders: dict[int, dict[str, Any]] = {}
            self._order_ids = itertools.count(FIRST_ORDER_ID)
            self._item_ids = itertools.count(FIRST_ORDER_ITEM_ID)

    @property
    def default_store(self) -> int:
        return next(iter(self.stores))

    # --- finding ---------------------------------------------------------------------------------

    def _entry(self, order: int | str) -> dict[str, Any]:
        """An order by ``orderId`` (an int) or ``orderKey`` (a str); KeyError when there is none."""
        for entry in self.orders.values():
            view = entry["view"]
            if (isinstance(order, int) and view["orderId"] == order) or (
                isinstance(order, str) and view["orderKey"] == order
            ):
                return entry
        raise KeyError(f"No order {order!r} in the fake ShipStation")

    def order(self, order: int | str) -> dict[str, Any]:
        """The order (its wire view, a copy) by ``orderId`` or ``orderKey``."""
        with self._lock:
            return copy.deepcopy(self._entry(order)["view"])

    def orders_awaiting(self, store_id: int | None = None) -> list[dict[str, Any]]:
        """The orders the warehouse can ship (awaiting_shipment, pending_fulfillment), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(e["view"])
                for e in self.orders.values()
                if e["view"]["orderStatus"] in ("awaiting_shipment", "pending_fulfillment")
                and (store_id is None or e["view"]["advancedOptions"]["storeId"] == store_id)
            ]

    def _touch(self, entry: dict[str, Any]) -> None:
        now = self.clock()
        entry["modified"] = now
        entry["view"]["modifyDate"] = stamp(now)

    # --- createorder -------------------------------------------------------------------------------

    def validate(self, payload: Any) -> None:
        """The 400 ShipStation answers for an order it cannot take (missing or bad fields)."""
        if not isinstance(payload, dict):
            raise invalid({"apiOrder": ["The apiOrder field is required."]})
        errors: dict[str, list[str]] = {}
        for name in REQUIRED:
            if payload.get(name) in (None, ""):
                errors[f"apiOrder.{name}"] = [f"The {name} field is required."]
        status = payload.get("orderStatus")
        if status not in (None, "") and status not in STATUSES:
            errors["apiOrder.orderStatus"] = [
                f"The value '{status}' is not valid for orderStatus. Valid values: {', '.join(STATUSES)}."
            ]
        for name in _DATES:
            value = payload.get(name)
            if value in (None, "") or f"apiOrder.{name}" in errors:
                continue
            try:
                parse_local(str(value))
            except ValueError:
                errors[f"apiOrder.{name}"] = [f"Could not convert string to DateTime: {value}."]
        for name in ("billTo", "shipTo"):
            if payload.get(name) is not None and not isinstance(payload[name], dict):
                errors[f"apiOrder.{name}"] = [f"The {name} field must be an address."]
        items = payload.get("items")
        if items is not None and not isinstance(items, list):
            errors["apiOrder.items"] = ["The items field must be an array."]
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                errors[f"apiOrder.items[{index}]"] = ["An item must be an object."]
                continue
            quantity = item.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                errors[f"apiOrder.items[{index}].quantity"] = ["The quantity field must be a whole number."]
        store = (payload.get("advancedOptions") or {}).get("storeId")
        if store is not None and store not in self.stores:
            errors["apiOrder.advancedOptions.storeId"] = [f"Invalid storeId: {store}."]
        if errors:
            raise invalid(errors)

    def upsert(self, payload: Any, *, import_batch: str | None = None) -> tuple[dict[str, Any], bool]:
        """``createorder``: the order created or updated (a copy of its view) and whether it is new.
        ``ApiError`` (400) when the payload is invalid or the order can no longer be updated."""
        with self._lock:
            self.validate(payload)
            key = payload.get("orderKey")
            entry = None
            if key not in (None, ""):
                entry = next((e for e in self.orders.values() if e["view"]["orderKey"] == key), None)
            now = self.clock()
            if entry is not None:
                status = entry["view"]["orderStatus"]
                if status not in OPEN_STATUSES:
                    raise invalid(
                        {
                            "apiOrder.orderKey": [
                                f"The order with orderKey '{key}' is {status} and can no longer be updated."
                                f" Only open orders ({', '.join(OPEN_STATUSES)}) can be updated."
                            ]
                        }
                    )
                entry["view"] = self._view(payload, entry, now)
                entry["modified"] = now
                return copy.deepcopy(entry["view"]), False
            order_id = next(self._order_ids)
            entry = {
                "created": now,
                "modified": now,
                "import_batch": import_batch,
                "key": key if key not in (None, "") else str(uuid.uuid4()),
                "id": order_id,
                "view": {},
            }
            entry["view"] = self._view(payload, entry, now)
            self.orders[order_id] = entry
            return copy.deepcopy(entry["view"]), True

    def _view(
        self, payload: Mapping[str, Any], entry: Mapping[str, Any], now: datetime.datetime
    ) -> dict[str, Any]:
        """The order as ShipStation answers it, from the payload (the whole resource)."""
        old = entry["view"]
        items = self._items(payload.get("items") or [], old.get("items") or [], now)
        subtotal = [Decimal(str(i["unitPrice"] or 0)) * int(i["quantity"]) for i in items]
        status = payload["orderStatus"]
        computed: dict[str, Any] = {
            "orderKey": entry["key"],
            "orderId": entry["id"],
            "billTo": address(payload.get("billTo"), verified=False),
            "shipTo": address(payload.get("shipTo"), verified=True),
            "items": items,
            "weight": weight(payload.get("weight")),
            "advancedOptions": self._advanced(payload.get("advancedOptions")),
            "createDate": stamp(entry["created"]),
            "modifyDate": stamp(now),
            "orderTotal": _money(*subtotal, payload.get("taxAmount"), payload.get("shippingAmount")),
            "holdUntilDate": old.get("holdUntilDate") if status == "on_hold" else None,
            "shipDate": parse_day(payload["shipDate"]).isoformat() if payload.get("shipDate") else None,
        }
        for name in _DATES:
            value = payload.get(name)
            computed[name] = stamp(parse_local(str(value))) if value not in (None, "") else None
        view: dict[str, Any] = {}
        for key in ORDER_KEYS:
            if key in computed:
                view[key] = computed[key]
            elif key in payload and payload[key] is not None:
                view[key] = copy.deepcopy(payload[key])
            else:
                view[key] = copy.deepcopy(_DEFAULTS.get(key))
        return view

    def _advanced(self, given: Any) -> dict[str, Any]:
        given = given if isinstance(given, Mapping) else {}
        result = {key: copy.deepcopy(given.get(key, _ADVANCED_DEFAULTS.get(key))) for key in ADVANCED_KEYS}
        result["storeId"] = given.get("storeId") or self.default_store
        result["warehouseId"] = given.get("warehouseId") or self.warehouse_id
        for key, default in _ADVANCED_DEFAULTS.items():
            if result[key] is None:
                result[key] = copy.deepcopy(default)
        return result

    def _items(
        self, given: list[Mapping[str, Any]], old: list[Mapping[str, Any]], now: datetime.datetime
    ) -> list[dict[str, Any]]:
        by_key = {i["lineItemKey"]: i for i in old if i.get("lineItemKey")}
        by_sku = {i["sku"]: i for i in old if i.get("sku")}
        items = []
        for item in given:
            line_key = item.get("lineItemKey")
            previous = by_key.get(line_key) if line_key else by_sku.get(item.get("sku"))
            if previous is not None:  # one old item is matched once
                by_key.pop(previous.get("lineItemKey"), None)
                by_sku.pop(previous.get("sku"), None)
            view: dict[str, Any] = {}
            for key in ITEM_KEYS:
                if key == "weight":
                    view[key] = weight(item.get("weight"))
                elif key == "options":
                    view[key] = copy.deepcopy(item.get("options") or [])
                elif key == "adjustment":
                    view[key] = bool(item.get("adjustment", False))
                elif key == "orderItemId":
                    view[key] = previous["orderItemId"] if previous else next(self._item_ids)
                elif key == "createDate":
                    view[key] = previous["createDate"] if previous else item_stamp(now)
                elif key == "modifyDate":
                    view[key] = item_stamp(now)
                else:
                    view[key] = copy.deepcopy(item.get(key))
            items.append(view)
        return items

    # --- the other order endpoints -------------------------------------------------------------------

    def list_orders(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET /orders`` (see the module doc)."""
        query = lower_params(params)
        page, size = paging(query)
        bounds = {
            name: moment_param(query, name.lower(), name)
            for name in (
                "orderDateStart",
                "orderDateEnd",
                "createDateStart",
                "createDateEnd",
                "modifyDateStart",
                "modifyDateEnd",
            )
        }
        store = query.get("storeid")
        number = query.get("ordernumber", "").lower()
        sort = query.get("sortby", "").lower()
        if sort and sort not in _ORDER_SORTS:
            raise invalid({"sortBy": [f"The value '{query['sortby']}' is not valid for sortBy."]})
        found = []
        for entry in self.orders.values():
            view = entry["view"]
            order_date = parse_local(view["orderDate"]) if view["orderDate"] else None
            if (
                view["orderNumber"].lower().startswith(number)
                and query.get("orderstatus", view["orderStatus"]) == view["orderStatus"]
                and (store is None or str(view["advancedOptions"]["storeId"]) == store)
                and query.get("importbatch", entry["import_batch"]) == entry["import_batch"]
                and within(order_date, bounds["orderDateStart"], bounds["orderDateEnd"])
                and within(entry["created"], bounds["createDateStart"], bounds["createDateEnd"])
                and within(entry["modified"], bounds["modifyDateStart"], bounds["modifyDateEnd"])
            ):
                found.append(entry)
        if sort:
            field = _ORDER_SORTS[sort]

            def key(entry: dict[str, Any]) -> Any:
                if field == "orderDate":
                    return (entry["view"]["orderDate"] or "", entry["id"])
                return (entry[field], entry["id"])

            found.sort(key=key, reverse=query.get("sortdir", "ASC").upper() == "DESC")
        return listing("orders", [copy.deepcopy(e["view"]) for e in found], page, size)

    def get_order(self, order_id: int) -> dict[str, Any]:
        entry = self.orders.get(order_id)
        if entry is None:
            raise order_not_found(order_id)
        return copy.deepcopy(entry["view"])

    def delete_order(self, order_id: int) -> dict[str, Any]:
        """``DELETE /orders/{orderId}``: the order is gone from every list."""
        if self.orders.pop(order_id, None) is None:
            raise order_not_found(order_id)
        return {"success": True, "message": "The requested order has been deleted."}

    def _body_order(self, payload: Any) -> dict[str, Any]:
        """The order a body's ``orderId`` names (ShipStation: a 500 "Order not found." when unknown)."""
        order_id = payload.get("orderId") if isinstance(payload, dict) else None
        if not isinstance(order_id, int) or order_id not in self.orders:
            raise exception("Order not found.")
        return self.orders[order_id]

    def hold_until(self, payload: Any) -> dict[str, Any]:
        """``POST /orders/holduntil`` {orderId, holdUntilDate}: on_hold until that day."""
        entry = self._body_order(payload)
        when = payload.get("holdUntilDate")
        try:
            held = parse_day(str(when)).isoformat()
        except ValueError:
            raise invalid({"holdUntilDate": ["The holdUntilDate field is required."]}) from None
        if entry["view"]["orderStatus"] not in OPEN_STATUSES:
            raise invalid({"orderId": [f"The order is {entry['view']['orderStatus']} and cannot be held."]})
        entry["view"]["orderStatus"] = "on_hold"
        entry["view"]["holdUntilDate"] = held
        self._touch(entry)
        return {"success": True, "message": "Order held successfully."}

    def restore_from_hold(self, payload: Any) -> dict[str, Any]:
        """``POST /orders/restorefromhold`` {orderId}: back to awaiting_shipment."""
        entry = self._body_order(payload)
        if entry["view"]["orderStatus"] != "on_hold":
            raise invalid({"orderId": ["The order is not on hold."]})
        entry["view"]["orderStatus"] = "awaiting_shipment"
        entry["view"]["holdUntilDate"] = None
        self._touch(entry)
        return {"success": True, "message": "Order restored successfully."}

    def cancel_order(self, order: int | str) -> dict[str, Any]:
        """The merchant cancels an open order in ShipStation's UI (no webhook)."""
        with self._lock:
            entry = self._entry(order)
            if entry["view"]["orderStatus"] not in OPEN_STATUSES:
                raise ValueError(f"Order {order!r} is {entry['view']['orderStatus']}: it cannot be cancelled")
            entry["view"]["orderStatus"] = "cancelled"
            self._touch(entry)
            return copy.deepcopy(entry["view"])
