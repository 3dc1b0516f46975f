"""The fake BigCommerce's REST API: the V2 and V3 endpoints the connector uses, over the store's state.

``route(method, version, path, params, payload)`` -> (status, body, content type); body None
is an empty body (V2's 204). Errors are ``Problem``: V2 answers an array of
``{"status", "message"}``, V3 answers problem details.

V2: ``GET /orders`` (a bare array; ``page``, ``limit`` (default 50, at most 250),
``min_date_modified`` / ``max_date_modified`` / ``min_date_created`` / ``max_date_created``
(RFC 2822 or ISO 8601), ``status_id``, ``min_id`` / ``max_id``, ``sort=field:asc|desc``; 204 with
no body when nothing matches; archived orders left out), ``GET|PUT|DELETE /orders/{id}``,
``GET /orders/{id}/products``, ``GET /orders/{id}/shipping_addresses`` (and
``shippingaddresses``), ``GET|POST /orders/{id}/shipments``,
``GET|PUT /orders/{id}/shipments/{shipment_id}``, ``GET /order_statuses``,
``GET /store`` (the store's information: the connection test).

V3: ``GET /catalog/variants`` (``sku``, ``sku:in``, ``id:in``, ``product_id:in``; ``meta.pagination``),
``PUT /catalog/variants`` (batch ``inventory_level``, the single-location path),
``GET /inventory/items`` (``sku:in``, ``variant_id:in``, ``product_id:in``, ``location_id:in``),
``PUT /inventory/adjustments/absolute``, ``POST /inventory/adjustments/relative``,
``GET /inventory/locations``, ``GET|POST /hooks``, ``GET|PUT|DELETE /hooks/{id}``,
``GET /catalog/products`` (``include=variants``; ``id:in``, ``sku``, ``name``,
``date_modified:min`` / ``date_modified:max``; ``meta.pagination``) and ``GET /catalog/products/{id}``,
``GET /orders/{id}/payment_actions/refunds`` (the order's refunds: ``{"data": [...], "meta"}``).
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from integrations.bigcommerce.fake_data import DEFAULT_LOCATION_ID, STATUSES, parse_date, store_info
from integrations.bigcommerce.fake_orders import refund_view
from integrations.bigcommerce.fake_state import Problem, v2_error, v3_error
from integrations.bigcommerce.fake_webhooks import BigCommerceWebhooks
from integrations.fakes.pagination import numbered_page

Reply = tuple[int, Any, str]
JSON = "application/json"

_NOT_FOUND = "The requested resource was not found."
_ORDER = re.compile(
    r"^orders/(?P<id>\d+)(?:/(?P<sub>products|shipping_addresses|shippingaddresses|shipments))?$"
)
_SHIPMENT = re.compile(r"^orders/(?P<id>\d+)/shipments/(?P<shipment>\d+)$")
_HOOK = re.compile(r"^hooks/(?P<id>\d+)$")
_PRODUCT = re.compile(r"^catalog/products/(?P<id>\d+)$")
_REFUNDS = re.compile(r"^orders/(?P<id>\d+)/payment_actions/refunds$")
_SORTS = {"id", "date_created", "date_modified", "status_id"}


def _ints(value: str | None, name: str) -> list[int] | None:
    if value is None or value == "":
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise v3_error(422, f"The filter '{name}' is invalid.") from None


def _page_params(
    params: Mapping[str, str], error: Callable[[str], Problem], max_limit: int
) -> tuple[int, int]:
    try:
        page = int(params.get("page", "1"))
        limit = int(params.get("limit", "50"))
    except ValueError:
        raise error("page" if not params.get("page", "1").isdigit() else "limit") from None
    if page < 1:
        raise error("page")
    if limit < 1 or limit > max_limit:
        raise error("limit")
    return page, limit


_LOOPBACK = ("127.0.0.1", "localhost", "::1", "testserver")


def _deliverable(destination: str) -> bool:
    """BigCommerce delivers to HTTPS only. The fake also delivers to a loopback address over HTTP
    (the hub on a developer's machine, the demo, the simulated day): a fake's allowance."""
    url = urlsplit(destination)
    return bool(url.hostname) and (
        url.scheme == "https" or (url.scheme == "http" and url.hostname in _LOOPBACK)
    )


def _includes(params: Mapping[str, str], what: str) -> bool:
    return what in {part.strip() for part in params.get("include", "").split(",")}


class StoreApi(BigCommerceWebhooks):
    """The REST endpoints over the store."""

    def route(self, method: str, version: str, path: str, params: Mapping[str, str], payload: Any) -> Reply:
        path = path.strip("/")
        handler = self._v2 if version == "v2" else self._v3
        return handler(method, path, params, payload)

    # --- V2 ------------------------------------------------------------------------------------------

    def _v2(self, method: str, path: str, params: Mapping[str, str], payload: Any) -> Reply:
        if path == "store" and method == "GET":
            return 200, store_info(self.store_hash, self.store_id), JSON
        if path == "orders" and method == "GET":
            return self._list_orders(params)
        if path == "order_statuses" and method == "GET":
            statuses = [
                {"id": i, "name": n, "system_label": n, "custom_label": n} for i, n in STATUSES.items()
            ]
            return 200, statuses, JSON
        shipment = _SHIPMENT.match(path)
        if shipment is not None:
            return self._shipment(method, int(shipment["id"]), int(shipment["shipment"]), payload)
        match = _ORDER.match(path)
        if match is None:
            raise v2_error(404, _NOT_FOUND)
        order_id, sub = int(match["id"]), match["sub"]
        entry = self.orders.get(order_id)
        if entry is None:
            raise v2_error(404, _NOT_FOUND)
        if sub is None:
            if method == "GET":
                return 200, copy.deepcopy(entry["order"]), JSON
            if method == "PUT":
                if not isinstance(payload, dict):
                    raise v2_error(400, "The request body is invalid.")
                if "status_id" in payload:
                    status_id = payload["status_id"]
                    if not isinstance(status_id, int) or status_id not in STATUSES:
                        raise v2_error(400, "The field 'status_id' is invalid.")
                    return 200, self.update_status(order_id, status_id), JSON
                return 200, copy.deepcopy(entry["order"]), JSON
            if method == "DELETE":
                self.archive_order(order_id)
                return 204, None, JSON
            raise v2_error(405, "The requested method is not supported.")
        if sub == "shipments":
            if method == "POST":
                return 201, self.create_shipment(order_id, payload), JSON
            if method == "GET":
                shipments = copy.deepcopy(entry["shipments"])
                return (200, shipments, JSON) if shipments else (204, None, JSON)
            raise v2_error(405, "The requested method is not supported.")
        if method != "GET":
            raise v2_error(405, "The requested method is not supported.")
        if sub == "products":
            return 200, copy.deepcopy(entry["products"]), JSON
        return 200, copy.deepcopy(entry["addresses"]), JSON

    def _shipment(self, method: str, order_id: int, shipment_id: int, payload: Any) -> Reply:
        """``GET|PUT /orders/{id}/shipments/{shipment_id}``."""
        if method == "PUT":
            return 200, self.update_shipment(order_id, shipment_id, payload), JSON
        if method != "GET":
            raise v2_error(405, "The requested method is not supported.")
        entry = self.orders.get(order_id)
        found = [s for s in (entry or {}).get("shipments") or () if s["id"] == shipment_id]
        if entry is None or entry["archived"] or not found:
            raise v2_error(404, _NOT_FOUND)
        return 200, copy.deepcopy(found[0]), JSON

    def _list_orders(self, params: Mapping[str, str]) -> Reply:
        def invalid(name: str) -> Problem:
            return v2_error(400, f"The field '{name}' is invalid.")

        page, limit = _page_params(params, invalid, 250)
        bounds: dict[str, datetime.datetime] = {}
        for name in ("min_date_modified", "max_date_modified", "min_date_created", "max_date_created"):
            if params.get(name):
                try:
                    bounds[name] = parse_date(params[name])
                except ValueError:
                    raise invalid(name) from None
        numbers: dict[str, int] = {}
        for name in ("status_id", "min_id", "max_id", "customer_id"):
            if params.get(name):
                try:
                    numbers[name] = int(params[name])
                except ValueError:
                    raise invalid(name) from None
        field, _, direction = params.get("sort", "id:asc").partition(":")
        if field not in _SORTS or direction not in ("", "asc", "desc"):
            raise invalid("sort")

        def keep(order: Mapping[str, Any]) -> bool:
            modified = parse_date(order["date_modified"])
            created = parse_date(order["date_created"])
            checks = [
                ("min_date_modified", lambda b: modified >= b),
                ("max_date_modified", lambda b: modified <= b),
                ("min_date_created", lambda b: created >= b),
                ("max_date_created", lambda b: created <= b),
            ]
            if any(name in bounds and not test(bounds[name]) for name, test in checks):
                return False
            if "status_id" in numbers and order["status_id"] != numbers["status_id"]:
                return False
            if "customer_id" in numbers and order["customer_id"] != numbers["customer_id"]:
                return False
            if "min_id" in numbers and order["id"] < numbers["min_id"]:
                return False
            return not ("max_id" in numbers and order["id"] > numbers["max_id"])

        orders = [e["order"] for e in self.orders.values() if not e["archived"] and keep(e["order"])]

        def key(order: Mapping[str, Any]) -> Any:
            value = order[field]
            return (parse_date(value) if field.startswith("date_") else value, order["id"])

        orders.sort(key=key, reverse=direction == "desc")
        chunk = numbered_page(orders, page, limit).items
        if not chunk:
            return 204, None, JSON
        return 200, copy.deepcopy(chunk), JSON

    # --- V3 ------------------------------------------------------------------------------------------

    def _v3(self, method: str, path: str, params: Mapping[str, str], payload: Any) -> Reply:
        if path == "catalog/variants":
            if method == "GET":
                return self._list_variants(params)
            if method == "PUT":
                return self._update_variants(payload)
        elif path == "inventory/items" and method == "GET":
            return self._inventory_items(params)
        elif path == "inventory/adjustments/absolute" and method == "PUT":
            return 200, self.adjust_inventory(payload, "absolute"), JSON
        elif path == "inventory/adjustments/relative" and method == "POST":
            return 200, self.adjust_inventory(payload, "relative"), JSON
        elif path == "inventory/locations" and method == "GET":
            locations = [dict(loc, type_id="PHYSICAL") for _, loc in sorted(self.locations.items())]
            return (
                200,
                {"data": locations, "meta": self._meta(len(locations), len(locations), 1, 50, {})},
                JSON,
            )
        elif path == "catalog/products" and method == "GET":
            return self._list_products(params)
        elif path == "hooks":
            if method == "GET":
                return self._list_hooks(params)
            if method == "POST":
                return 200, {"data": self._create_hook(payload), "meta": {}}, JSON
        elif (match := _PRODUCT.match(path)) is not None and method == "GET":
            product = self.products.get(int(match["id"]))
            if product is None:
                raise v3_error(404, "The requested product was not found.")
            view = self.product_view(product, variants=_includes(params, "variants"))
            return 200, {"data": view, "meta": {}}, JSON
        elif (match := _REFUNDS.match(path)) is not None and method == "GET":
            entry = self.orders.get(int(match["id"]))
            if entry is None:
                raise v3_error(404, "Order not found")
            return self._paged([refund_view(r) for r in entry["refunds"]], params)
        else:
            match = _HOOK.match(path)
            if match is not None:
                return self._hook(method, int(match["id"]), payload)
        raise v3_error(404, "The route is not found, check the URL")

    def _list_products(self, params: Mapping[str, str]) -> Reply:
        ids = _ints(params.get("id:in"), "id:in")
        bounds = {}
        for name in ("date_modified:min", "date_modified:max"):
            if params.get(name):
                try:
                    bounds[name] = parse_date(params[name])
                except ValueError:
                    raise v3_error(422, f"The filter '{name}' is invalid.") from None
        variants = _includes(params, "variants")
        found = []
        for product in sorted(self.products.values(), key=lambda p: p["id"]):
            modified = parse_date(product["date_modified"])
            skus = {self.variants[v]["sku"] for v in product["variant_ids"]}
            if (
                (ids is None or product["id"] in ids)
                and ("sku" not in params or params["sku"] in skus)
                and ("name" not in params or params["name"] == product["name"])
                and ("date_modified:min" not in bounds or modified >= bounds["date_modified:min"])
                and ("date_modified:max" not in bounds or modified <= bounds["date_modified:max"])
            ):
                found.append(self.product_view(product, variants=variants))
        return self._paged(found, params)

    def _meta(
        self, total: int, count: int, page: int, limit: int, query: Mapping[str, str]
    ) -> dict[str, Any]:
        pages = max(1, -(-total // limit))

        def link(number: int) -> str:
            return "?" + urlencode({**query, "page": number, "limit": limit}, safe=":,")

        links = {"current": link(page)}
        if page > 1:
            links = {"previous": link(page - 1), **links}
        if page < pages:
            links["next"] = link(page + 1)
        pagination = {
            "total": total,
            "count": count,
            "per_page": limit,
            "current_page": page,
            "total_pages": pages,
            "links": links,
        }
        return {"pagination": pagination}

    def _paged(self, items: list[Any], params: Mapping[str, str]) -> Reply:
        page, limit = _page_params(
            params, lambda name: v3_error(422, f"The filter '{name}' is invalid."), 250
        )
        chunk = numbered_page(items, page, limit).items
        query = {k: v for k, v in params.items() if k not in ("page", "limit")}
        return 200, {"data": chunk, "meta": self._meta(len(items), len(chunk), page, limit, query)}, JSON

    def _list_variants(self, params: Mapping[str, str]) -> Reply:
        skus = set(params["sku:in"].split(",")) if params.get("sku:in") else None
        ids = _ints(params.get("id:in"), "id:in")
        product_ids = _ints(params.get("product_id:in"), "product_id:in")
        found = [
            self.variant_view(v)
            for v in sorted(self.variants.values(), key=lambda v: v["id"])
            if ("sku" not in params or v["sku"] == params["sku"])
            and (skus is None or v["sku"] in skus)
            and (ids is None or v["id"] in ids)
            and (product_ids is None or v["product_id"] in product_ids)
        ]
        return self._paged(found, params)

    def _update_variants(self, payload: Any) -> Reply:
        """The single-location batch: ``inventory_level`` sets the default location's stock."""
        if not isinstance(payload, list) or not payload:
            raise v3_error(422, "JSON data is missing or invalid", {"inventory_level": "error.path.invalid"})
        changes = []
        for item in payload:
            variant = (
                self.variants.get(item["id"])
                if isinstance(item, dict) and isinstance(item.get("id"), int)
                else None
            )
            if variant is None:
                raise v3_error(422, "JSON data is missing or invalid", {"id": "error.path.invalid"})
            level = item.get("inventory_level")
            if level is not None and (not isinstance(level, int) or level < 0):
                raise v3_error(
                    422, "JSON data is missing or invalid", {"inventory_level": "error.path.invalid"}
                )
            changes.append((variant, level))
        for variant, level in changes:
            if level is not None:
                self._adjust(variant, DEFAULT_LOCATION_ID, level, "absolute", order=False)
        views = [self.variant_view(variant) for variant, _ in changes]
        return 200, {"data": views, "meta": {}}, JSON

    def _inventory_items(self, params: Mapping[str, str]) -> Reply:
        skus = set(params["sku:in"].split(",")) if params.get("sku:in") else None
        variant_ids = _ints(params.get("variant_id:in"), "variant_id:in")
        product_ids = _ints(params.get("product_id:in"), "product_id:in")
        location_ids = _ints(params.get("location_id:in"), "location_id:in")
        items = [
            self.inventory_item(v, location_ids)
            for v in sorted(self.variants.values(), key=lambda v: v["id"])
            if (skus is None or v["sku"] in skus)
            and (variant_ids is None or v["id"] in variant_ids)
            and (product_ids is None or v["product_id"] in product_ids)
        ]
        return self._paged(items, params)

    # --- hooks ---------------------------------------------------------------------------------------

    def _list_hooks(self, params: Mapping[str, str]) -> Reply:
        hooks = [dict(h) for h in self.hooks.values()]
        if params.get("is_active") in ("true", "false"):
            hooks = [h for h in hooks if h["is_active"] == (params["is_active"] == "true")]
        if params.get("scope"):
            hooks = [h for h in hooks if h["scope"] == params["scope"]]
        if params.get("destination"):
            hooks = [h for h in hooks if h["destination"] == params["destination"]]
        return self._paged(hooks, params)

    def _create_hook(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise v3_error(422, "JSON data is missing or invalid", {"scope": "error.path.missing"})
        errors = {}
        if not isinstance(payload.get("scope"), str) or not payload["scope"].startswith("store/"):
            errors["scope"] = "error.path.invalid"
        destination = payload.get("destination")
        if not isinstance(destination, str) or not _deliverable(destination):
            errors["destination"] = "error.path.invalid"
        headers = payload.get("headers")
        if headers is not None and not (
            isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
        ):
            errors["headers"] = "error.path.invalid"
        if errors:
            raise v3_error(422, "JSON data is missing or invalid", errors)
        return self.create_hook(
            payload["scope"],
            str(destination),
            is_active=bool(payload.get("is_active", True)),
            headers=headers,
        )

    def _hook(self, method: str, hook_id: int, payload: Any) -> Reply:
        hook = self.hooks.get(hook_id)
        if hook is None:
            raise v3_error(404, "Webhook not found")
        if method == "GET":
            return 200, {"data": dict(hook), "meta": {}}, JSON
        if method == "PUT":
            if not isinstance(payload, dict):
                raise v3_error(422, "JSON data is missing or invalid")
            return 200, {"data": self.update_hook(hook_id, payload), "meta": {}}, JSON
        if method == "DELETE":
            gone = self.hooks.pop(hook_id)
            self.enable_subscription(hook_id)
            for delivery in self.pending_webhooks():
                if delivery.subscription_id == hook_id:
                    delivery.state = "cancelled"
            return 200, {"data": gone, "meta": {}}, JSON
        raise v3_error(405, "The requested method is not supported.")
