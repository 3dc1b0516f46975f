"""The fake ShipBob's 2026-01 endpoints (paths after ``/2026-01/``), on ``ShipBobWebhooks``' state.

* ``GET channel``: ``{"items": [{id, name, application_name, scopes}], "next", "prev"}``.
* ``POST order`` (201, the Order), ``GET order?IDs=&ReferenceIds=&Page=&Limit=&SortOrder=``
  (an array of Orders; paging headers ``Page-Number``, ``Total-Pages``, ``Total-Count``,
  ``Page-Size`` and ``Next-Page`` when there is one), ``GET order/{id}``,
  ``GET order/{id}/shipment``, ``GET order/{id}/shipment/{shipmentId}``, ``GET shipment/{id}``,
  ``POST order/{id}:cancel`` (200 ``{canceled_shipment_results, order, order_id, status}``),
  ``PUT shipment/{id}:updateAddress`` (200 ``{id, is_success, error}``; see ``fake_orders``).
* ``GET inventory-level?InventoryIds=&SearchBy=&IsActive=&PageSize=`` and
  ``GET inventory-level/locations`` (same filters): ``{"items", "first", "next", "prev", "last"}``,
  cursor pagination by relative URLs (``?cursor=`` base64url of ``{"Id", "CursorType", ...}``:
  0 after Id, 1 before Id, 3 the last page; the page size and filters ride in the cursor);
  ``GET inventory-level/{inventoryId}``.
* ``POST receiving`` (201), ``GET receiving/{id}``, ``POST receiving/{id}:cancel``.
* ``POST webhook`` (200), ``GET webhook``, ``DELETE webhook/{id}`` (204).

Query parameter names are case-insensitive (ASP.NET binds them so). 404s have no body.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from integrations.fakes.pagination import BadCursor, decode_cursor, encode_cursor, numbered_page
from integrations.shipbob.fake_data import VERSION, Problem, invalid, iso, not_found
from integrations.shipbob.fake_webhooks import ShipBobWebhooks

Reply = tuple[int, Any, dict[str, str]]
_ID = r"(?P<id>\d+)"
_INVENTORY_PAGE = 100
_INVENTORY_MAX = 250
_ORDER_PAGE = 50
_ORDER_MAX = 250


def needs_channel(method: str, path: str) -> bool:
    """Whether a call writes orders or receiving (``shipbob_channel_id`` required)."""
    return method in ("POST", "PUT", "PATCH", "DELETE") and path.startswith(
        ("order", "shipment", "receiving")
    )


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name.lower())
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise invalid({name: f"The value '{raw}' is not valid for {name}."}) from None
    if not low <= value <= high:
        raise invalid({name: f"The field {name} must be between {low} and {high}."})
    return value


def _ids(params: Mapping[str, str], name: str) -> set[int] | None:
    raw = params.get(name.lower())
    if not raw:
        return None
    try:
        return {int(part) for part in str(raw).split(",") if part.strip()}
    except ValueError:
        raise invalid({name: f"The value '{raw}' is not valid for {name}."}) from None


def _when(params: Mapping[str, str], name: str) -> str | None:
    """A date filter as ShipBob takes it (ISO 8601), normalised to compare with the orders' stamps."""
    raw = params.get(name.lower())
    if not raw:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise invalid({name: f"The value '{raw}' is not valid for {name}."}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return iso(moment.astimezone(datetime.UTC))


def _latest(order: Mapping[str, Any], stamp: str) -> str:
    """The order's latest ``stamp`` over its shipments ("" when none has one): ShipBob's order
    filters by update and tracking update read its shipments'."""
    return max((str(s.get(stamp) or "") for s in order.get("shipments") or ()), default="")


class ShipBobApi(ShipBobWebhooks):
    """Routing and the endpoints' request and answer shapes."""

    def route(
        self, method: str, path: str, params: Mapping[str, str], payload: Any, channel_id: int | None
    ) -> Reply:
        """One call: (status, JSON body or None, extra headers); ``Problem`` for an error."""
        query = {k.lower(): v for k, v in params.items()}
        if path == "channel" and method == "GET":
            return 200, {"items": [dict(c) for c in self.channels.values()], "next": None, "prev": None}, {}
        if path == "order":
            if method == "POST":
                return 201, self.create_order(payload, channel_id or 0), {}
            if method == "GET":
                return self._list_orders(query, channel_id)
        if path in ("inventory-level", "inventory-level/locations") and method == "GET":
            return self._inventory_page(path, query)
        if path == "receiving" and method == "POST":
            return 201, self.create_receiving(payload), {}
        if path in ("shipment:bulkPlaceOnHold", "shipment:bulkReleaseHold") and method == "POST":
            return 200, self._bulk_hold(path.endswith("PlaceOnHold"), payload), {}
        if path == "webhook":
            if method == "POST":
                return 200, self.create_subscription(payload), {}
            if method == "GET":
                return 200, {"items": self.subscription_views(), "next": None, "prev": None}, {}
        return self._by_id(method, path, payload)

    def _bulk_hold(self, hold: bool, payload: Any) -> dict[str, Any]:
        """``POST shipment:bulkPlaceOnHold`` / ``:bulkReleaseHold`` ``{"shipment_ids": [...]}``: each
        shipment on its own, ``{"summary": {...}, "results": [{"error", "id", "is_success"}]}``."""
        ids = (payload or {}).get("shipment_ids") if isinstance(payload, dict) else None
        if not ids:
            raise invalid({"shipment_ids": "At least one shipment id is required."})
        results = []
        for shipment_id in ids:
            try:
                if hold:
                    self.hold(int(shipment_id))
                elif self.shipment(int(shipment_id))["status"] == "OnHold":
                    self.release(int(shipment_id))
                results.append({"error": None, "id": shipment_id, "is_success": True})
            except (KeyError, ValueError) as exc:
                error = {"code": "INVALID_STATE", "message": str(exc).strip("'\"")}
                results.append({"error": error, "id": shipment_id, "is_success": False})
        done = sum(1 for r in results if r["is_success"])
        return {
            "summary": {"failed": len(results) - done, "successful": done, "total": len(results)},
            "results": results,
        }

    def _by_id(self, method: str, path: str, payload: Any) -> Reply:
        found = re.fullmatch(rf"order/{_ID}(?P<rest>:cancel|/shipment(/(?P<sid>\d+))?)?", path)
        if found is not None:
            order = self.orders.get(int(found["id"]))
            if order is None:
                raise not_found()
            rest = found["rest"]
            if rest is None and method == "GET":
                return 200, copy.deepcopy(order), {}
            if rest == ":cancel" and method == "POST":
                return 200, self.cancel_order(order["id"]), {}
            if rest is not None and rest.startswith("/shipment") and method == "GET":
                if found["sid"] is None:
                    return 200, copy.deepcopy(order["shipments"]), {}
                shipment = next((s for s in order["shipments"] if s["id"] == int(found["sid"])), None)
                if shipment is None:
                    raise not_found()
                return 200, copy.deepcopy(shipment), {}
            raise Problem(405)
        if (found := re.fullmatch(rf"shipment/{_ID}:updateAddress", path)) is not None:
            if method != "PUT":
                raise Problem(405)
            if int(found["id"]) not in self.shipments:
                raise not_found()
            return 200, self.update_address(int(found["id"]), payload), {}
        if (found := re.fullmatch(rf"shipment/{_ID}", path)) is not None and method == "GET":
            shipment = self.shipments.get(int(found["id"]))
            if shipment is None:
                raise not_found()
            return 200, copy.deepcopy(shipment), {}
        if (found := re.fullmatch(rf"inventory-level/{_ID}", path)) is not None and method == "GET":
            product = self._product_by_inventory(int(found["id"]))
            if product is None:
                raise not_found()
            return 200, self.level_item(product), {}
        if (found := re.fullmatch(rf"receiving/{_ID}(?P<cancel>:cancel)?", path)) is not None:
            wro = self.wros.get(int(found["id"]))
            if wro is None:
                raise not_found()
            if found["cancel"] is None and method == "GET":
                return 200, copy.deepcopy(wro), {}
            if found["cancel"] is not None and method == "POST":
                return 200, self.cancel_receiving(wro["id"]), {}
            raise Problem(405)
        if (found := re.fullmatch(r"webhook/(?P<id>[^/]+)", path)) is not None and method == "DELETE":
            self.delete_subscription(found["id"])
            return 204, None, {}
        raise not_found()

    # --- orders -------------------------------------------------------------------------------------

    def _list_orders(self, query: Mapping[str, str], channel_id: int | None) -> Reply:
        page = _int(query, "Page", 1, 1, 2147483647)
        limit = _int(query, "Limit", _ORDER_PAGE, 1, _ORDER_MAX)
        ids = _ids(query, "IDs")
        references = {r for r in query.get("referenceids", "").split(",") if r} or None
        sort = query.get("sortorder") or "Newest"
        if sort not in ("Newest", "Oldest"):
            raise invalid({"SortOrder": f"The value '{sort}' is not valid for SortOrder."})
        tracked_since = _when(query, "LastTrackingUpdateStartDate")
        updated_since = _when(query, "LastUpdateStartDate")
        orders = [
            o
            for o in self.orders.values()
            if (channel_id is None or o["channel"]["id"] == channel_id)
            and (ids is None or o["id"] in ids)
            and (references is None or o["reference_id"] in references)
            and (tracked_since is None or _latest(o, "last_tracking_update_at") > tracked_since)
            and (updated_since is None or _latest(o, "last_update_at") > updated_since)
        ]
        orders.sort(key=lambda o: o["id"], reverse=sort == "Newest")
        chunk = numbered_page(orders, page, limit)
        headers = {
            "Page-Number": str(chunk.number),
            "Total-Pages": str(chunk.pages),
            "Total-Count": str(chunk.total),
            "Page-Size": str(limit),
        }
        if chunk.next_number is not None:
            kept = {k: v for k, v in query.items() if k not in ("page", "limit")}
            rest = {**kept, "Page": chunk.next_number, "Limit": limit}
            headers["Next-Page"] = f"/{VERSION}/order?" + urlencode(rest, safe=",")
        return 200, copy.deepcopy(chunk.items), headers

    # --- inventory ----------------------------------------------------------------------------------

    def _inventory_page(self, path: str, query: Mapping[str, str]) -> Reply:
        view: Callable[[Mapping[str, Any]], dict[str, Any]] = (
            self.location_item if path.endswith("locations") else self.level_item
        )
        state: dict[str, Any]
        if query.get("cursor"):
            try:
                state = decode_cursor(query["cursor"], required=("Id", "CursorType", "PageSize"))
            except BadCursor as error:
                raise invalid({"cursor": str(error)}) from None
        else:
            state = {
                "Id": 0,
                "CursorType": 2,
                "PageSize": _int(query, "PageSize", _INVENTORY_PAGE, 1, _INVENTORY_MAX),
            }
            for name in ("InventoryIds", "SearchBy", "IsActive"):
                if query.get(name.lower()):
                    state[name] = query[name.lower()]
        filters = {k: v for k, v in state.items() if k in ("InventoryIds", "SearchBy", "IsActive")}
        ids = _ids({k.lower(): str(v) for k, v in filters.items()}, "InventoryIds")
        search = str(filters.get("SearchBy", "")).lower()
        active = str(filters["IsActive"]).lower() == "true" if "IsActive" in filters else None
        products = sorted(
            (
                p
                for p in self.products.values()
                if (ids is None or p["inventory_id"] in ids)
                and (not search or search in p["sku"].lower() or search in p["name"].lower())
                and (active is None or p["active"] == active)
            ),
            key=lambda p: p["inventory_id"],
        )
        size, kind, boundary = int(state["PageSize"]), int(state["CursorType"]), int(state["Id"])
        keys = [p["inventory_id"] for p in products]
        if kind == 0:
            start = next((i for i, k in enumerate(keys) if k > boundary), len(keys))
        elif kind == 1:
            start = max(sum(1 for k in keys if k < boundary) - size, 0)
        elif kind == 3:
            start = ((len(keys) - 1) // size) * size if keys else 0
        else:
            start = 0
        chunk = products[start : start + size]
        base = f"/{VERSION}/{path}"

        def link(kind: int, boundary: int) -> str:
            cursor = encode_cursor({"Id": boundary, "CursorType": kind, "PageSize": size, **filters})
            return f"{base}?cursor={cursor}"

        first = {"PageSize": size, **filters}
        more = start + size < len(products)
        body = {
            "items": [view(p) for p in chunk],
            "first": f"{base}?" + urlencode(first, safe=","),
            "next": link(0, chunk[-1]["inventory_id"]) if chunk and more else None,
            "prev": link(1, chunk[0]["inventory_id"]) if chunk and start > 0 else None,
            "last": link(3, 0) if more else None,
        }
        return 200, body, {}
