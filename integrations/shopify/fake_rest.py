"""The fake Shopify's REST Admin API: routes, Link-header pagination, list filters and writes."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from integrations.fakes.pagination import BadCursor, decode_cursor, encode_cursor, keyset_start
from integrations.shopify.fake_orders import RESTOCK_TYPES, OrderChanges
from integrations.shopify.fake_state import _int, _invalid, _not_found, _parse_time, _Problem

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
WEBHOOK_TOPICS = frozenset(
    {
        "app/uninstalled",
        "fulfillments/create",
        "fulfillments/update",
        "inventory_levels/update",
        "orders/cancelled",
        "orders/create",
        "orders/delete",
        "orders/edited",
        "orders/fulfilled",
        "orders/paid",
        "orders/partially_fulfilled",
        "orders/updated",
        "products/create",
        "products/delete",
        "products/update",
        "refunds/create",
    }
)


class RestApi(OrderChanges):
    """``/admin/api/{version}/….json``: what the connector calls, answered from the shop's state."""

    # --- REST routes ------------------------------------------------------------------------

    def _route(
        self, method: str, resource: str, params: dict[str, str], payload: Any, root: str
    ) -> tuple[int, Any, dict[str, str]]:
        parts = resource.removesuffix(".json").split("/")
        body = payload if isinstance(payload, dict) else {}
        match method, parts:
            case "GET", ["shop"]:
                return 200, {"shop": copy.deepcopy(self.shop)}, {}
            case "GET", ["locations"]:
                return 200, {"locations": [copy.deepcopy(v) for v in self.locations.values()]}, {}
            case "GET", ["locations", location_id]:
                location = self.locations.get(_int(location_id, "id"))
                if location is None:
                    raise _not_found()
                return 200, {"location": copy.deepcopy(location)}, {}
            case "GET", ["products"]:
                return self._list_products(params, root)
            case "GET", ["products", product_id]:
                product = self.products.get(_int(product_id, "id"))
                if product is None:
                    raise _not_found()
                return 200, {"product": copy.deepcopy(product)}, {}
            case "GET", ["variants", variant_id]:
                return 200, {"variant": copy.deepcopy(self._find_variant(_int(variant_id, "id"))[1])}, {}
            case "GET", ["orders"]:
                return self._list_orders(params, root)
            case "GET", ["orders", order_id]:
                order = self.orders.get(_int(order_id, "id"))
                if order is None:
                    raise _not_found()
                return 200, {"order": copy.deepcopy(order)}, {}
            case "GET", ["orders", order_id, "fulfillment_orders"]:
                oid = _int(order_id, "order_id")
                if oid not in self.orders:
                    raise _not_found()
                fos = [copy.deepcopy(fo) for fo in self.fulfillment_orders.values() if fo["order_id"] == oid]
                return 200, {"fulfillment_orders": fos}, {}
            case "GET", ["orders", order_id, ("fulfillments" | "refunds") as kind]:
                return 200, {kind: copy.deepcopy(self._order_of(order_id).get(kind) or [])}, {}
            case "GET", ["orders", order_id, ("fulfillments" | "refunds") as kind, item_id]:
                wanted = _int(item_id, "id")
                found = [i for i in self._order_of(order_id).get(kind) or [] if i["id"] == wanted]
                if not found:
                    raise _not_found()
                return 200, {kind.removesuffix("s"): copy.deepcopy(found[0])}, {}
            case "POST", ["orders", order_id, "refunds"]:
                order = self._order_of(order_id)
                return 201, {"refund": self._create_refund(order, body.get("refund") or {})}, {}
            case "POST", ["fulfillments"]:
                return 201, {"fulfillment": self._create_fulfillment(body.get("fulfillment") or {})}, {}
            case "POST", ["fulfillments", fulfillment_id, "update_tracking"]:
                return 200, {"fulfillment": self._update_tracking_request(fulfillment_id, body)}, {}
            case "GET", ["inventory_levels"]:
                return self._list_levels(params, root)
            case "POST", ["inventory_levels", "set"]:
                return 200, {"inventory_level": self._set_level_request(body, adjust=False)}, {}
            case "POST", ["inventory_levels", "adjust"]:
                return 200, {"inventory_level": self._set_level_request(body, adjust=True)}, {}
            case "GET", ["webhooks"]:
                return self._list_webhooks(params, root)
            case "POST", ["webhooks"]:
                return 201, {"webhook": self._create_webhook(body.get("webhook") or {})}, {}
            case "GET", ["webhooks", webhook_id]:
                webhook = self.webhooks.get(_int(webhook_id, "id"))
                if webhook is None:
                    raise _not_found()
                return 200, {"webhook": copy.deepcopy(webhook)}, {}
            case "DELETE", ["webhooks", webhook_id]:
                if self.webhooks.pop(_int(webhook_id, "id"), None) is None:
                    raise _not_found()
                return 200, {}, {}
        raise _not_found()

    # --- pagination -------------------------------------------------------------------------

    def _page(
        self,
        name: str,
        items: list[dict[str, Any]],
        sort_key: Callable[[dict[str, Any]], list[Any]],
        descending: bool,
        filters: dict[str, str],
        params: dict[str, str],
        resource_url: str,
    ) -> tuple[int, Any, dict[str, str]]:
        """One page of ``items`` (already filtered) in order, with the Link header Shopify sends."""
        limit = min(max(_int(params.get("limit", DEFAULT_LIMIT), "limit"), 1), MAX_LIMIT)
        ordered = sorted(items, key=sort_key, reverse=descending)
        keys = [sort_key(item) for item in ordered]
        cursor = params.get("page_info")
        start = 0
        if cursor:
            token = self._decode(cursor)
            start = keyset_start(keys, token["k"], token["d"], limit, descending=descending)
        chunk = ordered[start : start + limit]
        links = []
        if chunk and start > 0:
            links.append(
                f'<{self._link(resource_url, limit, "prev", sort_key(chunk[0]), filters)}>; rel="previous"'
            )
        if chunk and start + limit < len(ordered):
            links.append(
                f'<{self._link(resource_url, limit, "next", sort_key(chunk[-1]), filters)}>; rel="next"'
            )
        extra = {"Link": ", ".join(links)} if links else {}
        return 200, {name: copy.deepcopy(chunk)}, extra

    @staticmethod
    def _link(resource_url: str, limit: int, direction: str, key: list[Any], filters: dict[str, str]) -> str:
        token = encode_cursor({"d": direction, "k": key, "f": filters})
        return f"{resource_url}?{urlencode({'limit': limit, 'page_info': token})}"

    @staticmethod
    def _decode(cursor: str) -> dict[str, Any]:
        try:
            token = decode_cursor(cursor, required=("d", "k", "f"))
            if token["d"] not in ("next", "prev"):
                raise BadCursor(cursor)
        except BadCursor:
            raise _invalid("page_info", "Invalid value.", 400) from None
        return token

    def _filters(self, params: dict[str, str], allowed: Iterable[str]) -> dict[str, str]:
        """The query's filters, or (on a page_info request) the first page's, carried in the cursor."""
        cursor = params.get("page_info")
        if cursor:
            extra = sorted(set(params) - {"page_info", "limit", "fields"})
            if extra:
                raise _invalid("page_info", f"cannot be combined with {', '.join(extra)}", 400)
            return dict(self._decode(cursor)["f"])
        return {k: v for k, v in params.items() if k in allowed}

    # --- lists ---------------------------------------------------------------------------

    def _list_products(self, params: dict[str, str], root: str) -> tuple[int, Any, dict[str, str]]:
        filters = self._filters(params, ("ids", "since_id", "updated_at_min", "updated_at_max", "status"))
        items = list(self.products.values())
        if "ids" in filters:
            wanted = {int(i) for i in filters["ids"].split(",") if i.strip()}
            items = [p for p in items if p["id"] in wanted]
        if "since_id" in filters:
            items = [p for p in items if p["id"] > _int(filters["since_id"], "since_id")]
        if "status" in filters:
            items = [p for p in items if p.get("status") in filters["status"].split(",")]
        items = self._time_filter(items, filters, "updated_at")
        return self._page(
            "products", items, lambda p: [p["id"]], False, filters, params, f"{root}/products.json"
        )

    def _list_orders(self, params: dict[str, str], root: str) -> tuple[int, Any, dict[str, str]]:
        filters = self._filters(
            params,
            (
                "status",
                "ids",
                "since_id",
                "financial_status",
                "fulfillment_status",
                "order",
                "updated_at_min",
                "updated_at_max",
                "created_at_min",
                "created_at_max",
            ),
        )
        status = filters.get("status", "open")
        items = list(self.orders.values())
        if status == "open":
            items = [o for o in items if not o.get("closed_at") and not o.get("cancelled_at")]
        elif status == "closed":
            items = [o for o in items if o.get("closed_at")]
        elif status == "cancelled":
            items = [o for o in items if o.get("cancelled_at")]
        elif status != "any":
            raise _invalid("status", "is invalid", 400)
        if "ids" in filters:
            wanted = {int(i) for i in filters["ids"].split(",") if i.strip()}
            items = [o for o in items if o["id"] in wanted]
        if "since_id" in filters:
            items = [o for o in items if o["id"] > _int(filters["since_id"], "since_id")]
        if filters.get("financial_status", "any") != "any":
            items = [o for o in items if o.get("financial_status") == filters["financial_status"]]
        items = self._time_filter(items, filters, "updated_at")
        items = self._time_filter(items, filters, "created_at")
        field_name, _, direction = filters.get("order", "created_at desc").partition(" ")
        if field_name not in ("created_at", "updated_at", "processed_at", "id"):
            raise _invalid("order", "is invalid", 400)

        def key(order: dict[str, Any]) -> list[Any]:
            if field_name == "id":
                return [order["id"]]
            return [_parse_time(order[field_name], field_name).timestamp(), order["id"]]

        descending = direction.strip().lower() != "asc"
        return self._page("orders", items, key, descending, filters, params, f"{root}/orders.json")

    @staticmethod
    def _time_filter(
        items: list[dict[str, Any]], filters: dict[str, str], field_name: str
    ) -> list[dict[str, Any]]:
        if f"{field_name}_min" in filters:
            low = _parse_time(filters[f"{field_name}_min"], f"{field_name}_min")
            items = [i for i in items if _parse_time(i[field_name], field_name) >= low]
        if f"{field_name}_max" in filters:
            high = _parse_time(filters[f"{field_name}_max"], f"{field_name}_max")
            items = [i for i in items if _parse_time(i[field_name], field_name) <= high]
        return items

    def _list_levels(self, params: dict[str, str], root: str) -> tuple[int, Any, dict[str, str]]:
        filters = self._filters(params, ("inventory_item_ids", "location_ids", "updated_at_min"))
        if "inventory_item_ids" not in filters and "location_ids" not in filters:
            raise _Problem(
                422, {"errors": "Must specify at least one of inventory_item_ids or location_ids."}
            )
        items = list(self.levels.values())
        for name, column in (("inventory_item_ids", "inventory_item_id"), ("location_ids", "location_id")):
            if name in filters:
                wanted = {int(i) for i in filters[name].split(",") if i.strip()}
                items = [lv for lv in items if lv[column] in wanted]
        items = self._time_filter(items, filters, "updated_at")
        return self._page(
            "inventory_levels",
            items,
            lambda lv: [lv["inventory_item_id"], lv["location_id"]],
            False,
            filters,
            params,
            f"{root}/inventory_levels.json",
        )

    def _list_webhooks(self, params: dict[str, str], root: str) -> tuple[int, Any, dict[str, str]]:
        filters = self._filters(params, ("topic", "address"))
        items = [
            w
            for w in self.webhooks.values()
            if all(w.get(k) == v for k, v in filters.items() if k in ("topic", "address"))
        ]
        return self._page(
            "webhooks", items, lambda w: [w["id"]], False, filters, params, f"{root}/webhooks.json"
        )

    # --- writes ------------------------------------------------------------------------------

    def _set_level_request(self, body: dict[str, Any], *, adjust: bool) -> dict[str, Any]:
        for name in ("location_id", "inventory_item_id", "available_adjustment" if adjust else "available"):
            if body.get(name) is None:
                raise _invalid(name, "is required")
        location_id = _int(body["location_id"], "location_id")
        inventory_item_id = _int(body["inventory_item_id"], "inventory_item_id")
        if location_id not in self.locations:
            raise _invalid("location_id", "not found")
        if inventory_item_id not in self._inventory_item_ids():
            raise _invalid("inventory_item_id", "not found")
        if adjust:
            current = (self.levels.get((inventory_item_id, location_id)) or {}).get("available") or 0
            quantity = current + _int(body["available_adjustment"], "available_adjustment")
        else:
            quantity = _int(body["available"], "available")
        return copy.deepcopy(self._set_level(inventory_item_id, location_id, quantity))

    def _create_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        topic, address = body.get("topic"), body.get("address")
        if topic not in WEBHOOK_TOPICS:
            raise _invalid(
                "topic", "Invalid topic specified. Topics allowed: " + ", ".join(sorted(WEBHOOK_TOPICS))
            )
        if not address or not str(address).startswith(("http://", "https://")):
            raise _invalid("address", "is invalid")
        if any(w["topic"] == topic and w["address"] == address for w in self.webhooks.values()):
            raise _invalid("address", "for this topic has already been taken")
        webhook_id = self._new_id()
        now = self._now()
        self.webhooks[webhook_id] = {
            "id": webhook_id,
            "address": address,
            "topic": topic,
            "created_at": now,
            "updated_at": now,
            "format": body.get("format") or "json",
            "fields": body.get("fields") or [],
            "metafield_namespaces": [],
            "api_version": self.api_version,
            "private_metafield_namespaces": [],
        }
        return copy.deepcopy(self.webhooks[webhook_id])

    def _create_fulfillment(self, body: dict[str, Any]) -> dict[str, Any]:
        groups = body.get("line_items_by_fulfillment_order")
        if not groups:
            raise _invalid("line_items_by_fulfillment_order", "can't be blank")
        plan: list[tuple[dict[str, Any], dict[str, Any], int]] = []
        order_ids = set()
        for group in groups:
            fo = self.fulfillment_orders.get(_int(group.get("fulfillment_order_id"), "fulfillment_order_id"))
            if fo is None:
                raise _not_found()
            if fo["status"] not in ("open", "in_progress", "scheduled"):
                raise _Problem(
                    422,
                    {
                        "errors": [
                            f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status']}."
                        ]
                    },
                )
            order_ids.add(fo["order_id"])
            requested = group.get("fulfillment_order_line_items")
            if requested is None:  # the whole remaining fulfilment order
                requested = [
                    {"id": li["id"], "quantity": li["fulfillable_quantity"]} for li in fo["line_items"]
                ]
            lines = {li["id"]: li for li in fo["line_items"]}
            for entry in requested:
                fo_line = lines.get(_int(entry.get("id"), "id"))
                quantity = _int(entry.get("quantity"), "quantity")
                if fo_line is None or quantity < 0 or quantity > fo_line["fulfillable_quantity"]:
                    raise _Problem(
                        422, {"errors": ["Invalid fulfillment order line item quantity requested."]}
                    )
                if quantity:
                    plan.append((fo, fo_line, quantity))
        if len(order_ids) != 1:
            raise _Problem(422, {"errors": ["All fulfillment orders must belong to the same order."]})
        if not plan:
            raise _Problem(422, {"errors": ["Invalid fulfillment order line item quantity requested."]})
        order = self.orders[order_ids.pop()]
        fulfillment = self._record_fulfilment(order, plan, body.get("tracking_info") or {})
        if body.get("notify_customer"):
            self._notify_customer("shipping_confirmation", order, fulfillment)
        return copy.deepcopy(fulfillment)

    def _update_tracking_request(self, fulfillment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``{"fulfillment": {"notify_customer": …, "tracking_info": {number, company, url}}}``."""
        wanted = _int(fulfillment_id, "id")
        request = body.get("fulfillment")
        if not isinstance(request, dict) or not isinstance(request.get("tracking_info"), dict):
            raise _Problem(400, {"errors": {"fulfillment": "Required parameter missing or invalid"}})
        try:
            fulfillment = self._fulfilment(wanted)
        except KeyError:
            raise _not_found() from None
        self._retrack(fulfillment, request["tracking_info"])
        if request.get("notify_customer"):
            self._notify_customer("shipping_update", self.orders[fulfillment["order_id"]], fulfillment)
        return copy.deepcopy(fulfillment)

    def _notify_customer(self, template: str, order: dict[str, Any], fulfillment: dict[str, Any]) -> None:
        """Shopify emails the customer (its "Shipping confirmation" or "Shipping update")."""
        self.customer_notifications.append(
            {
                "template": template,
                "order_id": order["id"],
                "fulfillment_id": fulfillment["id"],
                "email": order.get("email"),
                "tracking_number": fulfillment.get("tracking_number"),
            }
        )

    def _order_of(self, order_id: str) -> dict[str, Any]:
        order = self.orders.get(_int(order_id, "order_id"))
        if order is None:
            raise _not_found()
        return order

    def _create_refund(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """``POST orders/{id}/refunds.json``: refund_line_items and refund transactions, as in the admin."""
        lines: dict[int, int] = {}
        kinds = set()
        for item in body.get("refund_line_items") or ():
            line_id = _int(item.get("line_item_id"), "line_item_id")
            lines[line_id] = lines.get(line_id, 0) + _int(item.get("quantity"), "quantity")
            kinds.add(item.get("restock_type") or "no_restock")
        if len(kinds) > 1 or not kinds <= set(RESTOCK_TYPES):
            raise _invalid("restock_type", "is invalid")
        try:
            amount = sum(
                (
                    Decimal(str(t.get("amount") or 0))
                    for t in body.get("transactions") or ()
                    if t.get("kind") == "refund"
                ),
                Decimal(0),
            )
        except InvalidOperation:
            raise _invalid("amount", "is not a number") from None
        try:
            refund = self._refund(
                order,
                lines,
                restock_type=kinds.pop() if kinds else "no_restock",
                amount=amount,
                note=str(body.get("note") or ""),
            )
        except ValueError as exc:
            raise _invalid("refund_line_items", str(exc)) from None
        self._emit("refunds/create", refund)
        self._emit_order(order, "orders/updated")
        return copy.deepcopy(refund)
