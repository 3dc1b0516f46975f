"""Inbound stock in the fake ShipBob: Warehouse Receiving Orders (WROs).

``POST /2026-01/receiving`` (``create_receiving``) announces boxes on their way to a fulfilment
centre: ``{fulfillment_center: {id}, package_type, box_packaging_type, boxes: [{tracking_number,
box_items: [{inventory_id, quantity}]}], expected_arrival_date, purchase_order_number?}`` (a box
item may name its product by ``sku`` instead of ``inventory_id``). The answer (201) and
``GET /2026-01/receiving/{id}`` are the WRO: ``status`` "Awaiting", ``inventory_quantities``
per inventory item (expected, received, stowed), ``status_history``. While it is open its
expected units show as ``awaiting`` at that centre.

The warehouse receives it (``receive(wro_id, quantities=None)``, a staff method): what arrived
(by default what was expected; may differ, keyed by SKU or inventory id) is received and stowed,
``on_hand`` there grows by it, status "Completed". ShipBob sends no receiving webhook the hub relies
on: the hub polls the WRO. ``POST /2026-01/receiving/{id}:cancel`` cancels one still awaiting.
"""

from __future__ import annotations

import copy
import datetime
import itertools
from collections.abc import Mapping
from typing import Any

from integrations.shipbob import fake_data
from integrations.shipbob.fake_data import (
    BASE_URL,
    PACKAGE_TYPES,
    PACKING_TYPES,
    VERSION,
    center_view,
    invalid,
    iso,
    unprocessable,
)
from integrations.shipbob.fake_orders import OrderLife

_OPEN = ("Awaiting", "Processing", "Arrived", "PartiallyArrived")


class Receiving(OrderLife):
    """Warehouse receiving orders: announced over HTTP, received by the warehouse staff."""

    def reset_state(self, *, seed: bool = True) -> None:
        self.wros: dict[int, dict[str, Any]] = {}
        self._wro_ids = itertools.count(fake_data.FIRST_WRO_ID)
        self._history_ids = itertools.count(1)
        super().reset_state(seed=seed)

    def _awaiting(self, inventory_id: int, location_id: int) -> int:
        return sum(
            max(line["expected_quantity"] - line["received_quantity"], 0)
            for wro in self.wros.values()
            if wro["status"] in _OPEN and wro["fulfillment_center"]["id"] == location_id
            for line in wro["inventory_quantities"]
            if line["inventory_id"] == inventory_id
        )

    def _wro(self, wro_id: int) -> dict[str, Any]:
        wro = self.wros.get(int(wro_id))
        if wro is None:
            raise KeyError(f"No receiving order {wro_id} in the fake ShipBob")
        return wro

    def receiving_order(self, wro_id: int) -> dict[str, Any]:
        """The WRO as ``GET /receiving/{id}`` answers it (a copy)."""
        with self._lock:
            return copy.deepcopy(self._wro(wro_id))

    def _history(self, wro: dict[str, Any], status: str, now: datetime.datetime) -> None:
        wro["status"] = status
        wro["last_updated_date"] = iso(now)
        wro["status_history"].append({"id": next(self._history_ids), "status": status, "timestamp": iso(now)})

    def create_receiving(self, payload: Any) -> dict[str, Any]:
        """``POST /receiving``: a new WRO "Awaiting", or a 400 ``Problem``."""
        with self._lock:
            location_id, expected = self._validate_wro(payload)
            now = self.clock()
            wro_id = next(self._wro_ids)
            wro: dict[str, Any] = {
                "box_labels_uri": f"{BASE_URL}/{VERSION}/receiving/{wro_id}/labels",
                "box_packaging_type": payload["box_packaging_type"],
                "expected_arrival_date": payload["expected_arrival_date"],
                "external_sync_timestamp": None,
                "fulfillment_center": center_view(location_id, self.centers[location_id]),
                "id": wro_id,
                "insert_date": iso(now),
                "inventory_quantities": [
                    {
                        "expected_quantity": units,
                        "inventory_id": product["inventory_id"],
                        "received_quantity": 0,
                        "sku": product["sku"],
                        "stowed_quantity": 0,
                    }
                    for product, units in expected
                ],
                "last_updated_date": iso(now),
                "package_type": payload["package_type"],
                "purchase_order_number": payload.get("purchase_order_number"),
                "status": "Awaiting",
                "status_history": [],
            }
            self._history(wro, "Awaiting", now)
            self.wros[wro_id] = wro
            return copy.deepcopy(wro)

    def _validate_wro(self, payload: Any) -> tuple[int, list[tuple[dict[str, Any], int]]]:
        if not isinstance(payload, dict):
            raise invalid({"": "A non-empty request body is required."})
        errors: dict[str, str] = {}
        center = payload.get("fulfillment_center")
        location_id = center.get("id") if isinstance(center, dict) else None
        if location_id is None:
            errors["fulfillment_center"] = "The fulfillment_center field is required."
        elif location_id not in self.centers:
            errors["fulfillment_center.id"] = f"Fulfillment center {location_id} does not exist."
        for name, allowed in (("package_type", PACKAGE_TYPES), ("box_packaging_type", PACKING_TYPES)):
            if payload.get(name) is None:
                errors[name] = f"The {name} field is required."
            elif payload[name] not in allowed:
                errors[name] = f"The value '{payload[name]}' is not valid for {name}."
        if not payload.get("expected_arrival_date"):
            errors["expected_arrival_date"] = "The expected_arrival_date field is required."
        boxes = payload.get("boxes")
        totals: dict[str, int] = {}
        if not isinstance(boxes, list) or not boxes:
            errors["boxes"] = "The boxes field is required."
            boxes = []
        for b, box in enumerate(boxes):
            where = f"boxes[{b}]"
            if not isinstance(box, dict):
                errors[where] = "The box is invalid."
                continue
            if not box.get("tracking_number"):
                errors[f"{where}.tracking_number"] = "The tracking_number field is required."
            items = box.get("box_items")
            if not isinstance(items, list) or not items:
                errors[f"{where}.box_items"] = "The box_items field is required."
                continue
            for i, item in enumerate(items):
                spot = f"{where}.box_items[{i}]"
                product = self._box_product(item)
                if product is None:
                    errors[f"{spot}.inventory_id"] = "The inventory_id does not match an inventory item."
                quantity = item.get("quantity") if isinstance(item, dict) else None
                if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                    errors[f"{spot}.quantity"] = "The field quantity must be between 1 and 2147483647."
                elif product is not None:
                    totals[product["sku"]] = totals.get(product["sku"], 0) + quantity
        if errors:
            raise invalid(errors)
        return int(location_id), [(self.products[sku], units) for sku, units in totals.items()]  # type: ignore[arg-type]

    def _box_product(self, item: Any) -> dict[str, Any] | None:
        if not isinstance(item, dict):
            return None
        if isinstance(item.get("inventory_id"), int):
            return self._product_by_inventory(item["inventory_id"])
        if isinstance(item.get("sku"), str):
            return self.products.get(item["sku"])
        return None

    def cancel_receiving(self, wro_id: int) -> dict[str, Any]:
        """``POST /receiving/{id}:cancel``: only an awaiting WRO can be cancelled (else 422)."""
        with self._lock:
            wro = self._wro(wro_id)
            if wro["status"] != "Awaiting":
                raise unprocessable(f"Receiving order {wro_id} is {wro['status']} and cannot be cancelled")
            self._history(wro, "Cancelled", self.clock())
            return copy.deepcopy(wro)

    def receive(self, wro_id: int, quantities: Mapping[str | int, int] | None = None) -> dict[str, Any]:
        """The warehouse received and stowed the WRO: ``quantities`` ({sku or inventory id: units},
        default: as expected; may differ) join ``on_hand`` at its centre. Status "Completed"; a copy."""
        with self._lock:
            wro = self._wro(wro_id)
            if wro["status"] not in _OPEN:
                raise ValueError(f"Receiving order {wro_id} is {wro['status']}")
            location_id = wro["fulfillment_center"]["id"]
            lines = {line["sku"]: line for line in wro["inventory_quantities"]}
            got: dict[str, int] = {sku: line["expected_quantity"] for sku, line in lines.items()}
            if quantities is not None:
                got = dict.fromkeys(lines, 0)
                for key, units in quantities.items():
                    product = (
                        self._product_by_inventory(key) if isinstance(key, int) else self.products.get(key)
                    )
                    if product is None:
                        raise KeyError(f"No product {key!r} in the fake ShipBob")
                    if product["sku"] not in lines:  # a unit nobody announced still gets stowed
                        lines[product["sku"]] = {
                            "expected_quantity": 0,
                            "inventory_id": product["inventory_id"],
                            "received_quantity": 0,
                            "sku": product["sku"],
                            "stowed_quantity": 0,
                        }
                        wro["inventory_quantities"].append(lines[product["sku"]])
                    got[product["sku"]] = int(units)
            now = self.clock()
            self._history(wro, "Arrived", now)
            for sku, units in got.items():
                line = lines[sku]
                line["received_quantity"] += units
                line["stowed_quantity"] += units
                spot = (int(line["inventory_id"]), int(location_id))
                self.on_hand_at[spot] = self.on_hand_at.get(spot, 0) + units
            self._history(wro, "Completed", now)
            self._stock_arrived()
            return copy.deepcopy(wro)
