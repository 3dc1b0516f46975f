"""The fake Shopify's shop: its state in memory and what happens in it (no HTTP here).

``ShopState`` holds the shop, its location, products with variants and inventory
items, inventory levels, orders with their fulfilment orders, and webhook
subscriptions, and changes them as Shopify would (an order commits stock, a cancel
restocks). ``integrations.shopify.fake.FakeShopify`` puts the Admin API in front of it.

Every change a webhook topic reports calls ``_emit(topic, payload)`` (a no-op here;
``fake_webhooks.WebhookSender`` queues a delivery for each subscription of the topic).
A taxes-included shop (``taxes_included = True``) prices its new orders with the tax in.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from integrations.shopify import fake_data
from integrations.shopify.fake_data import LOCATION_ID, SHOP_ID, sample

TIMEZONE = "America/New_York"


class _Problem(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _not_found() -> _Problem:
    return _Problem(404, sample("rest_error_404.json"))


def _invalid(field_name: str, message: str, status: int = 422) -> _Problem:
    return _Problem(status, {"errors": {field_name: [message]}})


def _int(value: Any, field_name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid(field_name, "is not a number") from None


def _parse_time(value: str, field_name: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(field_name, "is invalid", 400) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _gid_id(value: Any) -> int | None:
    try:
        return int(str(value).rsplit("/", 1)[-1])
    except ValueError:
        return None


class ShopState:
    """The shop's data and its business rules. Subclasses give it an API; every access holds ``_lock``."""

    shop_domain: str
    api_version: str
    clock: Callable[[], datetime.datetime]
    tz: datetime.tzinfo
    _lock: threading.RLock
    _ids: itertools.count[int]
    _taxes_included: bool = False

    def reset_state(self, *, seed: bool = True) -> None:
        """Forget the shop's data and (by default) load the seed shop again."""
        with self._lock:
            self.shop: dict[str, Any] = fake_data.seed_shop(TIMEZONE)
            self.shop.update(
                domain=self.shop_domain,
                myshopify_domain=self.shop_domain,
                taxes_included=self._taxes_included,
            )
            self.locations: dict[int, dict[str, Any]] = {}
            self.products: dict[int, dict[str, Any]] = {}
            self.levels: dict[tuple[int, int], dict[str, Any]] = {}
            self.orders: dict[int, dict[str, Any]] = {}
            self.fulfillment_orders: dict[int, dict[str, Any]] = {}
            self.webhooks: dict[int, dict[str, Any]] = {}
            # The shipping emails Shopify sent the customer: a request with "notify_customer": true
            # (a fulfilment created, its tracking updated), in order.
            self.customer_notifications: list[dict[str, Any]] = []
            self._next_number = 1043
            if seed:
                self.locations[LOCATION_ID] = fake_data.seed_location()
                for product in fake_data.seed_products():
                    self.products[product["id"]] = product
                    for variant in product["variants"]:
                        self._set_level(
                            variant["inventory_item_id"], LOCATION_ID, variant["inventory_quantity"]
                        )
                self._add_order(fake_data.seed_order())

    @property
    def taxes_included(self) -> bool:
        """The shop's "All prices include tax" setting: new orders carry their tax in their prices."""
        return bool(self.shop.get("taxes_included"))

    @taxes_included.setter
    def taxes_included(self, value: bool) -> None:
        with self._lock:
            self._taxes_included = bool(value)
            self.shop["taxes_included"] = bool(value)

    def _emit(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Something a webhook topic reports happened (the sender queues its deliveries)."""

    def _refund_on_cancel(self, order: dict[str, Any], *, restock: bool) -> dict[str, Any] | None:
        """The refund a cancel makes of a paid order (``fake_orders.OrderChanges``); None: none."""
        return None

    def _emit_order(self, order: Mapping[str, Any], *topics: str) -> None:
        for topic in topics:
            self._emit(topic, order)

    def _new_id(self) -> int:
        return next(self._ids)

    def _now(self) -> str:
        return fake_data.timestamp(self.clock(), self.tz)

    def variants(self) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
        for product in self.products.values():
            for variant in product["variants"]:
                yield product, variant

    def variant_by_sku(self, sku: str) -> dict[str, Any]:
        with self._lock:
            for _, variant in self.variants():
                if variant["sku"] == sku:
                    return copy.deepcopy(variant)
        raise KeyError(sku)

    def _find_variant(self, variant_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        for product, variant in self.variants():
            if variant["id"] == variant_id:
                return product, variant
        raise _not_found()

    def _inventory_item_ids(self) -> set[int]:
        return {variant["inventory_item_id"] for _, variant in self.variants()}

    def _set_level(self, inventory_item_id: int, location_id: int, available: int) -> dict[str, Any]:
        level = self.levels.setdefault(
            (inventory_item_id, location_id),
            {
                "inventory_item_id": inventory_item_id,
                "location_id": location_id,
                "admin_graphql_api_id": (
                    f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={inventory_item_id}"
                ),
            },
        )
        level["available"] = available
        level["updated_at"] = self._now()
        for _, variant in self.variants():
            if variant["inventory_item_id"] == inventory_item_id:
                total = sum(
                    lv["available"] or 0 for (item, _), lv in self.levels.items() if item == inventory_item_id
                )
                variant["inventory_quantity"] = variant["old_inventory_quantity"] = total
        self._emit("inventory_levels/update", dict(level))
        return level

    def _item_of(self, sku_or_item: str | int) -> int:
        if isinstance(sku_or_item, int):
            return sku_or_item
        return int(self.variant_by_sku(sku_or_item)["inventory_item_id"])

    def available(self, sku_or_inventory_item_id: str | int, location_id: int = LOCATION_ID) -> int | None:
        """The available quantity of a SKU (or inventory item) at a location; None: not stocked there."""
        with self._lock:
            level = self.levels.get((self._item_of(sku_or_inventory_item_id), location_id))
            return None if level is None else level["available"]

    def set_available(
        self, sku_or_inventory_item_id: str | int, quantity: int, location_id: int = LOCATION_ID
    ) -> None:
        """Change a level behind the hub's back (drift, or a sale in the shop's own admin)."""
        with self._lock:
            self._set_level(self._item_of(sku_or_inventory_item_id), location_id, quantity)

    def update_product(
        self, product_id: int, *, updated_at: datetime.datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change top-level fields of a product in the admin (title, body_html, tags…): products/update."""
        with self._lock:
            product = self.products[product_id]
            product.update(copy.deepcopy(fields))
            product["updated_at"] = fake_data.timestamp(updated_at or self.clock(), self.tz)
            self._emit("products/update", product)
            return copy.deepcopy(product)

    # --- orders ---------------------------------------------------------------------------

    def _add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        self.orders[order["id"]] = order
        fo_id = self._new_id()
        fo_lines = []
        for line in order["line_items"]:
            inventory_item_id = None
            if line.get("variant_id"):
                try:
                    inventory_item_id = self._find_variant(line["variant_id"])[1]["inventory_item_id"]
                except _Problem:
                    inventory_item_id = None
            fo_lines.append(
                {
                    "id": self._new_id(),
                    "shop_id": SHOP_ID,
                    "fulfillment_order_id": fo_id,
                    "quantity": line["quantity"],
                    "line_item_id": line["id"],
                    "inventory_item_id": inventory_item_id,
                    "fulfillable_quantity": line["fulfillable_quantity"],
                    "variant_id": line.get("variant_id"),
                }
            )
        location = self.locations.get(LOCATION_ID) or fake_data.seed_location()
        self.fulfillment_orders[fo_id] = {
            "id": fo_id,
            "shop_id": SHOP_ID,
            "order_id": order["id"],
            "assigned_location_id": location["id"],
            "request_status": "unsubmitted",
            "status": "open",
            "supported_actions": ["create_fulfillment", "move", "hold"],
            "destination": copy.deepcopy(order.get("shipping_address")),
            "line_items": fo_lines,
            "fulfill_at": order["created_at"],
            "fulfill_by": None,
            "international_duties": None,
            "fulfillment_holds": [],
            "delivery_method": {"id": self._new_id(), "method_type": "shipping"},
            "assigned_location": {
                k: location.get(k)
                for k in ("address1", "address2", "city", "country_code", "name", "phone", "province", "zip")
            }
            | {"location_id": location["id"]},
            "merchant_requests": [],
            "created_at": order["created_at"],
            "updated_at": order["created_at"],
        }
        return order

    def order(self, order_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.orders[order_id])

    def create_order(
        self,
        lines: Sequence[tuple[str, int]] | None = None,
        *,
        customer: Mapping[str, Any] | None = None,
        email: str = "jane.buyer@example.com",
        shipping_price: Decimal | str = "9.95",
        tax_rate: Decimal | str = "0.06",
        discount: Decimal | str = "0",
        discount_code: str = "SPRING10",
        financial_status: str = "paid",
        note: str | None = None,
        tags: str = "",
        created_at: datetime.datetime | None = None,
        taxes_included: bool | None = None,
    ) -> dict[str, Any]:
        """A new order from the catalogue (``lines`` = [(sku, quantity)]), as a shopper would place it.

        Without ``lines`` it sells one unit of the next variant in turn. Like Shopify, it
        commits the stock: each variant's available quantity at the location goes down.
        Prices include tax when the shop's ``taxes_included`` says so (or this call's).
        Returns the order's JSON (a copy), ``created_at`` = ``updated_at`` = now.
        Webhooks: orders/create, orders/paid (a paid order), orders/updated.
        """
        with self._lock:
            catalogue = list(self.variants())
            if lines is None:
                _, variant = catalogue[(self._next_number - 1043) % len(catalogue)]
                lines = [(variant["sku"], 1)]
            resolved: list[tuple[Mapping[str, Any], Mapping[str, Any], int]] = []
            for sku, quantity in lines:
                match = next(((p, v) for p, v in catalogue if v["sku"] == sku), None)
                if match is None:
                    raise KeyError(f"No variant with SKU {sku!r} in the fake shop")
                resolved.append((match[0], match[1], int(quantity)))
            number = self._next_number
            self._next_number += 1
            moment = fake_data.timestamp(created_at or self.clock(), self.tz)
            order = fake_data.build_order(
                order_id=self._new_id(),
                number=number,
                line_item_ids=[self._new_id() for _ in resolved],
                lines=resolved,
                created_at=moment,
                customer=customer,
                email=email,
                shipping_price=Decimal(shipping_price),
                tax_rate=Decimal(tax_rate),
                discount=Decimal(discount),
                discount_code=discount_code,
                financial_status=financial_status,
                note=note,
                tags=tags,
                taxes_included=self.taxes_included if taxes_included is None else taxes_included,
            )
            for _, sold, quantity in resolved:
                current = self.available(sold["inventory_item_id"]) or 0
                self._set_level(sold["inventory_item_id"], LOCATION_ID, current - quantity)
            self._add_order(order)
            paid = ("orders/paid",) if financial_status == "paid" else ()
            self._emit_order(order, "orders/create", *paid, "orders/updated")
            return copy.deepcopy(order)

    def update_order(
        self, order_id: int, *, updated_at: datetime.datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change top-level fields of an order (note, tags, financial_status…); updated_at = now or given.

        Webhooks: orders/updated.
        """
        with self._lock:
            order = self.orders[order_id]
            order.update(copy.deepcopy(fields))
            order["updated_at"] = fake_data.timestamp(updated_at or self.clock(), self.tz)
            self._emit_order(order, "orders/updated")
            return copy.deepcopy(order)

    def cancel_order(
        self, order_id: int, *, reason: str = "customer", restock: bool = True
    ) -> dict[str, Any]:
        """Cancel an order as the shop admin would: stock back, fulfilment orders closed, and a
        paid order refunded (a refund of its unfulfilled units, restock_type ``cancel``, paying
        back what is left of its total).

        Webhooks: refunds/create (a paid order), orders/cancelled, orders/updated.
        """
        with self._lock:
            order = self.orders[order_id]
            paid = order.get("financial_status") in ("paid", "partially_refunded")
            refund = self._refund_on_cancel(order, restock=restock) if paid else None
            now = self._now()
            order.update(
                cancelled_at=now,
                cancel_reason=reason,
                closed_at=now,
                updated_at=now,
                financial_status="refunded" if paid else "voided",
            )
            for line in order["line_items"]:
                line["fulfillable_quantity"] = 0
            for fo in self.fulfillment_orders.values():
                if fo["order_id"] == order_id and fo["status"] in ("open", "in_progress"):
                    fo.update(status="closed", updated_at=now)
                    for fo_line in fo["line_items"]:
                        if restock and fo_line["inventory_item_id"] and fo_line["fulfillable_quantity"]:
                            current = self.available(fo_line["inventory_item_id"]) or 0
                            self._set_level(
                                fo_line["inventory_item_id"],
                                LOCATION_ID,
                                current + fo_line["fulfillable_quantity"],
                            )
                        fo_line["fulfillable_quantity"] = 0
            if refund is not None:
                self._emit("refunds/create", refund)
            self._emit_order(order, "orders/cancelled", "orders/updated")
            return copy.deepcopy(order)
