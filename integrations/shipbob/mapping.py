"""ShipBob 2026-01's dialect: the hub's ``OrderOut`` as a ``POST /order`` body, ShipBob's Order and
Shipment as ``ShipmentRecord``s, its levels per fulfilment centre as ``InventoryLevelRecord``s, and
its error bodies in a sentence. Pure functions: no Django, no HTTP.

* An order's ``reference_id`` is our key for it (``OrderOut.tool_key``): unique per channel at
  ShipBob, so a create repeated after a lost answer is refused (422) rather than made twice.
  Products go by ``reference_id`` = SKU with a name (ShipBob creates an unknown SKU that comes with
  one), whole units, and our line id as ``external_line_id``, so a shipment's lines find ours.
* An address changed here goes to ShipBob's shipments not shipped yet
  (``PUT /shipment/{id}:updateAddress``, ``address_update``): ShipBob keeps the order's recipient
  as it was created, so the address ShipBob ships to is read off those shipments
  (``shown_addresses``), and an order that was moved says what ours does afterwards.
* A shipment is recorded once it has left (status "Completed") with its tracking; ShipBob names the
  products it shipped by SKU, and the order's products carry our ``external_line_id``.
* Dates are ISO 8601 UTC (``2026-03-14T14:22:40.117Z`` or to the second).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from integrations.errors import PermanentError
from integrations.records import InventoryLevelRecord, OrderOut, ShipmentLineRecord, ShipmentRecord

SHIPPED = "Completed"  # a shipment's status once it left the warehouse
CANCELLED = "Cancelled"
ON_HOLD = "OnHold"
OPEN = ("Processing", "Exception", ON_HOLD)  # not shipped yet: can be held, released, cancelled
ADDRESS_KEYS = ("address1", "address2", "city", "state", "zip_code", "country")


def when(raw: Any) -> datetime.datetime | None:
    """ShipBob's timestamp as an aware moment (None when absent or unreadable)."""
    if not raw:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def iso_seconds(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole(quantity: Decimal, sku: str) -> int:
    """ShipBob ships whole units: a fraction is refused before anything is sent."""
    if quantity != quantity.to_integral_value():
        raise PermanentError(f"ShipBob ships whole units: {sku} has {quantity}.")
    return int(quantity)


def _line_id(line_id: str) -> int | None:
    """Our line id as ShipBob's ``external_line_id`` (an integer there)."""
    return int(line_id) if line_id.isdigit() else None


def recipient(item: OrderOut) -> dict[str, Any]:
    """Our address snapshot (name, company, line1, line2, city, region, postal_code, country, phone)
    and the customer's email as ShipBob's recipient."""
    to = item.ship_to
    return {
        "name": to.get("name") or item.customer_name,
        "address": {
            "address1": to.get("line1") or "",
            "address2": to.get("line2") or None,
            "company_name": to.get("company") or None,
            "city": to.get("city") or "",
            "state": to.get("region") or "",
            "zip_code": to.get("postal_code") or "",
            "country": (to.get("country") or "").strip()[:2].upper(),
        },
        "email": item.customer_email or None,
        "phone_number": to.get("phone") or None,
    }


def order_body(item: OrderOut, *, shipping_method: str) -> dict[str, Any]:
    """The ``POST /2026-01/order`` body of ``item``."""
    products = []
    for line in item.lines:
        product: dict[str, Any] = {
            "reference_id": line.sku,
            "name": line.title or line.sku,
            "quantity": whole(line.quantity, line.sku),
            "unit_price": float(line.unit_price),
        }
        external = _line_id(line.line_id)
        if external is not None:
            product["external_line_id"] = external
        products.append(product)
    return {
        "shipping_method": shipping_method,
        "recipient": recipient(item),
        "products": products,
        "reference_id": item.tool_key,
        "order_number": item.reference,
        "type": "DTC",
        "purchase_date": iso_seconds(item.created_at),
        "tags": [{"name": "erp_order", "value": item.reference}],
    }


def _units(products: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    units: dict[str, int] = {}
    for product in products:
        sku = str(product.get("sku") or product.get("reference_id") or "")
        if "inventory_items" in product and "quantity" not in product:
            quantity = sum(int(i.get("quantity") or 0) for i in product.get("inventory_items") or ())
        else:
            quantity = int(product.get("quantity") or 0)
        units[sku.casefold()] = units.get(sku.casefold(), 0) + quantity
    return units


def _same_address(theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> bool:
    return all(
        str(theirs.get(k) or "").strip().casefold() == str(ours.get(k) or "").strip().casefold()
        for k in ADDRESS_KEYS
    )


def _address_of(holder: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((holder.get("recipient") or {}).get("address")) or {}


def shown_addresses(order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Where ShipBob's order ships to: the addresses of its shipments not shipped yet (an address
    update changes those, not the order's recipient), else of those that shipped, else the order's
    recipient's."""
    shipments = [s for s in order.get("shipments") or () if s.get("status") != CANCELLED]
    waiting = [s for s in shipments if s.get("status") in OPEN]
    holders = waiting or shipments or [order]
    return [_address_of(h) for h in holders]


def differences(order: Mapping[str, Any], body: Mapping[str, Any]) -> list[str]:
    """What of ``body`` (an order we would create) ShipBob's ``order`` does not say: [] when it
    says it all (its products and units, the address it ships to: ``shown_addresses``)."""
    found: list[str] = []
    if _units(order.get("products") or ()) != _units(body["products"]):
        found.append("its products")
    ours = body["recipient"]["address"]
    if not all(_same_address(theirs, ours) for theirs in shown_addresses(order)):
        found.append("its address")
    return found


def moved_shipments(order: Mapping[str, Any], body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The shipments of ``order`` not shipped yet whose address is not ``body``'s."""
    ours = body["recipient"]["address"]
    return [
        s
        for s in order.get("shipments") or ()
        if s.get("status") in OPEN and not _same_address(_address_of(s), ours)
    ]


def address_update(recipient: Mapping[str, Any]) -> dict[str, Any]:
    """Our recipient (``recipient(item)``) as the ``PUT /shipment/{id}:updateAddress`` body
    (Orders.UpdateAddressRequest: ``city`` and ``street_address1`` required). ShipBob verifies the
    address as it does a new order's (``override_verification`` left false)."""
    address = recipient["address"]
    return {
        "recipient_name": recipient.get("name") or None,
        "company_name": address.get("company_name") or None,
        "street_address1": address.get("address1") or "",
        "street_address2": address.get("address2") or None,
        "city": address.get("city") or "",
        "state": address.get("state") or None,
        "zip_code": address.get("zip_code") or None,
        "country_code": address.get("country") or None,
        "email": recipient.get("email") or None,
        "phone_number": recipient.get("phone_number") or None,
    }


def _line_ids(order: Mapping[str, Any]) -> dict[str, str]:
    """SKU -> our line id, from the order's products (a SKU on two lines names neither)."""
    seen: dict[str, list[str]] = {}
    for product in order.get("products") or ():
        sku = str(product.get("sku") or product.get("reference_id") or "").casefold()
        external = product.get("external_line_id")
        seen.setdefault(sku, []).append("" if external is None else str(external))
    return {sku: ids[0] for sku, ids in seen.items() if len(ids) == 1}


def has_tracking(shipment: Mapping[str, Any]) -> bool:
    return bool((shipment.get("tracking") or {}).get("tracking_number"))


def shipment_record(shipment: Mapping[str, Any], order: Mapping[str, Any]) -> ShipmentRecord:
    """One shipment ShipBob shipped, of ``order`` (the Order, for our line ids)."""
    tracking = shipment.get("tracking") or {}
    line_ids = _line_ids(order)
    lines = []
    for product in shipment.get("products") or ():
        sku = str(product.get("sku") or product.get("reference_id") or "")
        quantity = sum(int(i.get("quantity") or 0) for i in product.get("inventory_items") or ())
        lines.append(ShipmentLineRecord(line_ids.get(sku.casefold(), ""), Decimal(quantity), sku=sku))
    shipped_at = (
        when(shipment.get("actual_fulfillment_date"))
        or when(tracking.get("shipping_date"))
        or when(shipment.get("last_update_at"))
        or datetime.datetime.now(datetime.UTC)
    )
    return ShipmentRecord(
        external_id=str(shipment["id"]),
        created_at=shipped_at,
        lines=tuple(lines),
        carrier=str(tracking.get("carrier") or ""),
        service=str(tracking.get("carrier_service") or ""),
        tracking_number=str(tracking.get("tracking_number") or ""),
        tracking_url=str(tracking.get("tracking_url") or ""),
        order_external_id=str(shipment.get("order_id") or order.get("id") or ""),
    )


def level_records(
    item: Mapping[str, Any], *, locations: set[str] | None, counted_at: datetime.datetime
) -> list[InventoryLevelRecord]:
    """One ``inventory-level/locations`` item as counts: one per fulfilment centre in ``locations``
    (the centres the connection maps), or, when it maps none (None), one of the whole network
    (no location: the connection's warehouse is all of ShipBob's stock)."""
    sku = str(item.get("sku") or "")
    levels = item.get("locations") or ()
    if locations is None:
        return [
            InventoryLevelRecord(
                sku=sku,
                location_external_id="",
                on_hand=Decimal(sum(int(lv.get("on_hand_quantity") or 0) for lv in levels)),
                available=Decimal(sum(int(lv.get("fulfillable_quantity") or 0) for lv in levels)),
                committed=Decimal(sum(int(lv.get("committed_quantity") or 0) for lv in levels)),
                counted_at=counted_at,
            )
        ]
    return [
        InventoryLevelRecord(
            sku=sku,
            location_external_id=str(lv["location_id"]),
            on_hand=Decimal(int(lv.get("on_hand_quantity") or 0)),
            available=Decimal(int(lv.get("fulfillable_quantity") or 0)),
            committed=Decimal(int(lv.get("committed_quantity") or 0)),
            counted_at=counted_at,
        )
        for lv in levels
        if str(lv.get("location_id")) in locations
    ]


def error_text(body: str) -> str:
    """ShipBob's error body in a sentence: 422 ``{"errors": [...]}``, 400 ``{field: [messages]}``,
    429 ``{"message"}``."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return body[:300]
    if isinstance(parsed, dict):
        if isinstance(parsed.get("errors"), list):
            return "; ".join(str(e) for e in parsed["errors"])
        if parsed.get("message"):
            return str(parsed["message"])
        parts = []
        for field, messages in parsed.items():
            text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(f"{field}: {text}" if field else text)
        return " ".join(parts)
    return str(parsed)[:300] if parsed is not None else ""
