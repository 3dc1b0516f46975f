"""The fake BigCommerce store's data and its inventory rules (``StoreState``).

The store (``store_hash``, ``store_id``, USD), its inventory locations (1 "Default location",
2 "East warehouse"), the catalogue (products with variants and SKUs; a product's stock is
tracked per variant, or by the product itself for the mug, which BigCommerce refuses to
adjust by variant), the stock of each variant at each location (on hand, safety stock;
available to sell = on hand - safety stock) and the orders (``fake_orders`` changes them).

Errors are raised as ``Problem`` (status, body, content type), the API answers them as they are:
V2 errors are an array ``[{"status", "message"}]``, V3 errors are problem details.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from integrations.bigcommerce import fake_data
from integrations.bigcommerce.fake_data import DEFAULT_LOCATION_ID, PROBLEM_TYPE

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error answer: ``status``, its JSON ``body`` and its content type."""

    def __init__(self, status: int, body: Any, content_type: str = "application/json") -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.content_type = content_type


def v2_error(status: int, message: str) -> Problem:
    """BigCommerce V2's error body: an array of ``{"status", "message"}``."""
    return Problem(status, [{"status": status, "message": message}])


def v3_error(status: int, title: str, errors: Mapping[str, str] | None = None) -> Problem:
    """BigCommerce V3's problem details."""
    body = {"status": status, "title": title, "type": PROBLEM_TYPE, "errors": dict(errors or {})}
    return Problem(status, body, PROBLEM_JSON)


class OutOfStock(ValueError):
    """A shopper asked for more than the store sells (backorders off): the checkout refuses it."""


class StoreState:
    """The store's data and rules; subclasses give it orders, webhooks and an API. Holds ``_lock``."""

    store_hash: str
    store_id: str
    clock: Callable[[], datetime.datetime]
    _lock: threading.RLock

    def reset_state(self, *, seed: bool = True) -> None:
        """Forget the store's data and (by default) load the seed store again."""
        with self._lock:
            self.locations: dict[int, dict[str, Any]] = {}
            self.products: dict[int, dict[str, Any]] = {}
            self.variants: dict[int, dict[str, Any]] = {}
            # (variant id, location id) -> {"onhand", "safety_stock", "warning_level", "bin_picking_number"}
            self.inventory: dict[tuple[int, int], dict[str, Any]] = {}
            self.orders: dict[int, dict[str, Any]] = {}
            self.hooks: dict[int, dict[str, Any]] = {}
            self.transactions: list[dict[str, Any]] = []
            # Backorders (selling beyond stock) are off by default: the storefront refuses the
            # quantity; ``allow_backorders = True`` lets available_to_sell go below zero.
            self.allow_backorders = False
            self._order_ids = itertools.count(fake_data.SEED_ORDER_ID + 1)
            self._line_ids = itertools.count(403)
            self._address_ids = itertools.count(152)
            self._shipment_ids = itertools.count(1)
            self._refund_ids = itertools.count(1)
            self._hook_ids = itertools.count(20172984)
            if seed:
                self._seed()

    def _seed(self) -> None:
        for location in fake_data.LOCATIONS:
            self.locations[location["id"]] = dict(location)
        for product in fake_data.seed_catalogue():
            self.products[product["id"]] = {
                "id": product["id"],
                "name": product["name"],
                "inventory_tracking": product["inventory_tracking"],
                "variant_ids": [entry["variant"]["id"] for entry in product["variants"]],
                "date_created": fake_data.CATALOGUE_DATE,
                "date_modified": fake_data.CATALOGUE_DATE,
            }
            for entry in product["variants"]:
                variant = entry["variant"]
                self.variants[variant["id"]] = variant
                for location_id, quantity in entry["stock"].items():
                    self.inventory[(variant["id"], location_id)] = {
                        "onhand": quantity,
                        "safety_stock": 0,
                        "warning_level": variant.get("inventory_warning_level") or 0,
                        "bin_picking_number": variant.get("bin_picking_number") or "",
                    }
        order, products, addresses = fake_data.seed_order()
        self.orders[order["id"]] = {
            "order": order,
            "products": products,
            "addresses": addresses,
            "shipments": [],
            "refunds": [],
            "archived": False,
            "location_id": DEFAULT_LOCATION_ID,
            "restocked": False,
        }

    # --- webhooks (the sender queues them; see fake_webhooks) ----------------------------------

    def _emit(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Something a webhook scope reports happened."""

    def _event(self, scope: str, data: Mapping[str, Any]) -> None:
        """A thin event of ``scope`` about ``data`` (the sender adds the envelope and the hash)."""
        self._emit(scope, {"scope": scope, "data": dict(data)})

    # --- catalogue -------------------------------------------------------------------------------

    def variant_by_sku(self, sku: str) -> dict[str, Any]:
        with self._lock:
            for variant in self.variants.values():
                if variant["sku"] == sku:
                    return variant
        raise KeyError(f"No variant with SKU {sku!r} in the fake store")

    def _product_of(self, variant: Mapping[str, Any]) -> dict[str, Any]:
        return self.products[variant["product_id"]]

    def variant_view(self, variant: Mapping[str, Any]) -> dict[str, Any]:
        """A variant as V3 catalog shows it (``inventory_level``: on hand over every location)."""
        view = copy.deepcopy(dict(variant))
        view["inventory_level"] = sum(
            level["onhand"] for (vid, _), level in self.inventory.items() if vid == variant["id"]
        )
        return view

    def product_view(self, product: Mapping[str, Any], *, variants: bool = False) -> dict[str, Any]:
        """A product as V3 catalog shows it (``GET /v3/catalog/products``); ``variants``: with
        ``include=variants``. Its price is its base variant's; ``inventory_level`` is on hand
        over every variant and location."""
        views = [self.variant_view(self.variants[vid]) for vid in product["variant_ids"]]
        base = views[0] if views else {}
        view: dict[str, Any] = {
            "id": product["id"],
            "name": product["name"],
            "type": "physical",
            "sku": base.get("sku", "") if len(views) == 1 else "",
            "description": "",
            "weight": base.get("weight") or 0,
            "width": base.get("width") or 0,
            "depth": base.get("depth") or 0,
            "height": base.get("height") or 0,
            "price": base.get("price") or 0,
            "cost_price": base.get("cost_price") or 0,
            "retail_price": 0,
            "sale_price": 0,
            "map_price": 0,
            "tax_class_id": 0,
            "categories": [23],
            "brand_id": 0,
            "inventory_level": sum(v["inventory_level"] for v in views),
            "inventory_warning_level": 0,
            "inventory_tracking": product["inventory_tracking"],
            "is_free_shipping": False,
            "is_visible": True,
            "is_featured": False,
            "upc": "",
            "availability": "available",
            "condition": "New",
            "base_variant_id": base.get("id"),
            "date_created": product["date_created"],
            "date_modified": product["date_modified"],
            "custom_url": {
                "url": "/" + "-".join(product["name"].lower().split()) + "/",
                "is_customized": False,
            },
        }
        if variants:
            view["variants"] = views
        return view

    # --- stock -----------------------------------------------------------------------------------

    def _level(self, variant_id: int, location_id: int) -> dict[str, Any]:
        return self.inventory.setdefault(
            (variant_id, location_id),
            {"onhand": 0, "safety_stock": 0, "warning_level": 0, "bin_picking_number": ""},
        )

    def stock(self, sku: str, location_id: int = DEFAULT_LOCATION_ID) -> int:
        """The on-hand quantity of ``sku`` at a location (0 when never stocked there)."""
        with self._lock:
            level = self.inventory.get((self.variant_by_sku(sku)["id"], location_id))
            return 0 if level is None else int(level["onhand"])

    def available_to_sell(self, sku: str, location_id: int = DEFAULT_LOCATION_ID) -> int:
        with self._lock:
            level = self.inventory.get((self.variant_by_sku(sku)["id"], location_id))
            return 0 if level is None else int(level["onhand"]) - int(level["safety_stock"])

    def set_stock(self, sku: str, location_id: int, quantity: int) -> None:
        """The merchant sets the stock in BigCommerce's admin (drift): store/sku/inventory/updated."""
        with self._lock:
            if location_id not in self.locations:
                raise KeyError(f"No location {location_id} in the fake store")
            self._adjust(self.variant_by_sku(sku), location_id, int(quantity), "absolute", order=False)

    def set_safety_stock(self, sku: str, location_id: int, quantity: int) -> None:
        """The location's safety stock of a SKU (available to sell = on hand - safety stock)."""
        with self._lock:
            self._level(self.variant_by_sku(sku)["id"], location_id)["safety_stock"] = int(quantity)

    def _adjust(
        self, variant: Mapping[str, Any], location_id: int, value: int, method: str, *, order: bool
    ) -> None:
        """Change one variant's stock at one location (``method`` absolute or relative) and send the
        inventory webhooks BigCommerce sends for it (``order``: the change came from an order)."""
        level = self._level(variant["id"], location_id)
        level["onhand"] = value if method == "absolute" else level["onhand"] + value
        suffix = "inventory/order/updated" if order else "inventory/updated"
        inventory = {"product_id": variant["product_id"], "method": method, "value": value}
        self._event(
            f"store/product/{suffix}",
            {"type": "product", "id": variant["product_id"], "inventory": inventory},
        )
        self._event(
            f"store/sku/{suffix}",
            {"type": "sku", "id": variant["sku_id"], "inventory": inventory | {"variant_id": variant["id"]}},
        )

    def inventory_item(
        self, variant: Mapping[str, Any], location_ids: Iterable[int] | None = None
    ) -> dict[str, Any]:
        """One item of ``GET /v3/inventory/items``: its identity and its locations."""
        wanted = set(location_ids) if location_ids is not None else None
        locations = []
        for location_id, location in sorted(self.locations.items()):
            if wanted is not None and location_id not in wanted:
                continue
            level = self.inventory.get((variant["id"], location_id))
            if level is None:
                continue
            available = int(level["onhand"]) - int(level["safety_stock"])
            locations.append(
                {
                    "location_id": location_id,
                    "location_code": location["code"],
                    "location_name": location["label"],
                    "available_to_sell": available,
                    "total_inventory_onhand": int(level["onhand"]),
                    "location_enabled": location["enabled"],
                    "settings": {
                        "safety_stock": int(level["safety_stock"]),
                        "is_in_stock": available > 0,
                        "warning_level": int(level["warning_level"]),
                        "bin_picking_number": level["bin_picking_number"],
                    },
                }
            )
        return {
            "identity": {
                "sku": variant["sku"],
                "variant_id": variant["id"],
                "product_id": variant["product_id"],
                "sku_id": variant["sku_id"],
            },
            "locations": locations,
        }

    def adjust_inventory(self, payload: Any, method: str) -> dict[str, Any]:
        """``PUT /v3/inventory/adjustments/absolute`` or ``POST .../relative``: all items or none.

        Each item names a ``location_id`` and its ``variant_id``, ``sku`` or ``product_id``.
        BigCommerce refuses (422 problem details, nothing applied) an unknown location or item,
        a variant of a product tracked by product (adjust that one by ``product_id``) and a
        ``product_id`` of a product tracked by variant.
        """
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("items"), list)
            or not payload["items"]
        ):
            raise v3_error(422, "JSON data is missing or invalid", {"items": "error.path.missing"})
        resolved: list[tuple[dict[str, Any], int, int]] = []
        problems: list[str] = []
        for item in payload["items"]:
            if not isinstance(item, dict) or not isinstance(item.get("quantity"), int):
                raise v3_error(422, "JSON data is missing or invalid", {"quantity": "error.path.invalid"})
            location_id = item.get("location_id")
            if location_id not in self.locations:
                problems.append(f"Location with id {location_id} does not exist")
                continue
            variant, problem = self._adjusted_item(item)
            if variant is None:
                problems.append(problem)
                continue
            if method == "absolute" and item["quantity"] < 0:
                problems.append(f"Quantity for item with sku {variant['sku']} can not be negative")
                continue
            resolved.append((variant, int(location_id), int(item["quantity"])))
        if problems:
            raise v3_error(422, "[" + ", ".join(problems) + "]")
        for variant, location_id, quantity in resolved:
            self._adjust(variant, location_id, quantity, method, order=False)
        transaction = {"transaction_id": str(uuid.uuid4())}
        self.transactions.append(
            {**transaction, "method": method, "reason": payload.get("reason"), "items": payload["items"]}
        )
        return transaction

    def _adjusted_item(self, item: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
        if "variant_id" in item or "sku" in item:
            key = "variant_id" if "variant_id" in item else "sku"
            variant = next(
                (v for v in self.variants.values() if v["id" if key == "variant_id" else "sku"] == item[key]),
                None,
            )
            if variant is None:
                return None, f"Item with {key} {item[key]} does not exist"
            if self._product_of(variant)["inventory_tracking"] == "product":
                return (
                    None,
                    f"Item with {key} {item[key]} is tracked by product, please update stock by product id",
                )
            return variant, ""
        if "product_id" in item:
            product = self.products.get(item["product_id"])
            if product is None:
                return None, f"Item with product_id {item['product_id']} does not exist"
            if product["inventory_tracking"] != "product":
                return None, (
                    f"Item with product_id {item['product_id']} is tracked by variant, "
                    "please update stock by variant id or sku"
                )
            return self.variants[product["variant_ids"][0]], ""
        return None, "Item must have one of variant_id, sku or product_id"
