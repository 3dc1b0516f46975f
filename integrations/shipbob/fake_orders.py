"""The fake ShipBob's own life: its warehouse ships, holds, delivers and counts on its own.

These are the staff's and the carriers' doings (the tests and the simulated day call them; no
HTTP). Each change queues the webhook ShipBob sends for it (``_emit``, see ``fake_webhooks``):

* ``ship(order_id, tracking=True, carrier="USPS", partial=None)``: the order's first open
  shipment leaves: its committed units leave ``on_hand``, status "Completed" (status detail
  Labeled), tracking set unless ``tracking=False`` (then ``add_tracking`` later). ``partial``
  ({sku: units}) ships only those units and moves the rest to a new "Processing" shipment,
  still committed. Queues ``order.shipped`` (the Order). ``omit_tracking_next()`` makes the next
  ``order.shipped`` bodies lack tracking although the shipment has it (ShipBob's race: the
  tracking then shows on ``GET /order/{id}``);
* ``deliver``, ``hold`` / ``release``, ``exception``: ``order.shipment.delivered`` /
  ``on_hold`` / ``exception`` (the Shipment);
* ``cancel_order`` (``POST /order/{id}:cancel``): every shipment not shipped is "Cancelled", its
  committed units released; ``order.shipment.cancelled`` each. An order with nothing left to
  cancel (all shipped, or already cancelled) is refused with 422;
* ``update_address(shipment_id, payload)`` (``PUT /shipment/{id}:updateAddress``, the merchant
  moving a shipment): the shipment's recipient (name, address, email, phone) becomes the
  Orders.UpdateAddressRequest's; the order's recipient stays as it was created. 400
  ``{"code": "INVALID_PARAMETER", "message"}`` naming the missing required fields (``city``,
  ``street_address1``), 422 for a shipment that shipped or was cancelled; no webhook in 2026-01;
* ``damage(sku, location_id, units)`` and ``count(sku, location_id, on_hand)``: stock moves with
  no order involved (a broken unit, a cycle count). ShipBob has no inventory webhook in
  2026-01: the hub polls ``/inventory-level``. More stock allocates waiting out-of-stock shipments.
"""

from __future__ import annotations

import copy
import datetime
import itertools
from collections.abc import Mapping
from typing import Any

from integrations.shipbob.fake_data import (
    CANCELLED_DETAIL,
    DELIVERED_DETAIL,
    LABELED_DETAIL,
    ON_HOLD_DETAIL,
    OUT_OF_STOCK_DETAIL,
    PROCESSING_DETAIL,
    Problem,
    iso,
    iso_seconds,
    status_detail,
    tracking_number,
    tracking_view,
    unprocessable,
)
from integrations.shipbob.fake_state import OPEN, ShipBobState


class OrderLife(ShipBobState):
    """Shipments shipped, tracked, delivered, held, cancelled; stock damaged and counted."""

    def reset_state(self, *, seed: bool = True) -> None:
        self._untracked_next = 0
        self._tracking_serials = itertools.count(223197428490)
        super().reset_state(seed=seed)

    def _emit(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Queue ``topic``'s deliveries (``fake_webhooks`` sends them)."""
        raise NotImplementedError

    # --- reading ----------------------------------------------------------------------------------

    def _shipment(self, shipment_id: int) -> dict[str, Any]:
        shipment = self.shipments.get(int(shipment_id))
        if shipment is None:
            raise KeyError(f"No shipment {shipment_id} in the fake ShipBob")
        return shipment

    def shipment(self, shipment_id: int) -> dict[str, Any]:
        """The Shipment as ``GET /shipment/{id}`` answers it (a copy)."""
        with self._lock:
            return copy.deepcopy(self._shipment(shipment_id))

    def omit_tracking_next(self, count: int = 1) -> None:
        """The next ``count`` order.shipped bodies carry no tracking (GET order/shipment do)."""
        with self._lock:
            self._untracked_next += count

    # --- shipping ---------------------------------------------------------------------------------

    def ship(
        self,
        order_id: int,
        *,
        tracking: bool = True,
        carrier: str = "USPS",
        partial: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """The order's first open shipment ships (all of it, or ``partial`` {sku: units}); a copy."""
        with self._lock:
            order = self._order(order_id)
            shipment = next((s for s in order["shipments"] if s["status"] == "Processing"), None)
            if shipment is None:
                raise ValueError(f"Order {order_id} has no shipment ready to ship")
            if partial:
                self._split(order, shipment, partial)
            location_id = shipment["location"]["id"]
            for inventory_id, units in self._needs(shipment).items():
                key = (inventory_id, location_id)
                if self.on_hand_at.get(key, 0) < units:
                    raise ValueError(f"Not enough stock of inventory {inventory_id} at {location_id}")
            now = self.clock()
            for inventory_id, units in self._needs(shipment).items():
                self.on_hand_at[(inventory_id, location_id)] -= units
            for product in shipment["products"]:
                for item in product["inventory_items"]:
                    item["quantity_committed"] = 0
            units_total = sum(self._needs(shipment).values())
            shipment.update(
                status="Completed",
                status_details=[status_detail(LABELED_DETAIL)],
                last_update_at=iso(now),
                invoice_amount=round(7.5 + 0.95 * units_total, 2),
                invoice_currency_code="USD",
                measurements={
                    "depth_in": 8,
                    "length_in": 20,
                    "width_in": 12,
                    "total_weight_oz": 16 * units_total,
                },
                actual_fulfillment_date=iso_seconds(now),
            )
            if tracking:
                self._track(shipment, carrier, now)
            self._settle_order(order)
            body = copy.deepcopy(order)
            if self._untracked_next > 0:
                self._untracked_next -= 1
                for sent in body["shipments"]:
                    if sent["id"] == shipment["id"]:
                        sent["tracking"] = None
                        sent["last_tracking_update_at"] = None
            self._emit("order.shipped", body)
            return copy.deepcopy(shipment)

    def _split(self, order: dict[str, Any], shipment: dict[str, Any], partial: Mapping[str, int]) -> None:
        """Keep ``partial`` in ``shipment``; the rest goes to a new shipment, still committed."""
        rest: list[tuple[dict[str, Any], int]] = []
        for product in shipment["products"]:
            item = product["inventory_items"][0]
            keep = int(partial.get(product["sku"], 0))
            if keep < 0 or keep > item["quantity"]:
                raise ValueError(
                    f"Cannot ship {keep} of {product['sku']}: the shipment has {item['quantity']}"
                )
            if keep < item["quantity"]:
                rest.append((self.products[product["sku"]], item["quantity"] - keep))
            item["quantity"] = item["quantity_committed"] = keep
        shipment["products"] = [p for p in shipment["products"] if p["inventory_items"][0]["quantity"] > 0]
        if not shipment["products"]:
            raise ValueError("A partial shipment must ship at least one unit")
        if rest:
            self._new_shipment(order, rest, shipment["location"]["id"])

    def _track(self, shipment: dict[str, Any], carrier: str, now: datetime.datetime) -> None:
        number = tracking_number(carrier, next(self._tracking_serials))
        shipment["tracking"] = tracking_view(carrier, number, now)
        shipment["last_tracking_update_at"] = iso(now)
        shipment["last_update_at"] = iso(now)

    def add_tracking(self, shipment_id: int, *, carrier: str = "USPS") -> dict[str, Any]:
        """A shipment shipped without tracking gets it now (no webhook in 2026-01); a copy."""
        with self._lock:
            shipment = self._shipment(shipment_id)
            if shipment["status"] != "Completed":
                raise ValueError(f"Shipment {shipment_id} has not shipped")
            if shipment["tracking"] is None:
                self._track(shipment, carrier, self.clock())
            return copy.deepcopy(shipment)

    def deliver(self, shipment_id: int) -> dict[str, Any]:
        """The carrier delivered a shipped shipment: ``order.shipment.delivered``; a copy."""
        with self._lock:
            shipment = self._shipment(shipment_id)
            if shipment["status"] != "Completed":
                raise ValueError(f"Shipment {shipment_id} has not shipped")
            now = iso(self.clock())
            shipment.update(
                delivery_date=now, last_update_at=now, status_details=[status_detail(DELIVERED_DETAIL)]
            )
            self._emit("order.shipment.delivered", copy.deepcopy(shipment))
            return copy.deepcopy(shipment)

    def hold(self, shipment_id: int) -> dict[str, Any]:
        """The warehouse put an open shipment on hold (units stay committed): ``on_hold``."""
        return self._set_status(shipment_id, "OnHold", ON_HOLD_DETAIL, "order.shipment.on_hold")

    def exception(self, shipment_id: int, description: str = "Address verification failed") -> dict[str, Any]:
        """An open shipment ran into a problem (units stay committed): ``order.shipment.exception``."""
        detail = (7, "Exception", description)
        return self._set_status(shipment_id, "Exception", detail, "order.shipment.exception")

    def release(self, shipment_id: int) -> dict[str, Any]:
        """A held or excepted shipment goes back to Processing (no webhook)."""
        return self._set_status(shipment_id, "Processing", PROCESSING_DETAIL, None)

    def _set_status(
        self, shipment_id: int, status: str, detail: tuple[int, str, str], topic: str | None
    ) -> dict[str, Any]:
        with self._lock:
            shipment = self._shipment(shipment_id)
            if shipment["status"] not in OPEN:
                raise ValueError(f"Shipment {shipment_id} is {shipment['status']}")
            if _out_of_stock(shipment) and status == "Processing":
                raise ValueError(f"Shipment {shipment_id} waits for stock")
            shipment.update(
                status=status, status_details=[status_detail(detail)], last_update_at=iso(self.clock())
            )
            self._settle_order(self._order(shipment["order_id"]))
            if topic is not None:
                self._emit(topic, copy.deepcopy(shipment))
            return copy.deepcopy(shipment)

    # --- cancelling -------------------------------------------------------------------------------

    def cancel_order(self, order_id: int) -> dict[str, Any]:
        """Cancel every shipment not shipped: ``CanceledOrderViewModel``; 422 ``Problem`` when none is."""
        with self._lock:
            order = self._order(order_id)
            if order["status"] == "Cancelled":
                raise unprocessable(f"Order {order_id} is already cancelled")
            open_shipments = [s for s in order["shipments"] if s["status"] in OPEN]
            if not open_shipments:
                raise unprocessable(
                    f"Order {order_id} cannot be cancelled: its shipments have already shipped"
                )
            results = []
            now = iso(self.clock())
            for shipment in order["shipments"]:
                if shipment["status"] == "Cancelled":
                    continue
                if shipment["status"] not in OPEN:
                    results.append(_result(shipment["id"], False, "Shipment has already shipped"))
                    continue
                for product in shipment["products"]:
                    for item in product["inventory_items"]:
                        item["quantity_committed"] = 0
                shipment.update(
                    status="Cancelled", status_details=[status_detail(CANCELLED_DETAIL)], last_update_at=now
                )
                results.append(_result(shipment["id"], True, None))
                self._emit("order.shipment.cancelled", copy.deepcopy(shipment))
            self._settle_order(order)
            return {
                "canceled_shipment_results": results,
                "order": copy.deepcopy(order),
                "order_id": order["id"],
                "status": "Success" if all(r["is_success"] for r in results) else "PartialSuccess",
            }

    # --- moving a shipment -------------------------------------------------------------------------

    def update_address(self, shipment_id: int, payload: Any) -> dict[str, Any]:
        """``PUT /shipment/{id}:updateAddress``: ``{"id", "is_success", "error"}``
        (Orders.ShipmentApiResponse); ``Problem`` 400 (missing fields) or 422 (shipped or
        cancelled); ``KeyError`` (no such shipment)."""
        with self._lock:
            shipment = self._shipment(shipment_id)
            if not isinstance(payload, dict):
                raise Problem(400, _invalid_address("a JSON body is required"))
            missing = [
                name
                for name in ("city", "street_address1")
                if not isinstance(payload.get(name), str) or not payload[name].strip()
            ]
            if missing:
                raise Problem(400, _invalid_address(f"{', '.join(missing)} required"))
            if shipment["status"] == "Completed":
                raise unprocessable(
                    f"Shipment {shipment_id} has already shipped: its address cannot be updated"
                )
            if shipment["status"] == "Cancelled":
                raise unprocessable(f"Shipment {shipment_id} is cancelled: its address cannot be updated")
            recipient = shipment["recipient"]
            address = recipient["address"]
            address.update(
                address1=payload["street_address1"].strip(),
                address2=payload.get("street_address2") or None,
                city=payload["city"].strip(),
                company_name=payload.get("company_name") or None,
                state=payload.get("state") or None,
                zip_code=payload.get("zip_code") or None,
            )
            if payload.get("country_code"):
                address["country"] = str(payload["country_code"]).strip().upper()
            if payload.get("recipient_name"):
                recipient["name"] = recipient["full_name"] = payload["recipient_name"]
            for name in ("email", "phone_number"):
                if name in payload:
                    recipient[name] = payload[name] or None
            shipment["last_update_at"] = iso(self.clock())
            return {"error": None, "id": shipment["id"], "is_success": True}

    # --- stock moving on its own ------------------------------------------------------------------

    def damage(self, sku: str, location_id: int, units: int) -> int:
        """``units`` of ``sku`` broke at the centre: on hand falls (not below 0); the new on hand."""
        with self._lock:
            key = (self._product(sku)["inventory_id"], int(location_id))
            self._center(location_id)
            self.on_hand_at[key] = max(self.on_hand_at.get(key, 0) - int(units), 0)
            return self.on_hand_at[key]

    def count(self, sku: str, location_id: int, on_hand: int) -> int:
        """A cycle count found ``on_hand`` units of ``sku`` at the centre; the new on hand."""
        with self._lock:
            key = (self._product(sku)["inventory_id"], int(location_id))
            self._center(location_id)
            self.on_hand_at[key] = max(int(on_hand), 0)
            self._stock_arrived()
            return self.on_hand_at[key]

    def _center(self, location_id: int) -> str:
        if int(location_id) not in self.centers:
            raise KeyError(f"No fulfilment centre {location_id} in the fake ShipBob")
        return self.centers[int(location_id)]

    def _stock_arrived(self) -> None:
        """Out-of-stock shipments that stock now covers are allocated (oldest first)."""
        for shipment in sorted(self.shipments.values(), key=lambda s: s["id"]):
            if shipment["status"] == "Exception" and _out_of_stock(shipment) and self._allocate(shipment):
                self._settle_order(self._order(shipment["order_id"]))


def _invalid_address(why: str) -> dict[str, str]:
    """ShipBob's 400 of an address update (Orders.ErrorResponse)."""
    return {
        "code": "INVALID_PARAMETER",
        "message": f"Request body is invalid or missing required fields: {why}",
    }


def _out_of_stock(shipment: Mapping[str, Any]) -> bool:
    return any(d["name"] == OUT_OF_STOCK_DETAIL[1] for d in shipment["status_details"])


def _result(shipment_id: int, success: bool, reason: str | None) -> dict[str, Any]:
    return {"action": "Cancel", "is_success": success, "reason": reason, "shipment_id": shipment_id}
