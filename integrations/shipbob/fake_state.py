"""The fake ShipBob's account: channels, fulfilment centres, products, stock and new orders.

Stock is kept per inventory item per fulfilment centre (``on_hand``); what is committed is read off
the shipments (the ``quantity_committed`` of their inventory items), so it can never drift from
them: fulfillable = on_hand - committed (never below 0), awaiting = what open receiving orders
still expect there (``fake_receiving``), backordered = what out-of-stock shipments lack.

A new order (``create_order``, ``POST /2026-01/order``) is checked as ShipBob checks it (400 for
missing fields, 422 for a repeated ``reference_id`` in the channel, an unknown SKU without a name,
an inactive product), then gets one shipment at the first fulfilment centre that can fulfil all of
it ("Processing", its units committed there). When no centre can, the shipment is an
"Exception" (OutOfStock) that commits nothing, and is allocated later when stock arrives
(``fake_orders``). An unknown SKU that comes with a name is created as a product, as ShipBob does.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from integrations.shipbob import fake_data
from integrations.shipbob.fake_data import (
    OUT_OF_STOCK_DETAIL,
    PROCESSING_DETAIL,
    Problem,
    address_view,
    day_end,
    iso,
    status_detail,
    unprocessable,
    validate_order,
)

# Shipment statuses whose units still sit in the warehouse, waiting to go.
OPEN = ("Processing", "Exception", "OnHold")


class ShipBobState:
    """The account's data and its rules; subclasses add order life, receiving, webhooks and HTTP."""

    clock: Callable[[], datetime.datetime]
    _lock: threading.RLock
    centers: dict[int, str]
    channels: dict[int, dict[str, Any]]
    _catalogue: dict[str, str]
    _initial_stock: dict[str, dict[int, int]]

    def reset_state(self, *, seed: bool = True) -> None:
        """Forget products, stock and orders; load the seed catalogue and stock by default."""
        with self._lock:
            self.products: dict[str, dict[str, Any]] = {}  # by SKU
            self.on_hand_at: dict[tuple[int, int], int] = {}  # (inventory id, location id) -> units
            self.orders: dict[int, dict[str, Any]] = {}  # the wire Order; its shipments inside
            self.shipments: dict[int, dict[str, Any]] = {}  # the same Shipment objects, by id
            self.references: dict[tuple[int, str], int] = {}  # (channel id, reference_id) -> order id
            self._order_ids = itertools.count(fake_data.FIRST_ORDER_ID)
            self._shipment_ids = itertools.count(fake_data.FIRST_SHIPMENT_ID)
            self._product_ids = itertools.count(fake_data.FIRST_PRODUCT_ID)
            self._inventory_ids = itertools.count(fake_data.FIRST_INVENTORY_ID)
            if seed:
                for sku, name in self._catalogue.items():
                    self.add_product(sku, name, stock=self._initial_stock.get(sku, {}))

    # --- the catalogue ------------------------------------------------------------------------------

    def add_product(
        self, sku: str, name: str, *, stock: Mapping[int, int] | None = None, active: bool = True
    ) -> dict[str, Any]:
        """A product (and its inventory item) the merchant set up in ShipBob, with stock per centre."""
        with self._lock:
            if sku in self.products:
                raise ValueError(f"{sku} is already a product")
            product: dict[str, Any] = {
                "id": next(self._product_ids),
                "inventory_id": next(self._inventory_ids),
                "sku": sku,
                "name": name,
                "active": active,
            }
            self.products[sku] = product
            for location_id in self.centers:
                self.on_hand_at[(product["inventory_id"], location_id)] = int(
                    (stock or {}).get(location_id, 0)
                )
            return dict(product)

    def set_active(self, sku: str, active: bool = True) -> None:
        """The merchant (de)activated a product: orders for an inactive one are refused (422)."""
        with self._lock:
            self._product(sku)["active"] = active

    def _product(self, sku: str) -> dict[str, Any]:
        product = self.products.get(sku)
        if product is None:
            raise KeyError(f"No product {sku!r} in the fake ShipBob")
        return product

    def _product_by_inventory(self, inventory_id: int) -> dict[str, Any] | None:
        return next((p for p in self.products.values() if p["inventory_id"] == inventory_id), None)

    # --- stock ----------------------------------------------------------------------------------------

    def _committed(self, inventory_id: int, location_id: int) -> int:
        return sum(
            item["quantity_committed"]
            for shipment in self.shipments.values()
            if shipment["location"]["id"] == location_id
            for product in shipment["products"]
            for item in product["inventory_items"]
            if item["id"] == inventory_id
        )

    def _fulfillable(self, inventory_id: int, location_id: int) -> int:
        on_hand = self.on_hand_at.get((inventory_id, location_id), 0)
        return max(on_hand - self._committed(inventory_id, location_id), 0)

    def _awaiting(self, inventory_id: int, location_id: int) -> int:
        """Units open receiving orders still expect (``fake_receiving`` knows them)."""
        return 0

    def _backordered(self, inventory_id: int) -> int:
        return sum(
            item["quantity"] - item["quantity_committed"]
            for shipment in self.shipments.values()
            if shipment["status"] == "Exception"
            and any(d["name"] == OUT_OF_STOCK_DETAIL[1] for d in shipment["status_details"])
            for product in shipment["products"]
            for item in product["inventory_items"]
            if item["id"] == inventory_id
        )

    def on_hand(self, sku: str, location_id: int) -> int:
        """Units of ``sku`` physically at the fulfilment centre."""
        with self._lock:
            return self.on_hand_at.get((self._product(sku)["inventory_id"], location_id), 0)

    def committed(self, sku: str, location_id: int) -> int:
        with self._lock:
            return self._committed(self._product(sku)["inventory_id"], location_id)

    def fulfillable(self, sku: str, location_id: int) -> int:
        with self._lock:
            return self._fulfillable(self._product(sku)["inventory_id"], location_id)

    def location_levels(self, product: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``locations`` of ``GET /inventory-level/locations`` for one product."""
        levels = []
        for location_id, name in self.centers.items():
            inventory_id = product["inventory_id"]
            levels.append(
                {
                    "location_id": location_id,
                    "name": name,
                    "on_hand_quantity": self.on_hand_at.get((inventory_id, location_id), 0),
                    "committed_quantity": self._committed(inventory_id, location_id),
                    "fulfillable_quantity": self._fulfillable(inventory_id, location_id),
                    "awaiting_quantity": self._awaiting(inventory_id, location_id),
                    "internal_transfer_quantity": 0,
                }
            )
        return levels

    def level_item(self, product: Mapping[str, Any]) -> dict[str, Any]:
        """One item of ``GET /inventory-level`` (network-wide totals)."""
        levels = self.location_levels(product)
        fulfillable = sum(level["fulfillable_quantity"] for level in levels)
        return {
            "inventory_id": product["inventory_id"],
            "name": product["name"],
            "sku": product["sku"],
            "total_on_hand_quantity": sum(level["on_hand_quantity"] for level in levels),
            "total_committed_quantity": sum(level["committed_quantity"] for level in levels),
            "total_fulfillable_quantity": fulfillable,
            "total_sellable_quantity": fulfillable,  # less exceptions, of which the fake has none
            "total_awaiting_quantity": sum(level["awaiting_quantity"] for level in levels),
            "total_exception_quantity": 0,
            "total_backordered_quantity": self._backordered(product["inventory_id"]),
            "total_internal_transfer_quantity": 0,
        }

    def location_item(self, product: Mapping[str, Any]) -> dict[str, Any]:
        """One item of ``GET /inventory-level/locations``."""
        return {
            "inventory_id": product["inventory_id"],
            "name": product["name"],
            "sku": product["sku"],
            "locations": self.location_levels(product),
        }

    # --- orders ---------------------------------------------------------------------------------------

    def _order(self, order_id: int) -> dict[str, Any]:
        order = self.orders.get(int(order_id))
        if order is None:
            raise KeyError(f"No order {order_id} in the fake ShipBob")
        return order

    def order(self, order_id: int) -> dict[str, Any]:
        """The Order as ``GET /order/{id}`` answers it (a copy)."""
        with self._lock:
            return copy.deepcopy(self._order(order_id))

    def order_by_reference(self, reference_id: str, channel_id: int | None = None) -> dict[str, Any] | None:
        """The order of a reference id (in ``channel_id``, by default any channel), or None."""
        with self._lock:
            for (channel, reference), order_id in self.references.items():
                if reference == reference_id and channel_id in (None, channel):
                    return copy.deepcopy(self.orders[order_id])
            return None

    def create_order(self, payload: Any, channel_id: int) -> dict[str, Any]:
        """``POST /order``: a new order with one shipment, or ``Problem`` (400/422)."""
        with self._lock:
            lines = validate_order(payload, self.centers)
            reference_id = str(payload["reference_id"])
            existing = self.references.get((channel_id, reference_id))
            if existing is not None:
                raise unprocessable(
                    f"An order with reference_id {reference_id} already exists for this channel"
                    f" (order {existing})"
                )
            products = [self._line_product(line) for line in lines]
            return copy.deepcopy(self._place(payload, channel_id, lines, products))

    def _line_product(self, line: Mapping[str, Any]) -> dict[str, Any]:
        if line.get("reference_id") is None:
            product = next((p for p in self.products.values() if p["id"] == line["id"]), None)
            if product is None:
                raise unprocessable(f"Product with id {line['id']} does not exist")
        else:
            sku = str(line["reference_id"])
            product = self.products.get(sku)
            if product is None:
                if not line.get("name"):
                    raise unprocessable(
                        f"Product with reference_id {sku} does not exist; a name is required to create it"
                    )
                product = self.products[self.add_product(sku, str(line["name"]))["sku"]]
        if not product["active"]:
            raise unprocessable(f"Product with reference_id {product['sku']} is inactive")
        return product

    def _place(
        self,
        payload: Mapping[str, Any],
        channel_id: int,
        lines: list[dict[str, Any]],
        products: list[dict[str, Any]],
    ) -> dict[str, Any]:
        now = self.clock()
        order_id = next(self._order_ids)
        recipient = payload["recipient"]
        recipient_view = {
            "name": recipient.get("name"),
            "address": address_view(recipient["address"]),
            "email": recipient.get("email"),
            "phone_number": recipient.get("phone_number"),
        }
        total = sum(float(line.get("unit_price") or 0) * int(line["quantity"]) for line in lines)
        order: dict[str, Any] = {
            "id": order_id,
            "created_date": iso(now),
            "purchase_date": payload.get("purchase_date"),
            "reference_id": str(payload["reference_id"]),
            "order_number": payload.get("order_number"),
            "status": "Processing",
            "type": payload["type"],
            "channel": {"id": channel_id, "name": self.channels[channel_id]["name"]},
            "shipping_method": payload["shipping_method"],
            "recipient": recipient_view,
            "products": [
                {
                    "external_line_id": line.get("external_line_id"),
                    "gtin": line.get("gtin"),
                    "id": product["id"],
                    "quantity": int(line["quantity"]),
                    "quantity_unit_of_measure_code": line.get("quantity_unit_of_measure_code"),
                    "reference_id": product["sku"],
                    "sku": product["sku"],
                    "unit_price": line.get("unit_price"),
                    "upc": line.get("upc"),
                }
                for line, product in zip(lines, products, strict=True)
            ],
            "tags": list(payload.get("tags") or []),
            "shipments": [],
            "gift_message": payload.get("gift_message"),
            "shipping_terms": payload.get("shipping_terms")
            or {"carrier_type": "Parcel", "payment_term": "Prepaid"},
            "retailer_program_data": payload.get("retailer_program_data"),
            "financials": payload.get("financials") or {"total_price": round(total, 2)},
        }
        self.orders[order_id] = order
        self.references[(channel_id, order["reference_id"])] = order_id
        quantities = [(product, int(line["quantity"])) for line, product in zip(lines, products, strict=True)]
        self._new_shipment(order, quantities, payload.get("location_id"))
        self._settle_order(order)
        return order

    def _new_shipment(
        self,
        order: dict[str, Any],
        quantities: Iterable[tuple[Mapping[str, Any], int]],
        location_id: int | None = None,
    ) -> dict[str, Any]:
        """A shipment of ``quantities`` (product, units) for ``order``, allocated if stock allows."""
        now = self.clock()
        recipient = order["recipient"]
        shipment: dict[str, Any] = {
            "id": next(self._shipment_ids),
            "order_id": order["id"],
            "reference_id": order["reference_id"],
            "recipient": {
                "name": recipient["name"],
                "full_name": recipient["name"],
                "address": dict(recipient["address"]),
                "email": recipient["email"],
                "phone_number": recipient["phone_number"],
            },
            "created_date": iso(now),
            "last_update_at": iso(now),
            "last_tracking_update_at": None,
            "status": "Exception",
            "status_details": [],
            "location": {"id": 0, "name": ""},
            "invoice_amount": None,
            "invoice_currency_code": None,
            "insurance_value": None,
            "ship_option": order["shipping_method"],
            "tracking": None,
            "products": [
                {
                    "id": product["id"],
                    "reference_id": product["sku"],
                    "sku": product["sku"],
                    "name": product["name"],
                    "inventory_items": [
                        {
                            "id": product["inventory_id"],
                            "name": product["name"],
                            "quantity": units,
                            "quantity_committed": 0,
                            "lot": None,
                            "expiration_date": None,
                            "serial_numbers": [],
                            "is_dangerous_goods": False,
                        }
                    ],
                }
                for product, units in quantities
            ],
            "parent_cartons": [],
            "measurements": None,
            "package_material_type": "Unknown",
            "require_signature": False,
            "gift_message": order["gift_message"],
            "estimated_fulfillment_date": None,
            "estimated_fulfillment_date_status": "AwaitingInventoryAllocation",
            "is_tracking_uploaded": False,
            "actual_fulfillment_date": None,
            "delivery_date": None,
        }
        self.shipments[shipment["id"]] = shipment
        order["shipments"].append(shipment)
        if not self._allocate(shipment, location_id):
            first = location_id if location_id is not None else next(iter(self.centers))
            short = self._short_item(shipment, first)
            shipment["location"] = {"id": first, "name": self.centers[first]}
            shipment["status_details"] = [
                status_detail(OUT_OF_STOCK_DETAIL, inventory_id=short, center_id=first)
            ]
        return shipment

    def _needs(self, shipment: Mapping[str, Any]) -> dict[int, int]:
        needs: dict[int, int] = {}
        for product in shipment["products"]:
            for item in product["inventory_items"]:
                needs[item["id"]] = needs.get(item["id"], 0) + int(item["quantity"])
        return needs

    def _short_item(self, shipment: Mapping[str, Any], location_id: int) -> int | None:
        for inventory_id, units in self._needs(shipment).items():
            if self._fulfillable(inventory_id, location_id) < units:
                return inventory_id
        return None

    def _allocate(self, shipment: dict[str, Any], location_id: int | None = None) -> bool:
        """Commit the shipment's units at the first centre (or ``location_id``) that has them all."""
        candidates = [location_id] if location_id is not None else list(self.centers)
        for candidate in candidates:
            if self._short_item(shipment, candidate) is not None:
                continue
            now = self.clock()
            for product in shipment["products"]:
                for item in product["inventory_items"]:
                    item["quantity_committed"] = item["quantity"]
            shipment["location"] = {"id": candidate, "name": self.centers[candidate]}
            shipment["status"] = "Processing"
            shipment["status_details"] = [status_detail(PROCESSING_DETAIL)]
            shipment["estimated_fulfillment_date"] = day_end(now)
            shipment["estimated_fulfillment_date_status"] = "PendingOnTime"
            shipment["last_update_at"] = iso(now)
            return True
        return False

    def _settle_order(self, order: dict[str, Any]) -> None:
        """The order's status, read off its shipments (ShipBob's order status resolver)."""
        statuses = [s["status"] for s in order["shipments"] if s["status"] != "Cancelled"]
        if not statuses:
            order["status"] = "Cancelled"
        elif all(status == "Completed" for status in statuses):
            order["status"] = "Fulfilled"
        elif "Completed" in statuses:
            order["status"] = "PartiallyFulfilled"
        elif "Exception" in statuses:
            order["status"] = "Exception"
        else:
            order["status"] = "Processing"


__all__ = ["OPEN", "Problem", "ShipBobState"]
