"""What the hub sends BigCommerce: stock (V3 absolute inventory adjustments) and shipments (V2).

* Stock: ``PUT /v3/inventory/adjustments/absolute`` ``{"reason", "items": [{"location_id",
  "variant_id", "quantity"}]}`` sets the on-hand of each variant at its location (the item's
  ``location_id``, mapped from our warehouse; else the connection's default location); several
  SKUs, of several locations, go in one request (``push_batch``). Absolute adjustments are
  idempotent: a retry sets the same quantity. A 422 (problem details: ``{"status", "title",
  "type", "errors"}``) refuses the whole request: the items its title names ("Item with
  variant_id 106 ...") die with that message, the others are sent again without them (one by
  one when the title names none).
* Shipments: ``POST /v2/orders/{id}/shipments`` with ``order_address_id`` (the address the
  shipped lines go to, from ``/products``), tracking number, carrier and the shipped lines. A
  retry after a lost answer finds the shipment it made (``comments`` names our shipment number,
  or the same tracking number) instead of making a second one. A shipment BigCommerce has already
  (``FulfilmentOut.external_id``: a voided label reprinted) gets its tracking number, carrier and
  link replaced with ``PUT /v2/orders/{id}/shipments/{shipment_id}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from integrations.contract import HttpClient, PushContext, PushResult
from integrations.errors import PermanentError, TransientError
from integrations.records import FulfilmentOut, InventoryOut, OutboundItem

# BigCommerce's shipping_provider enum (the V2 shipment docs); anything else goes as tracking_carrier.
PROVIDERS = frozenset(
    {"auspost", "canadapost", "endicia", "usps", "fedex", "ups", "upsready", "upsonline", "shipperhq"}
)
_NAMED = re.compile(r"\b(variant_id|product_id|sku)\s+([A-Za-z0-9_.\-]+)")


def body_of(response: httpx.Response, what: str) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError(f"BigCommerce answered {what} with a body that is not JSON") from exc


def problem(exc: PermanentError) -> str:
    """What a V3 problem details body (or a V2 error array) says."""
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        return exc.body or str(exc)
    if isinstance(body, list):
        return "; ".join(str(e.get("message")) for e in body if isinstance(e, Mapping)) or str(exc)
    if isinstance(body, Mapping):
        title = str(body.get("title") or body.get("detail") or "").strip("[] ")
        errors = body.get("errors") or {}
        details = "; ".join(f"{k}: {v}" for k, v in errors.items()) if isinstance(errors, Mapping) else ""
        return "; ".join(p for p in (title, details) if p) or str(exc)
    return str(exc)


def location_of(item: InventoryOut, default: int) -> int:
    """The BigCommerce location an item goes to: the one mapped to its warehouse, else ``default``."""
    if item.location_id is None:
        return default
    try:
        return int(item.location_id)
    except ValueError:
        raise PermanentError(
            f"BigCommerce location ids are numbers: {item.location_id!r} (the location mapped for "
            f"{item.sku}) is not one; map the warehouse to a location id.",
            status=None,
        ) from None


class StockPusher:
    def __init__(self, http: HttpClient, url: Callable[[str], str], location_id: int) -> None:
        self.http = http
        self.url = url
        self.location_id = location_id  # the default location (nothing mapped)

    def entry(self, item: InventoryOut) -> dict[str, Any]:
        return {
            "location_id": location_of(item, self.location_id),
            "variant_id": int(item.external_id),
            "quantity": item.available,
        }

    def push(self, items: Sequence[InventoryOut], reason: str) -> list[PushResult | Exception]:
        results: list[PushResult | Exception] = [PushResult() for _ in items]
        pending = []
        for i, item in enumerate(items):
            try:
                location_of(item, self.location_id)
            except PermanentError as exc:  # a location that is not BigCommerce's: that item dies
                results[i] = exc
            else:
                pending.append(i)
        while pending:
            try:
                self._send([items[i] for i in pending], reason)
            except PermanentError as exc:
                if exc.status != 422:
                    raise
                message = problem(exc)
                named = self._named(message, [items[i] for i in pending])
                if not named:
                    if len(pending) == 1:
                        results[pending[0]] = self._refused(items[pending[0]], message, exc)
                        return results
                    for i in pending:  # which one? each on its own
                        results[i] = self.push([items[i]], reason)[0]
                    return results
                for position in named:
                    results[pending[position]] = self._refused(items[pending[position]], message, exc)
                pending = [i for n, i in enumerate(pending) if n not in named]
                continue
            for i in pending:
                item = items[i]
                results[i] = PushResult(
                    external_id=item.external_id,
                    detail=f"{item.sku}: on hand {item.available} at location "
                    f"{location_of(item, self.location_id)}",
                )
            pending = []
        return results

    def _send(self, items: Sequence[InventoryOut], reason: str) -> None:
        payload = {"reason": reason, "items": [self.entry(i) for i in items]}
        self.http.request("PUT", self.url("v3/inventory/adjustments/absolute"), json=payload)

    @staticmethod
    def _named(message: str, items: Sequence[InventoryOut]) -> set[int]:
        found = set()
        for field, value in _NAMED.findall(message):
            for n, item in enumerate(items):
                mine = item.sku if field == "sku" else item.external_id
                if field == "product_id":
                    mine = str(item.extra.get("product_id", ""))
                if mine and mine == value:
                    found.add(n)
        return found

    def _refused(self, item: InventoryOut, message: str, exc: PermanentError) -> PermanentError:
        return PermanentError(
            f"BigCommerce refused the stock of {item.sku} (variant {item.external_id}) at location "
            f"{location_of(item, self.location_id)}: {message}",
            status=422,
            body=exc.body,
        )


class ShipmentPusher:
    def __init__(self, http: HttpClient, url: Callable[[str], str]) -> None:
        self.http = http
        self.url = url

    def push(self, item: FulfilmentOut, context: PushContext) -> PushResult:
        if item.external_id:
            return self.update(item)
        order_id = item.order_external_id
        comment = f"Shipment {item.shipment_number}"
        for existing in (
            body_of(self.http.request("GET", self.url(f"v2/orders/{order_id}/shipments")), "shipments") or ()
        ):
            same_number = item.tracking_number and existing.get("tracking_number") == item.tracking_number
            if same_number or comment in str(existing.get("comments") or ""):
                return PushResult(
                    external_id=str(existing.get("id", "")), detail=f"{comment}: already in BigCommerce"
                )
        products = (
            body_of(self.http.request("GET", self.url(f"v2/orders/{order_id}/products")), "products") or []
        )
        address_of = {str(p.get("id")): p.get("order_address_id") for p in products}
        unknown = [line.external_line_id for line in item.lines if line.external_line_id not in address_of]
        if unknown:
            raise PermanentError(
                f"Order {order_id} has no product line {', '.join(unknown)} in BigCommerce", status=None
            )
        by_address: dict[Any, list[dict[str, int]]] = {}
        for line in item.lines:
            if line.quantity > 0:
                by_address.setdefault(address_of[line.external_line_id], []).append(
                    {"order_product_id": int(line.external_line_id), "quantity": line.quantity}
                )
        carrier = carrier_of(item)
        made = []
        for address_id, lines in by_address.items():
            payload: dict[str, Any] = {
                "order_address_id": address_id,
                "tracking_number": item.tracking_number,
                "shipping_provider": carrier if carrier in PROVIDERS else "",
                "tracking_carrier": carrier,
                "comments": comment
                + (f" ({item.carrier})" if item.carrier and carrier not in PROVIDERS else ""),
                "items": lines,
            }
            created = body_of(
                self.http.request("POST", self.url(f"v2/orders/{order_id}/shipments"), json=payload),
                "a shipment",
            )
            made.append(str((created or {}).get("id", "")))
        if not made:
            return PushResult(detail=f"{comment}: nothing to ship")
        return PushResult(external_id=made[0], detail=f"{comment} recorded in BigCommerce")

    def update(self, item: FulfilmentOut) -> PushResult:
        """A new label for a shipment BigCommerce has: ``PUT /v2/orders/{id}/shipments/{shipment_id}``
        replaces its tracking number, carrier and link (its items and comments stay)."""
        order_id, shipment_id = item.order_external_id, item.external_id
        carrier = carrier_of(item)
        payload = {
            "tracking_number": item.tracking_number,
            "shipping_provider": carrier if carrier in PROVIDERS else "",
            "tracking_carrier": carrier,
            "tracking_link": item.tracking_url,
        }
        try:
            response = self.http.request(
                "PUT", self.url(f"v2/orders/{order_id}/shipments/{shipment_id}"), json=payload
            )
        except PermanentError as exc:
            if exc.status != 404:
                raise
            missing = PermanentError(
                f"BigCommerce has no shipment {shipment_id} on order {order_id} to update the tracking of",
                status=404,
                body=exc.body,
            )
            missing.request_log = exc.request_log  # the failed request's log row stays with it
            raise missing from exc
        updated = body_of(response, "a shipment update") or {}
        return PushResult(
            external_id=str(updated.get("id") or shipment_id),
            detail=f"Shipment {item.shipment_number}: tracking now {item.tracking_number or 'none'} "
            "in BigCommerce",
        )


def carrier_of(item: FulfilmentOut) -> str:
    """Our carrier as BigCommerce's tracking_carrier (lower case, no spaces)."""
    return item.carrier.strip().lower().replace(" ", "")


def split(items: Sequence[tuple[OutboundItem, PushContext]]) -> tuple[list[int], list[int]]:
    """The positions of stock items and of everything else."""
    stock = [n for n, (item, _) in enumerate(items) if isinstance(item, InventoryOut)]
    return stock, [n for n in range(len(items)) if n not in stock]
