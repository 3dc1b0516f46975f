"""The fake Amazon's Orders API v0 (``OrdersApi``): orders drawn in the shapes of
``get_orders_response.json``, ``get_order_response.json`` and ``get_order_items_response.json``.

* ``getOrders``: ``MarketplaceIds`` (required), exactly one of ``CreatedAfter`` /
  ``LastUpdatedAfter``, optional ``CreatedBefore`` / ``LastUpdatedBefore`` (with their own
  kind), ``OrderStatuses``, ``FulfillmentChannels``, ``MaxResultsPerPage`` (1-100, default 100).
  Dates must be no later than two minutes before now. The window ends at now - 2 min (or the
  Before date), fixed when the first page is asked; orders in [After, end] come sorted by
  ``LastUpdateDate`` then ``AmazonOrderId``; ``NextToken`` (opaque) carries the filters, the end
  and the last order seen, so pages neither repeat nor skip an order that did not change.
* ``getOrder``, ``getOrderAddress``, ``getOrderBuyerInfo``; ``getOrderItems`` 20 items a page.
* ``confirmShipment``: 204, or 400 InvalidInput saying why.

Without a restricted-data token the shipping address is City, StateOrRegion, PostalCode,
CountryCode only and BuyerInfo the anonymised BuyerEmail; ``reveal`` (the data elements the
request's RDT grants) shows the rest.
"""

from __future__ import annotations

import copy
import datetime
import threading
from typing import Any

from integrations.amazon.fake_data import (
    MARKETPLACE_ID,
    ORDER_STATUSES,
    SALES_CHANNEL,
    SHIPPING,
    invalid_input,
    iso,
    money,
    not_found,
    now_second,
    order_total,
    parse_iso,
    redacted_address,
    unshipped,
)
from integrations.fakes.clock import Clock
from integrations.fakes.pagination import BadCursor, decode_cursor, encode_cursor

ITEMS_PER_PAGE = 20
TWO_MINUTES = datetime.timedelta(minutes=2)


def _at(day: datetime.datetime, days: int, hour: int, minute: int = 0, second: int = 0) -> str:
    moment = (day + datetime.timedelta(days=days)).replace(hour=hour, minute=minute, second=second)
    return iso(moment)


def order_json(order: dict[str, Any], reveal: frozenset[str] = frozenset()) -> dict[str, Any]:
    """An order as Orders v0 draws it (``reveal``: ``shippingAddress`` / ``buyerInfo`` in full); a
    recorded one (``OrderState.load_order``) as it was recorded."""
    if "recorded" in order:
        return copy.deepcopy(order["recorded"])
    _, level, category = SHIPPING[order["shipping"]]
    purchase: datetime.datetime = order["purchase"]
    afn = order["channel"] == "AFN"
    body: dict[str, Any] = {
        "AmazonOrderId": order["id"],
        "SellerOrderId": order["id"],
        "PurchaseDate": iso(purchase),
        "LastUpdateDate": iso(order["updated"]),
        "OrderStatus": order["status"],
        "FulfillmentChannel": order["channel"],
        "SalesChannel": SALES_CHANNEL,
        "ShipServiceLevel": level,
    }
    if order["paid"]:
        body["OrderTotal"] = money(order_total(order))
    shipped = sum(int(item["shipped"]) for item in order["items"])
    body.update(
        {
            "NumberOfItemsShipped": shipped,
            "NumberOfItemsUnshipped": (
                0 if order["status"] == "Canceled" else sum(unshipped(i) for i in order["items"])
            ),
            "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"],
            "MarketplaceId": MARKETPLACE_ID,
            "ShipmentServiceLevelCategory": category,
            "OrderType": "StandardOrder",
            "EarliestShipDate": _at(purchase, 1, 7),
            "LatestShipDate": _at(purchase, 3, 6, 59, 59),
            "EarliestDeliveryDate": _at(purchase, 5, 7),
            "LatestDeliveryDate": _at(purchase, 10, 6, 59, 59),
            "IsBusinessOrder": False,
            "IsPrime": afn,
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsIBA": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
            "ShippingAddress": address_json(order, reveal),
            "BuyerInfo": buyer_json(order, reveal),
            "AutomatedShippingSettings": {"HasAutomatedShippingSettings": False},
            "HasRegulatedItems": False,
        }
    )
    return body


def address_json(order: dict[str, Any], reveal: frozenset[str]) -> dict[str, str]:
    address: dict[str, str] = order["address"]
    return dict(address) if "shippingAddress" in reveal else redacted_address(address)


def buyer_json(order: dict[str, Any], reveal: frozenset[str]) -> dict[str, str]:
    if "buyerInfo" in reveal:
        return {"BuyerEmail": order["email"], "BuyerName": order["address"]["Name"]}
    return {"BuyerEmail": order["email"]}


def item_json(order: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """An order item as ``getOrderItems`` draws it (no prices while the order is Pending); a
    recorded order's item as it was recorded."""
    if "recorded" in order:
        return copy.deepcopy(item)
    body: dict[str, Any] = {
        "ASIN": item["asin"],
        "SellerSKU": item["sku"],
        "OrderItemId": item["id"],
        "Title": item["title"],
        "QuantityOrdered": item["qty"],
        "QuantityShipped": item["shipped"],
        "ProductInfo": {"NumberOfItems": "1"},
    }
    if order["paid"]:
        body.update(
            {
                "ItemPrice": money(item["price"]),
                "ItemTax": money(item["tax"]),
                "ShippingPrice": money(item["ship"]),
                "ShippingTax": money(item["ship_tax"]),
                "ShippingDiscount": money(item["ship_discount"]),
                "ShippingDiscountTax": money(item["ship_discount_tax"]),
                "PromotionDiscount": money(item["promo"]),
                "PromotionDiscountTax": money(item["promo_tax"]),
            }
        )
        if order["gift"]:
            body["GiftWrapPrice"] = money(item["gift"])
            body["GiftWrapTax"] = money(item["gift_tax"])
    body.update(
        {
            "PromotionIds": ["PLM-SPRING10-A1B2C3"] if order["promotion"] else [],
            "IsGift": "true" if order["gift"] else "false",
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
            "TaxCollection": {"Model": "MarketplaceFacilitator", "ResponsibleParty": "Amazon Services, Inc."},
            "BuyerRequestedCancel": {
                "IsBuyerRequestedCancel": "true" if order["cancel_reason"] == "BuyerCanceled" else "false",
                "BuyerCancelReason": order["cancel_reason"] or "",
            },
        }
    )
    return body


def _date(params: dict[str, str], name: str, latest: datetime.datetime) -> datetime.datetime | None:
    text = params.get(name)
    if not text:
        return None
    try:
        value = parse_iso(text)
    except ValueError:
        raise invalid_input(f"{name} '{text}' is not a valid ISO 8601 date.") from None
    if value > latest:
        raise invalid_input(f"{name} must be no later than two minutes before the time of the request.")
    return value


def _list(params: dict[str, str], name: str, allowed: tuple[str, ...]) -> list[str]:
    values = [v for v in params.get(name, "").split(",") if v]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise invalid_input(f"{name} has invalid values: {', '.join(unknown)}.")
    return values


class OrdersApi:
    """Orders v0 over the fake's orders; mixed into ``FakeAmazon``. Holds ``_lock``."""

    clock: Clock
    _lock: threading.RLock
    _orders: dict[str, dict[str, Any]]
    # How long after a change getOrders shows it (Amazon: two minutes; a day run faster, shorter).
    orders_lag: datetime.timedelta = TWO_MINUTES

    check_shipment: Any
    apply_shipment: Any

    def _api_order(self, order_id: str) -> dict[str, Any]:
        order = self._orders.get(order_id)
        if order is None:
            raise not_found(f"Order {order_id} not found.")
        return order

    def list_orders(self, params: dict[str, str], reveal: frozenset[str]) -> dict[str, Any]:
        """``getOrders`` (see the module doc)."""
        ids = [m for m in params.get("MarketplaceIds", "").split(",") if m]
        if not ids:
            raise invalid_input("MarketplaceIds is required.")
        if any(m != MARKETPLACE_ID for m in ids):
            raise invalid_input(f"Invalid MarketplaceIds: {params['MarketplaceIds']}.")
        if params.get("NextToken"):
            try:
                cursor = decode_cursor(params["NextToken"], required=("k", "a", "e", "s", "f", "n", "l"))
            except BadCursor:
                raise invalid_input("Invalid NextToken.") from None
        else:
            cursor = self._first_cursor(params)
        kind = cursor["k"]
        after, end = parse_iso(cursor["a"]), parse_iso(cursor["e"])
        field = "purchase" if kind == "Created" else "updated"
        chosen = [
            o
            for o in self._orders.values()
            if after <= o[field] <= end
            and (not cursor["s"] or o["status"] in cursor["s"])
            and (not cursor["f"] or o["channel"] in cursor["f"])
        ]
        chosen.sort(key=lambda o: (iso(o["updated"]), o["id"]))
        last = cursor["l"]
        if last:
            chosen = [o for o in chosen if [iso(o["updated"]), o["id"]] > last]
        page = chosen[: cursor["n"]]
        payload: dict[str, Any] = {"Orders": [order_json(o, reveal) for o in page]}
        if len(chosen) > len(page):
            payload["NextToken"] = encode_cursor({**cursor, "l": [iso(page[-1]["updated"]), page[-1]["id"]]})
        payload[f"{kind}Before"] = iso(end)
        return {"payload": payload}

    def _first_cursor(self, params: dict[str, str]) -> dict[str, Any]:
        latest = now_second(self.clock) - self.orders_lag
        created = _date(params, "CreatedAfter", latest)
        updated = _date(params, "LastUpdatedAfter", latest)
        if (created is None) == (updated is None):
            raise invalid_input("Exactly one of CreatedAfter and LastUpdatedAfter must be specified.")
        kind = "Created" if created is not None else "LastUpdated"
        other = "LastUpdated" if kind == "Created" else "Created"
        if params.get(f"{other}Before"):
            raise invalid_input(f"{other}Before cannot be used with {kind}After.")
        before = _date(params, f"{kind}Before", latest)
        after = created or updated
        assert after is not None
        end = before or latest
        if end < after:
            raise invalid_input(f"{kind}Before must be later than {kind}After.")
        size_text = params.get("MaxResultsPerPage", "100")
        try:
            size = int(size_text)
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            raise invalid_input("MaxResultsPerPage must be a whole number from 1 to 100.")
        return {
            "k": kind,
            "a": iso(after),
            "e": iso(end),
            "s": _list(params, "OrderStatuses", ORDER_STATUSES),
            "f": _list(params, "FulfillmentChannels", ("MFN", "AFN")),
            "n": size,
            "l": None,
        }

    def get_order(self, order_id: str, reveal: frozenset[str]) -> dict[str, Any]:
        return {"payload": order_json(self._api_order(order_id), reveal)}

    def get_order_address(self, order_id: str, reveal: frozenset[str]) -> dict[str, Any]:
        order = self._api_order(order_id)
        return {"payload": {"AmazonOrderId": order_id, "ShippingAddress": address_json(order, reveal)}}

    def get_order_buyer_info(self, order_id: str, reveal: frozenset[str]) -> dict[str, Any]:
        order = self._api_order(order_id)
        return {"payload": {"AmazonOrderId": order_id, **buyer_json(order, reveal)}}

    def get_order_items(self, order_id: str, params: dict[str, str]) -> dict[str, Any]:
        """``getOrderItems``: 20 items a page, ``NextToken`` for the rest."""
        order = self._api_order(order_id)
        start = 0
        if params.get("NextToken"):
            try:
                cursor = decode_cursor(params["NextToken"], required=("o", "p"))
            except BadCursor:
                raise invalid_input("Invalid NextToken.") from None
            if cursor["o"] != order_id or not isinstance(cursor["p"], int):
                raise invalid_input("Invalid NextToken.")
            start = cursor["p"]
        items = order["items"][start : start + ITEMS_PER_PAGE]
        payload: dict[str, Any] = {
            "AmazonOrderId": order_id,
            "OrderItems": [item_json(order, item) for item in items],
        }
        if start + ITEMS_PER_PAGE < len(order["items"]):
            payload["NextToken"] = encode_cursor({"o": order_id, "p": start + ITEMS_PER_PAGE})
        return {"payload": payload}

    def confirm_shipment(self, order_id: str, body: Any) -> None:
        """``confirmShipment``: ship the package's units, or 400 InvalidInput saying why not."""
        order = self._api_order(order_id)
        if not isinstance(body, dict):
            raise invalid_input("The request body must be a JSON object.")
        if body.get("marketplaceId") != MARKETPLACE_ID:
            raise invalid_input("marketplaceId is missing or invalid.")
        detail = body.get("packageDetail")
        if not isinstance(detail, dict):
            raise invalid_input("packageDetail is required.")
        missing = [
            name
            for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems")
            if not detail.get(name)
        ]
        if missing:
            raise invalid_input(f"packageDetail is missing required fields: {', '.join(missing)}.")
        reference = detail["packageReferenceId"]
        if isinstance(reference, bool) or not str(reference).isdigit() or int(str(reference)) <= 0:
            raise invalid_input("PackageReferenceId: is invalid, must be a positive numeric value.")
        try:
            parse_iso(str(detail["shipDate"]))
        except ValueError:
            raise invalid_input("shipDate is not a valid ISO 8601 date.") from None
        quantities: dict[str, int] = {}
        lines = detail["orderItems"]
        if not isinstance(lines, list):
            raise invalid_input("orderItems must be a list.")
        for line in lines:
            if not isinstance(line, dict) or not line.get("orderItemId"):
                raise invalid_input("Each of orderItems needs an orderItemId and a quantity.")
            quantity = line.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int):
                raise invalid_input(f"The quantity of orderItemId {line['orderItemId']} must be an integer.")
            key = str(line["orderItemId"])
            quantities[key] = quantities.get(key, 0) + quantity
        same = next(
            (
                p
                for p in order["packages"]
                if p.get("via") == "confirmShipment" and str(p.get("packageReferenceId")) == str(reference)
            ),
            None,
        )
        if same is not None:
            # The same package again (a retry whose answer was lost): Amazon updates that package,
            # it does not ship its units a second time.
            if {i["orderItemId"]: i["quantity"] for i in same["orderItems"]} != quantities:
                raise invalid_input(f"Package {reference} was confirmed with other items.")
            same.update(
                {k: detail.get(k) for k in ("carrierCode", "carrierName", "shippingMethod", "trackingNumber")}
            )
            return
        problem = self.check_shipment(order, quantities)
        if problem:
            raise invalid_input(problem)
        package = {
            key: detail.get(key)
            for key in (
                "packageReferenceId",
                "carrierCode",
                "carrierName",
                "shippingMethod",
                "trackingNumber",
            )
        }
        package.update(
            {
                "shipDate": detail["shipDate"],
                "orderItems": [{"orderItemId": k, "quantity": v} for k, v in quantities.items()],
                "via": "confirmShipment",
            }
        )
        self.apply_shipment(order, quantities, package)
