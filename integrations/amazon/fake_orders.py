"""The fake Amazon's orders and what buyers, Amazon and the merchant do to them (``OrderState``).

An order is kept in the fake's own shape (dates as datetimes, amounts as Decimals) and drawn in
Orders v0's shape by ``fake_orders_api``. Its prices are fixed at checkout and shown once
payment is authorised (a ``Pending`` order has no ``OrderTotal`` and its items no prices):

* ``ItemPrice`` is the line total (unit price x quantity), as Amazon does;
* ``PromotionDiscount`` (with ``promotion``) is 10 % of it, half-up; ``PromotionDiscountTax`` 0.00;
* ``ItemTax`` is 6 % of ``ItemPrice - PromotionDiscount``, half-up to the cent;
* shipping ("free", "standard" 5.99, "expedited" 14.99) is charged on the first item, taxed 6 %;
* gift wrap (``gift_wrap``) is 3.99 a line, taxed 6 %, and the items say ``IsGift "true"``;
* ``OrderTotal`` is the sum over items of price + tax + shipping + its tax + gift wrap + its tax
  - promotion - its tax - shipping discount - its tax, exact to the cent.

An MFN order takes the listing's MFN quantity at checkout (``OutOfStock`` when short); an AFN
order takes Amazon's FBA quantity. Cancelling gives the units back. Every change moves
``LastUpdateDate`` to the clock's now (to the second).
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import threading
from typing import Any

from integrations.amazon.fake_data import (
    GIFT_WRAP,
    PROMOTION_RATE,
    SHIPPING,
    ZERO,
    OutOfStock,
    cents,
    full_address,
    now_second,
    parse_iso,
    tax,
    unshipped,
)
from integrations.amazon.fake_orders_api import item_json, order_json
from integrations.fakes.clock import Clock

FULL = frozenset({"shippingAddress", "buyerInfo"})


class OrderState:
    """The orders and the controls that change them; mixed into ``FakeAmazon``. Holds ``_lock``."""

    clock: Clock
    _lock: threading.RLock
    listings: dict[str, dict[str, Any]]
    _orders: dict[str, dict[str, Any]]

    def reset_orders(self) -> None:
        self._orders = {}
        self._order_numbers = itertools.count(1)
        self._item_ids = itertools.count(40123456789012)
        self._fba_tracking = itertools.count(1)

    def _new_order_id(self) -> str:
        n = next(self._order_numbers)
        return f"113-{(4567890 + n * 1013) % 10**7:07d}-{(1234567 + n * 7919) % 10**7:07d}"

    def _order(self, order_id: str) -> dict[str, Any]:
        try:
            return self._orders[order_id]
        except KeyError:
            raise KeyError(f"no order {order_id}") from None

    def _view(self, order: dict[str, Any]) -> dict[str, Any]:
        return order_json(order, FULL)

    def order(self, order_id: str) -> dict[str, Any]:
        """The order as ``getOrder`` draws it for a restricted-data token (``KeyError``: no such order)."""
        with self._lock:
            return self._view(self._order(order_id))

    def order_items(self, order_id: str) -> list[dict[str, Any]]:
        """The order's items as ``getOrderItems`` draws them (every page)."""
        with self._lock:
            order = self._order(order_id)
            return [item_json(order, item) for item in order["items"]]

    def orders(self) -> list[dict[str, Any]]:
        """Every order, as ``order()``, oldest first."""
        with self._lock:
            return [self._view(order) for order in self._orders.values()]

    def _touch(self, order: dict[str, Any]) -> None:
        order["updated"] = now_second(self.clock)

    # --- buyers -------------------------------------------------------------------------------

    def place_order(
        self,
        lines: list[tuple[str, int]],
        *,
        fulfillment_channel: str = "MFN",
        pending: bool = True,
        promotion: bool = False,
        gift_wrap: bool = False,
        shipping: str = "free",
        at: datetime.datetime | None = None,
    ) -> dict[str, Any]:
        """A buyer checks out ``lines`` ([(sku, quantity)]); the new order, as ``order()`` draws it.

        MFN takes the listings' MFN quantity at once, AFN Amazon's FBA quantity; ``OutOfStock``
        when it is short (nothing is taken). ``pending``: payment not yet authorised (status
        ``Pending``, no prices shown); else ``Unshipped``. ``at``: the purchase date (default now).
        """
        if fulfillment_channel not in ("MFN", "AFN"):
            raise ValueError("fulfillment_channel is MFN or AFN")
        if shipping not in SHIPPING:
            raise ValueError(f"shipping is one of {', '.join(SHIPPING)}")
        if not lines:
            raise ValueError("an order needs at least one line")
        with self._lock:
            wanted: dict[str, int] = {}
            for sku, quantity in lines:
                if sku not in self.listings:
                    raise KeyError(f"no listing {sku}")
                if int(quantity) < 1:
                    raise ValueError("a line's quantity is at least 1")
                wanted[sku] = wanted.get(sku, 0) + int(quantity)
            stock_key = "afn" if fulfillment_channel == "AFN" else "mfn"
            for sku, quantity in wanted.items():
                have = self.listings[sku][stock_key]
                if have is None:
                    raise OutOfStock(f"{sku} is not fulfilled by Amazon")
                if have < quantity:
                    raise OutOfStock(f"{sku}: {quantity} asked, {have} available")
            for sku, quantity in wanted.items():
                self.listings[sku][stock_key] -= quantity
            moment = (at or self.clock()).astimezone(datetime.UTC).replace(microsecond=0)
            order_id = self._new_order_id()
            number = len(self._orders)
            order: dict[str, Any] = {
                "id": order_id,
                "purchase": moment,
                "updated": moment,
                "status": "Pending" if pending else "Unshipped",
                "paid": not pending,
                "channel": fulfillment_channel,
                "shipping": shipping,
                "gift": gift_wrap,
                "promotion": promotion,
                "email": hashlib.sha1(order_id.encode()).hexdigest()[:16] + "@marketplace.amazon.com",
                "address": full_address(number),
                "items": [
                    self._item(sku, int(q), i, shipping, promotion, gift_wrap)
                    for i, (sku, q) in enumerate(lines)
                ],
                "packages": [],
                "cancel_reason": None,
            }
            self._orders[order_id] = order
            return self._view(order)

    def _item(
        self, sku: str, quantity: int, index: int, shipping: str, promotion: bool, gift: bool
    ) -> dict[str, Any]:
        listing = self.listings[sku]
        price = cents(listing["price"] * quantity)
        promo = cents(price * PROMOTION_RATE) if promotion else ZERO
        ship = SHIPPING[shipping][0] if index == 0 else ZERO
        wrap = GIFT_WRAP if gift else ZERO
        return {
            "id": str(next(self._item_ids)),
            "sku": sku,
            "asin": listing["asin"],
            "title": listing["title"],
            "qty": quantity,
            "shipped": 0,
            "price": price,
            "tax": tax(price - promo),
            "ship": ship,
            "ship_tax": tax(ship),
            "ship_discount": ZERO,
            "ship_discount_tax": ZERO,
            "promo": promo,
            "promo_tax": ZERO,
            "gift": wrap,
            "gift_tax": tax(wrap),
        }

    def load_order(self, order: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
        """A recorded order (``getOrder``'s payload and ``getOrderItems``' ``OrderItems``, e.g. the
        shared samples) that the API serves as it was recorded, in getOrders' window of its
        ``LastUpdateDate`` like any other; no control changes it, and no snapshot shows it."""
        with self._lock:
            order_id = str(order["AmazonOrderId"])
            purchase = parse_iso(str(order["PurchaseDate"]))
            self._orders[order_id] = {
                "id": order_id,
                "purchase": purchase,
                "updated": parse_iso(str(order.get("LastUpdateDate") or order["PurchaseDate"])),
                "status": str(order["OrderStatus"]),
                "paid": "OrderTotal" in order,
                "channel": str(order.get("FulfillmentChannel") or "MFN"),
                "items": [dict(item) for item in items],
                "recorded": dict(order),
            }
            return self._view(self._orders[order_id])

    def authorize_payment(self, order_id: str) -> dict[str, Any]:
        """Amazon authorises the buyer's payment: ``Pending`` -> ``Unshipped``, prices appear."""
        with self._lock:
            order = self._order(order_id)
            if order["status"] != "Pending":
                raise ValueError(f"order {order_id} is {order['status']}, not Pending")
            order["status"], order["paid"] = "Unshipped", True
            self._touch(order)
            return self._view(order)

    def cancel_order(self, order_id: str, reason: str = "BuyerCanceled") -> dict[str, Any]:
        """The buyer (or Amazon) cancels a ``Pending`` or ``Unshipped`` order; its units go back
        to the listing (MFN) or Amazon's warehouse (AFN). Refused once anything shipped."""
        with self._lock:
            order = self._order(order_id)
            if order["status"] not in ("Pending", "Unshipped"):
                raise ValueError(f"order {order_id} is {order['status']}: it cannot be cancelled")
            key = "afn" if order["channel"] == "AFN" else "mfn"
            for item in order["items"]:
                self.listings[item["sku"]][key] += item["qty"]
            order["status"], order["cancel_reason"] = "Canceled", reason
            self._touch(order)
            return self._view(order)

    # --- shipping -----------------------------------------------------------------------------

    def check_shipment(self, order: dict[str, Any], quantities: dict[str, int]) -> str | None:
        """Why ``quantities`` ({order item id: units}) cannot ship now; None when they can."""
        if order["channel"] == "AFN":
            return f"Order {order['id']} is fulfilled by Amazon; its shipments cannot be confirmed."
        if order["status"] in ("Canceled", "Pending"):
            return f"Order {order['id']} is {order['status']}; its shipment cannot be confirmed."
        if not quantities:
            return "orderItems must list at least one order item."
        items = {item["id"]: item for item in order["items"]}
        for item_id, quantity in quantities.items():
            if item_id not in items:
                return f"orderItemId {item_id} is not an item of order {order['id']}."
            if quantity < 1:
                return f"The quantity of orderItemId {item_id} must be at least 1."
            if quantity > unshipped(items[item_id]):
                left = unshipped(items[item_id])
                return f"The quantity {quantity} of orderItemId {item_id} exceeds the {left} unshipped."
        return None

    def apply_shipment(
        self, order: dict[str, Any], quantities: dict[str, int], package: dict[str, Any]
    ) -> None:
        """Ship ``quantities`` (checked already): the items, the status, the package kept."""
        for item in order["items"]:
            item["shipped"] += quantities.get(item["id"], 0)
        done = all(unshipped(item) == 0 for item in order["items"])
        order["status"] = "Shipped" if done else "PartiallyShipped"
        order["packages"].append(package)
        self._touch(order)

    def ship_in_seller_central(
        self,
        order_id: str,
        *,
        tracking: str = "1Z999AA10123456784",
        carrier: str = "UPS",
        lines: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """The merchant confirms an MFN shipment by hand in Seller Central (as confirmShipment):
        ``lines`` ({sku: units}; default every unshipped unit)."""
        with self._lock:
            order = self._order(order_id)
            quantities: dict[str, int] = {}
            for item in order["items"]:
                if lines is None:
                    units = unshipped(item)
                else:
                    units = min(int(lines.get(item["sku"], 0)), unshipped(item))
                if units:
                    quantities[item["id"]] = units
            problem = self.check_shipment(order, quantities)
            if problem:
                raise ValueError(problem)
            package = {
                "packageReferenceId": f"SC-{len(order['packages']) + 1}",
                "carrierCode": carrier,
                "carrierName": carrier,
                "shippingMethod": "Ground",
                "trackingNumber": tracking,
                "shipDate": now_second(self.clock).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "orderItems": [{"orderItemId": k, "quantity": v} for k, v in quantities.items()],
                "via": "SellerCentral",
            }
            self.apply_shipment(order, quantities, package)
            return self._view(order)

    def ship_fba(self, order_id: str) -> dict[str, Any]:
        """Amazon ships an AFN order from its warehouse: every unit shipped, status ``Shipped``."""
        with self._lock:
            order = self._order(order_id)
            if order["channel"] != "AFN":
                raise ValueError(f"order {order_id} is not fulfilled by Amazon")
            if order["status"] not in ("Unshipped", "PartiallyShipped"):
                raise ValueError(f"order {order_id} is {order['status']}: Amazon cannot ship it")
            quantities = {item["id"]: unshipped(item) for item in order["items"] if unshipped(item)}
            package = {
                "packageReferenceId": f"FBA-{len(order['packages']) + 1}",
                "carrierCode": "AMZN_US",
                "carrierName": "Amazon Logistics",
                "shippingMethod": "Standard",
                "trackingNumber": f"TBA{300000000000 + next(self._fba_tracking)}",
                "shipDate": now_second(self.clock).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "orderItems": [{"orderItemId": k, "quantity": v} for k, v in quantities.items()],
                "via": "FBA",
            }
            self.apply_shipment(order, quantities, package)
            return self._view(order)
