"""Orders in the fake BigCommerce store, changed as a shopper or the merchant changes them.

Each change sends the thin webhooks BigCommerce sends for it, several in a burst:

* ``create_order`` (a shopper's checkout): store/order/created, store/order/statusUpdated
  (0 Incomplete -> the new status), store/order/updated, and per line the stock it took:
  store/product/inventory/order/updated and store/sku/inventory/order/updated. Stock is taken
  from the order's location when the order is placed (BigCommerce's default
  ``update_stock_behavior = order_placed``); more than is available is refused unless
  ``allow_backorders``;
* ``update_status``: store/order/statusUpdated {previous_status_id, new_status_id} and
  store/order/updated. Cancelled (5) or Declined (6) puts the unshipped units back in stock;
* ``ship_order`` (shipped in BigCommerce's admin) and ``POST /v2/orders/{id}/shipments``:
  store/shipment/created, then the status (2 Shipped, or 3 Partially Shipped while units remain)
  with store/order/statusUpdated and store/order/updated;
* ``PUT /v2/orders/{id}/shipments/{shipment_id}`` (``retrack_shipment`` in the admin): the
  shipment's tracking, carrier, address or comments; store/shipment/updated (the order stays);
* ``refund_order``: store/order/refund/created, the status (4 Refunded when the whole total is
  paid back, else 14 Partially Refunded), ``refunded_amount`` and the products'
  ``quantity_refunded`` / ``refund_amount`` / ``is_refunded``; ``restock`` puts the units back;
* ``archive_order``: store/order/archived (the order leaves ``GET /v2/orders``).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from integrations.bigcommerce import fake_data
from integrations.bigcommerce.fake_data import (
    CANCELLED,
    DECLINED,
    DEFAULT_LOCATION_ID,
    INCOMPLETE,
    PARTIALLY_REFUNDED,
    PARTIALLY_SHIPPED,
    REFUNDED,
    SHIPPED,
    STATUSES,
    cents,
    money,
    rfc2822,
)
from integrations.bigcommerce.fake_state import OutOfStock, StoreState, v2_error

_RESTOCKING = (CANCELLED, DECLINED)
# orderShipment_Put's text fields (BigCommerce's V2 "Update a Shipment")
_SHIPMENT_TEXT = (
    "tracking_number",
    "merchant_shipping_cost",
    "shipping_method",
    "shipping_provider",
    "tracking_carrier",
    "tracking_link",
    "comments",
)


class OrderChanges(StoreState):
    """Orders placed, moved through statuses, shipped, refunded, cancelled and archived."""

    def base_url(self) -> str:
        return f"https://{fake_data.API_HOST}/stores/{self.store_hash}"

    def _entry(self, order_id: int) -> dict[str, Any]:
        entry = self.orders.get(int(order_id))
        if entry is None:
            raise KeyError(f"No order {order_id} in the fake store")
        return entry

    def order(self, order_id: int) -> dict[str, Any]:
        """The V2 order (a copy)."""
        with self._lock:
            return copy.deepcopy(self._entry(order_id)["order"])

    def order_products(self, order_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._entry(order_id)["products"])

    def refunds(self, order_id: int) -> list[dict[str, Any]]:
        """The order's refunds as ``GET /v3/orders/{id}/payment_actions/refunds`` lists them."""
        with self._lock:
            return [refund_view(r) for r in self._entry(order_id)["refunds"]]

    def _touch(self, entry: dict[str, Any]) -> None:
        entry["order"]["date_modified"] = rfc2822(self.clock())

    def _order_event(self, order_id: int, *scopes: str) -> None:
        for scope in scopes:
            self._event(scope, {"type": "order", "id": order_id})

    # --- a shopper's checkout ----------------------------------------------------------------------

    def create_order(
        self,
        lines: Sequence[tuple[str, int]],
        *,
        status_id: int = fake_data.AWAITING_FULFILLMENT,
        location_id: int = DEFAULT_LOCATION_ID,
        customer: Mapping[str, Any] | None = None,
        customer_id: int = 58,
        shipping: Decimal | str = "9.95",
        tax_rate: Decimal | str = "0.06",
        discount: Decimal | str = "0",
        coupon: str = "SPRING10",
        created_at: datetime.datetime | None = None,
    ) -> dict[str, Any]:
        """A new order of ``lines`` ([(sku, quantity)]) as a shopper places it; returns the V2 order."""
        with self._lock:
            if status_id not in STATUSES:
                raise ValueError(f"Unknown status id {status_id}")
            resolved: list[dict[str, Any]] = []
            for sku, quantity in lines:
                variant = self.variant_by_sku(sku)
                resolved.append(
                    {"product": self._product_of(variant), "variant": variant, "quantity": int(quantity)}
                )
            takes_stock = status_id != INCOMPLETE
            if takes_stock and not self.allow_backorders:
                wanted: dict[str, int] = {}
                for line in resolved:
                    wanted[line["variant"]["sku"]] = wanted.get(line["variant"]["sku"], 0) + line["quantity"]
                for sku, quantity in wanted.items():
                    available = self.available_to_sell(sku, location_id)
                    if quantity > available:
                        raise OutOfStock(f"Only {available} of {sku} available to sell; {quantity} asked")
            order_id = next(self._order_ids)
            order, products, address = fake_data.build_order(
                order_id=order_id,
                base_url=self.base_url(),
                created=created_at or self.clock(),
                lines=resolved,
                product_ids=[next(self._line_ids) for _ in resolved],
                address_id=next(self._address_ids),
                customer_id=customer_id,
                address={**fake_data.DEFAULT_CUSTOMER, **(customer or {})},
                shipping=Decimal(shipping),
                tax_rate=Decimal(tax_rate),
                discount=Decimal(discount),
                coupon=coupon,
                status_id=status_id,
            )
            self.orders[order_id] = {
                "order": order,
                "products": products,
                "addresses": [address],
                "shipments": [],
                "refunds": [],
                "archived": False,
                "location_id": location_id,
                "restocked": not takes_stock,
            }
            self._event("store/order/created", {"type": "order", "id": order_id})
            self._event(
                "store/order/statusUpdated",
                {
                    "type": "order",
                    "id": order_id,
                    "status": {"previous_status_id": INCOMPLETE, "new_status_id": status_id},
                },
            )
            self._event("store/order/updated", {"type": "order", "id": order_id})
            if takes_stock:
                for line in resolved:
                    self._adjust(line["variant"], location_id, -line["quantity"], "relative", order=True)
            return copy.deepcopy(order)

    # --- the merchant's admin --------------------------------------------------------------------------

    def edit_order(
        self,
        order_id: int,
        *,
        customer_message: str | None = None,
        staff_notes: str | None = None,
        at: datetime.datetime | None = None,
    ) -> bool:
        """The merchant edits an order's notes in BigCommerce's admin: ``date_modified`` moves to
        ``at`` (default now) and store/order/updated is sent. An edit dated before what the store
        already shows is not applied (False): a late copy of an older change."""
        with self._lock:
            entry = self._entry(order_id)
            order = entry["order"]
            moment = at or self.clock()
            if at is not None and at.replace(microsecond=0) <= fake_data.parse_date(order["date_modified"]):
                return False
            if customer_message is not None:
                order["customer_message"] = customer_message
            if staff_notes is not None:
                order["staff_notes"] = staff_notes
            order["date_modified"] = rfc2822(moment)
            self._order_event(order["id"], "store/order/updated")
            return True

    def _set_status(self, entry: dict[str, Any], status_id: int) -> None:
        order = entry["order"]
        previous = order["status_id"]
        order.update(status_id=status_id, status=STATUSES[status_id], custom_status=STATUSES[status_id])
        self._touch(entry)
        if status_id in _RESTOCKING and not entry["restocked"]:
            entry["restocked"] = True
            returned = entry.setdefault("returned", {})
            for product in entry["products"]:
                units = product["quantity"] - product["quantity_shipped"] - returned.get(product["id"], 0)
                if units > 0 and product.get("variant_id") in self.variants:
                    variant = self.variants[product["variant_id"]]
                    self._adjust(variant, entry["location_id"], units, "relative", order=True)
        if previous != status_id:
            self._event(
                "store/order/statusUpdated",
                {
                    "type": "order",
                    "id": order["id"],
                    "status": {"previous_status_id": previous, "new_status_id": status_id},
                },
            )
        self._order_event(order["id"], "store/order/updated")

    def update_status(self, order_id: int, status_id: int) -> dict[str, Any]:
        """The merchant sets an order's status (``PUT /v2/orders/{id}`` does the same)."""
        with self._lock:
            if status_id not in STATUSES:
                raise v2_error(400, "The field 'status_id' is invalid.")
            entry = self._entry(order_id)
            self._set_status(entry, status_id)
            return copy.deepcopy(entry["order"])

    def cancel_order(self, order_id: int) -> dict[str, Any]:
        """The merchant cancels an order (status 5; unshipped units back in stock)."""
        return self.update_status(order_id, CANCELLED)

    def archive_order(self, order_id: int) -> None:
        """The merchant archives an order (``DELETE /v2/orders/{id}``): store/order/archived."""
        with self._lock:
            entry = self._entry(order_id)
            entry["archived"] = True
            entry["order"]["is_deleted"] = True
            self._touch(entry)
            self._order_event(order_id, "store/order/archived")

    # --- shipments -------------------------------------------------------------------------------------

    def ship_order(
        self,
        order_id: int,
        lines: Mapping[str, int] | None = None,
        *,
        tracking_number: str = "",
        carrier: str = "usps",
        comments: str = "",
    ) -> dict[str, Any]:
        """The merchant ships ``lines`` ({sku: quantity}; default every unit not shipped nor refunded)
        in the admin."""
        with self._lock:
            entry = self._entry(order_id)
            items = []
            for product in entry["products"]:
                remaining = product["quantity"] - product["quantity_shipped"]
                # by default what the customer still has: units refunded before they shipped stay
                kept = remaining - max(0, product["quantity_refunded"] - product["quantity_shipped"])
                asked = max(0, kept) if lines is None else int(lines.get(product["sku"], 0))
                quantity = min(asked, remaining)
                if quantity > 0:
                    items.append({"order_product_id": product["id"], "quantity": quantity})
            request = {
                "order_address_id": entry["addresses"][0]["id"],
                "tracking_number": tracking_number,
                "shipping_provider": carrier,
                "tracking_carrier": carrier,
                "comments": comments,
                "items": items,
            }
            return self.create_shipment(order_id, request)

    def create_shipment(self, order_id: int, request: Any) -> dict[str, Any]:
        """``POST /v2/orders/{id}/shipments``: a 400 V2 error for a bad address or line."""
        entry = self.orders.get(int(order_id))
        if entry is None or entry["archived"]:
            raise v2_error(404, "The requested resource was not found.")
        if not isinstance(request, dict):
            raise v2_error(400, "The request body is invalid.")
        addresses = {a["id"]: a for a in entry["addresses"]}
        if request.get("order_address_id") not in addresses:
            raise v2_error(400, "The field 'order_address_id' is invalid.")
        items = request.get("items")
        if not isinstance(items, list) or not items:
            raise v2_error(400, "The field 'items' is invalid.")
        if entry["order"]["status_id"] in (CANCELLED, DECLINED, REFUNDED):
            raise v2_error(400, "The order cannot be shipped in its current status.")
        products = {p["id"]: p for p in entry["products"]}
        shipping: dict[int, int] = {}
        for item in items:
            product = products.get(item.get("order_product_id")) if isinstance(item, dict) else None
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if product is None:
                raise v2_error(400, "The field 'order_product_id' is invalid.")
            if not isinstance(quantity, int) or quantity <= 0:
                raise v2_error(400, "The field 'quantity' is invalid.")
            shipping[product["id"]] = shipping.get(product["id"], 0) + quantity
            if shipping[product["id"]] > product["quantity"] - product["quantity_shipped"]:
                raise v2_error(
                    400,
                    f"The quantity for order product {product['id']} exceeds the quantity not yet shipped.",
                )
        now = rfc2822(self.clock())
        address = addresses[request["order_address_id"]]
        for product_id, quantity in shipping.items():
            products[product_id]["quantity_shipped"] += quantity
        shipped = sum(p["quantity_shipped"] for p in entry["products"])
        order = entry["order"]
        order.update(items_shipped=shipped, date_shipped=now)
        address["items_shipped"] = sum(
            p["quantity_shipped"] for p in entry["products"] if p.get("order_address_id") == address["id"]
        )
        shipment = {
            "id": next(self._shipment_ids),
            "order_id": order["id"],
            "customer_id": order["customer_id"],
            "order_address_id": address["id"],
            "date_created": now,
            "tracking_number": str(request.get("tracking_number") or ""),
            "merchant_shipping_cost": "0.0000",
            "shipping_method": str(request.get("shipping_method") or address.get("shipping_method") or ""),
            "comments": str(request.get("comments") or ""),
            "shipping_provider": str(request.get("shipping_provider") or ""),
            "tracking_carrier": str(request.get("tracking_carrier") or ""),
            "tracking_link": "",
            "billing_address": copy.deepcopy(order["billing_address"]),
            "shipping_address": {k: v for k, v in address.items() if k not in ("shipping_quotes",)},
            "items": [
                {"order_product_id": pid, "product_id": products[pid]["product_id"], "quantity": qty}
                for pid, qty in shipping.items()
            ],
        }
        entry["shipments"].append(shipment)
        self._event(
            "store/shipment/created", {"type": "shipment", "id": shipment["id"], "orderId": order["id"]}
        )
        status = SHIPPED if shipped >= order["items_total"] else PARTIALLY_SHIPPED
        self._set_status(entry, status)
        return copy.deepcopy(shipment)

    def update_shipment(self, order_id: int, shipment_id: int, request: Any) -> dict[str, Any]:
        """``PUT /v2/orders/{id}/shipments/{shipment_id}`` (and the admin's edit of a shipment): the
        fields given replace the shipment's (``orderShipment_Put``: order_address_id,
        tracking_number, merchant_shipping_cost, shipping_method, shipping_provider,
        tracking_carrier, tracking_link, comments); its items, the products' shipped quantities
        and the order's status stay. store/shipment/updated. 404 for an unknown shipment, 400 for
        a bad field."""
        entry = self.orders.get(int(order_id))
        if entry is None or entry["archived"]:
            raise v2_error(404, "The requested resource was not found.")
        shipment = next((s for s in entry["shipments"] if s["id"] == int(shipment_id)), None)
        if shipment is None:
            raise v2_error(404, "The requested resource was not found.")
        if not isinstance(request, dict):
            raise v2_error(400, "The request body is invalid.")
        changes: dict[str, Any] = {}
        for name in _SHIPMENT_TEXT:
            if name in request:
                if not isinstance(request[name], str):
                    raise v2_error(400, f"The field '{name}' is invalid.")
                changes[name] = request[name]
        if "order_address_id" in request:
            addresses = {a["id"]: a for a in entry["addresses"]}
            if request["order_address_id"] not in addresses:
                raise v2_error(400, "The field 'order_address_id' is invalid.")
            address = addresses[request["order_address_id"]]
            changes["order_address_id"] = address["id"]
            changes["shipping_address"] = {k: v for k, v in address.items() if k != "shipping_quotes"}
        shipment.update(changes)
        self._event(
            "store/shipment/updated",
            {"type": "shipment", "id": shipment["id"], "orderId": entry["order"]["id"]},
        )
        return copy.deepcopy(shipment)

    def retrack_shipment(
        self, order_id: int, shipment_id: int, *, tracking_number: str, carrier: str = "usps"
    ) -> dict[str, Any]:
        """The merchant corrects a shipment's tracking in the admin (a new label)."""
        with self._lock:
            request = {
                "tracking_number": tracking_number,
                "shipping_provider": carrier,
                "tracking_carrier": carrier,
            }
            return self.update_shipment(order_id, shipment_id, request)

    # --- refunds ---------------------------------------------------------------------------------------

    def refund_order(
        self,
        order_id: int,
        lines: Mapping[str, int] | None = None,
        *,
        amount: Decimal | str | None = None,
        restock: bool = False,
        reason: str = "",
    ) -> dict[str, Any]:
        """The merchant refunds ``lines`` ({sku: quantity}; default everything not yet refunded).

        ``amount`` defaults to the lines' price with tax (everything left of the total when
        the whole order is refunded). The order's status becomes Refunded (4) once its whole
        total is paid back, else Partially Refunded (14). ``restock`` puts the units back
        at the order's location.
        """
        with self._lock:
            entry = self._entry(order_id)
            order = entry["order"]
            refunded_before = Decimal(order["refunded_amount"])
            total = Decimal(order["total_inc_tax"])
            items = []
            value = Decimal(0)
            for product in entry["products"]:
                left = product["quantity"] - product["quantity_refunded"]
                quantity = left if lines is None else min(int(lines.get(product["sku"], 0)), left)
                if quantity <= 0:
                    continue
                items.append((product, quantity))
                value += Decimal(product["price_inc_tax"]) * quantity
            if amount is not None:
                value = Decimal(amount)
            elif lines is None:
                value = total - refunded_before
            value = min(value, total - refunded_before)
            if not items and value <= 0:
                raise ValueError(f"Nothing left to refund on order {order_id}")
            refund_id = next(self._refund_ids)
            refund_items: list[dict[str, Any]] = [
                {
                    "item_type": "PRODUCT",
                    "item_id": p["id"],
                    "reason": reason,
                    "quantity": q,
                    "requested_amount": float(cents(Decimal(p["price_inc_tax"]) * q)),
                    "sku": p["sku"],
                }
                for p, q in items
            ]
            if not items:  # an amount on the whole order, no goods
                refund_items.append(
                    {
                        "item_type": "ORDER",
                        "item_id": order["id"],
                        "reason": reason,
                        "requested_amount": float(cents(value)),
                    }
                )
            refund = {
                "id": refund_id,
                "order_id": order["id"],
                "user_id": 0,
                "created": self.clock().astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reason": reason,
                "total_amount": float(cents(value)),
                "total_tax": float(sum((cents(Decimal(p["price_tax"]) * q) for p, q in items), Decimal(0))),
                "items": refund_items,
                "payments": [
                    {
                        "id": refund_id,
                        "provider_id": "storecredit" if not order.get("payment_provider_id") else "braintree",
                        "amount": float(cents(value)),
                        "offline": False,
                        "is_declined": False,
                        "declined_message": "",
                    }
                ],
                "restocked": bool(restock),
                # units restocked that had shipped: goods that came back (the rest never left)
                "returned": {},
            }
            returned_before = entry.setdefault("returned", {})
            for product, quantity in items:
                product["quantity_refunded"] += quantity
                product["refund_amount"] = money(
                    Decimal(product["refund_amount"]) + Decimal(product["price_inc_tax"]) * quantity
                )
                product["is_refunded"] = product["quantity_refunded"] >= product["quantity"]
                if restock:
                    came_back = min(
                        quantity, product["quantity_shipped"] - returned_before.get(product["id"], 0)
                    )
                    if came_back > 0:
                        refund["returned"][product["sku"]] = (
                            refund["returned"].get(product["sku"], 0) + came_back
                        )
                if restock and product.get("variant_id") in self.variants:
                    returned = entry.setdefault("returned", {})
                    returned[product["id"]] = returned.get(product["id"], 0) + quantity
                    variant = self.variants[product["variant_id"]]
                    self._adjust(variant, entry["location_id"], quantity, "relative", order=True)
            refunded = refunded_before + value
            order["refunded_amount"] = money(refunded)
            order["payment_status"] = "refunded" if refunded >= total else "partially refunded"
            entry["refunds"].append(refund)
            self._event("store/order/refund/created", {"type": "order", "id": order["id"]})
            self._set_status(entry, REFUNDED if refunded >= total else PARTIALLY_REFUNDED)
            return copy.deepcopy(refund)


_INTERNAL_REFUND_KEYS = ("restocked", "returned")


def refund_view(refund: Mapping[str, Any]) -> dict[str, Any]:
    """A refund as V3 shows it (what the fake keeps for its snapshot left out)."""
    view = {k: copy.deepcopy(v) for k, v in refund.items() if k not in _INTERNAL_REFUND_KEYS}
    view["items"] = [{k: v for k, v in item.items() if k != "sku"} for item in refund["items"]]
    return view
