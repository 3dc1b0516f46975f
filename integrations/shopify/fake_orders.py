"""What happens to an order after it is placed, as a merchant does it in Shopify's admin.

``OrderChanges`` adds to the shop's state (``fake_state.ShopState``) the things a
merchant does to an order outside the hub, each in Shopify's REST shape and with the
webhooks Shopify sends for it:

* ``fulfil_order``: a fulfilment (status ``success``, service ``manual``, tracking) of some
  or all of the unfulfilled quantities; lines' ``fulfillable_quantity`` / ``fulfillment_status``,
  the fulfilment orders and the order's ``fulfillment_status`` follow. Webhooks:
  fulfillments/create, orders/fulfilled or orders/partially_fulfilled, orders/updated.
  The REST ``POST fulfillments.json`` (what the hub calls) records through the same code.
* ``update_tracking``: a fulfilment's tracking edited (a new label); only its tracking fields
  and ``updated_at`` change. Webhook: fulfillments/update. The REST
  ``POST fulfillments/{id}/update_tracking.json`` goes through the same code.
* ``refund_order``: a refund of line quantities with a ``restock_type`` (``return``: shipped
  goods come back to the location; ``cancel``: unshipped goods are released; ``no_restock``:
  nothing comes back) and a successful ``refund`` transaction; ``current_quantity``, the
  ``current_*`` totals and ``financial_status`` follow. Webhooks: refunds/create, orders/updated.
* ``edit_order``: an order edit removing unfulfilled quantities. As in Shopify the removal is
  also a refund (``restock_type`` ``cancel``, no transaction: nothing was paid back yet).
  Webhooks: orders/edited (an ``order_edit`` body), refunds/create, orders/updated.
* ``cancel_order`` (``fake_state``) of a paid order refunds it here: its unfulfilled units
  with restock_type ``cancel`` and what is left of its total paid back.

The original ``quantity`` of a line and the order's ``total_price`` / ``subtotal_price`` /
``total_tax`` never change (they are what was sold); ``current_quantity`` and the
``current_*`` amounts are what is left after edits and refunds.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from integrations.shopify.fake_data import CENT, CURRENCY, LOCATION_ID, money, money_set
from integrations.shopify.fake_state import ShopState

RESTOCK_TYPES = ("return", "cancel", "no_restock")
_TRACKING_URLS = {  # what Shopify fills in for a known carrier when no URL is given
    "ups": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "dhl express": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}


def _tracking(tracking: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(number, company, url) of a ``tracking_info``; Shopify fills in a known carrier's URL."""
    number, company, url = tracking.get("number"), tracking.get("company"), tracking.get("url")
    if not url and number and str(company or "").lower() in _TRACKING_URLS:
        url = _TRACKING_URLS[str(company).lower()].format(number)
    return number, company, url


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def _share(total: Decimal, part: int, whole: int) -> Decimal:
    return (total * part / whole).quantize(CENT) if whole else Decimal(0)


class OrderChanges(ShopState):
    """Fulfilments, refunds and order edits made in the shop's admin (see the module doc)."""

    # --- fulfilments -----------------------------------------------------------------------

    def fulfil_order(
        self,
        order_id: int,
        lines: Mapping[int, int] | None = None,
        *,
        tracking_number: str | None = None,
        tracking_company: str | None = None,
        tracking_url: str | None = None,
    ) -> dict[str, Any]:
        """Fulfil ``lines`` ({line item id: quantity}; None: everything unfulfilled) with tracking.

        Returns the fulfilment (REST shape, a copy). ``ValueError`` for a quantity that is
        not unfulfilled on the order, ``KeyError`` for an unknown order.
        """
        with self._lock:
            order = self.orders[order_id]
            wanted = dict(lines) if lines is not None else {}
            if lines is None:
                wanted = {li["id"]: li["fulfillable_quantity"] for li in order["line_items"]}
            plan: list[tuple[dict[str, Any], dict[str, Any], int]] = []
            for line_id, quantity in wanted.items():
                left = int(quantity)
                for fo in self._open_fulfillment_orders(order_id):
                    for fo_line in fo["line_items"]:
                        if left and fo_line["line_item_id"] == line_id and fo_line["fulfillable_quantity"]:
                            take = min(left, fo_line["fulfillable_quantity"])
                            plan.append((fo, fo_line, take))
                            left -= take
                if left:
                    raise ValueError(
                        f"Line item {line_id} of order {order_id} has fewer than {quantity} to fulfil"
                    )
            if not any(quantity for _, _, quantity in plan):
                raise ValueError(f"Order {order_id} has nothing left to fulfil")
            tracking = {"number": tracking_number, "company": tracking_company, "url": tracking_url}
            return copy.deepcopy(self._record_fulfilment(order, plan, tracking))

    def _open_fulfillment_orders(self, order_id: int) -> list[dict[str, Any]]:
        return [
            fo
            for fo in self.fulfillment_orders.values()
            if fo["order_id"] == order_id and fo["status"] in ("open", "in_progress", "scheduled")
        ]

    def _record_fulfilment(
        self,
        order: dict[str, Any],
        plan: list[tuple[dict[str, Any], dict[str, Any], int]],
        tracking: Mapping[str, Any],
    ) -> dict[str, Any]:
        """A successful fulfilment of ``plan`` ([(fulfilment order, its line, quantity)])."""
        now = self._now()
        fulfilled: dict[int, int] = {}
        for fo, fo_line, quantity in plan:
            fo_line["fulfillable_quantity"] -= quantity
            fulfilled[fo_line["line_item_id"]] = fulfilled.get(fo_line["line_item_id"], 0) + quantity
            fo["status"] = (
                "closed" if all(li["fulfillable_quantity"] == 0 for li in fo["line_items"]) else "in_progress"
            )
            fo["updated_at"] = now
        line_items = []
        for line in order["line_items"]:
            if line["id"] in fulfilled:
                line["fulfillable_quantity"] -= fulfilled[line["id"]]
                line["fulfillment_status"] = "fulfilled" if line["fulfillable_quantity"] == 0 else "partial"
                shipped = copy.deepcopy(line)
                shipped["quantity"] = fulfilled[line["id"]]
                line_items.append(shipped)
        number, company, url = _tracking(tracking)
        fulfillment_id = self._new_id()
        fulfillment = {
            "id": fulfillment_id,
            "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
            "created_at": now,
            "location_id": LOCATION_ID,
            "name": f"{order['name']}.{len(order.get('fulfillments') or []) + 1}",
            "order_id": order["id"],
            "origin_address": {},
            "receipt": {},
            "service": "manual",
            "shipment_status": None,
            "status": "success",
            "tracking_company": company,
            "tracking_number": number,
            "tracking_numbers": [number] if number else [],
            "tracking_url": url,
            "tracking_urls": [url] if url else [],
            "updated_at": now,
            "line_items": line_items,
        }
        order.setdefault("fulfillments", []).append(fulfillment)
        self._settle_fulfillment_status(order)
        order["updated_at"] = now
        self._emit("fulfillments/create", fulfillment)
        done = (
            "orders/fulfilled" if order["fulfillment_status"] == "fulfilled" else "orders/partially_fulfilled"
        )
        self._emit_order(order, done, "orders/updated")
        return fulfillment

    def update_tracking(
        self,
        fulfillment_id: int,
        *,
        tracking_number: str | None = None,
        tracking_company: str | None = None,
        tracking_url: str | None = None,
    ) -> dict[str, Any]:
        """The merchant edits a fulfilment's tracking (a new label): returns it (REST shape, a copy).

        ``KeyError`` for an unknown fulfilment."""
        tracking = {"number": tracking_number, "company": tracking_company, "url": tracking_url}
        with self._lock:
            return copy.deepcopy(self._retrack(self._fulfilment(fulfillment_id), tracking))

    def _fulfilment(self, fulfillment_id: int) -> dict[str, Any]:
        for order in self.orders.values():
            for fulfillment in order.get("fulfillments") or ():
                if fulfillment["id"] == fulfillment_id:
                    return fulfillment
        raise KeyError(fulfillment_id)

    def _retrack(self, fulfillment: dict[str, Any], tracking: Mapping[str, Any]) -> dict[str, Any]:
        """``POST fulfillments/{id}/update_tracking.json`` and the admin's "Edit tracking": the
        tracking given replaces the fulfilment's (lines, status and the order stay as they are);
        Shopify sends fulfillments/update."""
        number, company, url = _tracking(tracking)
        fulfillment.update(
            {
                "tracking_company": company,
                "tracking_number": number,
                "tracking_numbers": [number] if number else [],
                "tracking_url": url,
                "tracking_urls": [url] if url else [],
                "updated_at": self._now(),
            }
        )
        self._emit("fulfillments/update", fulfillment)
        return fulfillment

    @staticmethod
    def _shipped(order: Mapping[str, Any]) -> dict[int, int]:
        """Units of each line in successful fulfilments."""
        shipped: dict[int, int] = {}
        for fulfillment in order.get("fulfillments") or ():
            if fulfillment.get("status") == "success":
                for item in fulfillment.get("line_items") or ():
                    shipped[item["id"]] = shipped.get(item["id"], 0) + int(item["quantity"])
        return shipped

    def _settle_fulfillment_status(self, order: dict[str, Any]) -> None:
        shipped = self._shipped(order)
        for line in order["line_items"]:
            if shipped.get(line["id"]):
                line["fulfillment_status"] = "fulfilled" if line["fulfillable_quantity"] == 0 else "partial"
        left = sum(line["fulfillable_quantity"] for line in order["line_items"])
        if not shipped:
            order["fulfillment_status"] = None
        else:
            order["fulfillment_status"] = "fulfilled" if left == 0 else "partial"

    # --- refunds and edits --------------------------------------------------------------------

    def refund_order(
        self,
        order_id: int,
        lines: Mapping[int, int],
        *,
        restock_type: str = "return",
        amount: Decimal | str | None = None,
        note: str = "",
    ) -> dict[str, Any]:
        """Refund ``lines`` ({line item id: quantity}) with ``restock_type`` and pay back ``amount``.

        ``amount`` defaults to what the lines cost (their share of the line after discount,
        with tax unless prices include it); ``"0"`` refunds goods without paying back.
        ``return`` needs shipped units, ``cancel`` unshipped ones; ``no_restock`` takes
        unshipped units first. Returns the refund (REST shape, a copy).
        """
        if restock_type not in RESTOCK_TYPES:
            raise ValueError(f"restock_type must be one of {', '.join(RESTOCK_TYPES)}")
        with self._lock:
            order = self.orders[order_id]
            refund = self._refund(order, lines, restock_type=restock_type, amount=amount, note=note)
            self._emit("refunds/create", refund)
            self._emit_order(order, "orders/updated")
            return copy.deepcopy(refund)

    def edit_order(
        self, order_id: int, remove: Mapping[int, int], *, restock: bool = True, staff_note: str = ""
    ) -> dict[str, Any]:
        """An order edit removing unfulfilled quantities ({line item id: quantity}); returns the order.

        The removed quantities come back to the location (``restock``), the lines'
        ``current_quantity`` and the order's ``current_*`` totals drop, and the removal is a
        refund with restock_type ``cancel`` (``no_restock`` without restock) and no transaction.
        """
        with self._lock:
            order = self.orders[order_id]
            by_id = {line["id"]: line for line in order["line_items"]}
            for line_id, quantity in remove.items():
                if line_id not in by_id or not 0 < int(quantity) <= by_id[line_id]["fulfillable_quantity"]:
                    raise ValueError(
                        f"Order edits remove unfulfilled quantities: line {line_id} x {quantity}"
                    )
            kind = "cancel" if restock else "no_restock"
            refund = self._refund(order, remove, restock_type=kind, amount=Decimal(0), note=staff_note)
            edit_id = self._new_id()
            self._emit(
                "orders/edited",
                {
                    "order_edit": {
                        "id": edit_id,
                        "app_id": None,
                        "created_at": refund["created_at"],
                        "notify_customer": False,
                        "order_id": order_id,
                        "staff_note": staff_note,
                        "user_id": None,
                        "line_items": {
                            "additions": [],
                            "removals": [{"id": lid, "delta": int(q)} for lid, q in remove.items()],
                        },
                        "discounts": {"line_item": {"additions": [], "removals": []}},
                        "shipping_lines": {"additions": [], "removals": []},
                    }
                },
            )
            self._emit("refunds/create", refund)
            self._emit_order(order, "orders/updated")
            return copy.deepcopy(order)

    def _refund_on_cancel(self, order: dict[str, Any], *, restock: bool) -> dict[str, Any] | None:
        open_units = {
            li["id"]: li["fulfillable_quantity"] for li in order["line_items"] if li["fulfillable_quantity"]
        }
        if not open_units:
            return None
        paid_back = sum(
            (_amount(t["amount"]) for r in order.get("refunds") or () for t in r["transactions"]), Decimal(0)
        )
        left = max(_amount(order["total_price"]) - paid_back, Decimal(0))
        kind = "cancel" if restock else "no_restock"
        return self._refund(order, open_units, restock_type=kind, amount=left, note="")

    def refunds(self, order_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.orders[order_id].get("refunds") or [])

    def _refund(
        self,
        order: dict[str, Any],
        lines: Mapping[int, int],
        *,
        restock_type: str,
        amount: Decimal | str | None,
        note: str,
    ) -> dict[str, Any]:
        by_id = {line["id"]: line for line in order["line_items"]}
        included = bool(order.get("taxes_included"))
        now = self._now()
        refund_id = self._new_id()
        items: list[dict[str, Any]] = []
        plan: list[tuple[dict[str, Any], int, int]] = []  # (line, unshipped units, shipped units)
        for line_id, quantity in lines.items():
            line, quantity = by_id.get(line_id), int(quantity)
            if line is None or quantity <= 0 or quantity > line["current_quantity"]:
                raise ValueError(f"Line item {line_id} of order {order['id']} cannot refund {quantity}")
            unshipped = line["fulfillable_quantity"]
            shipped = line["current_quantity"] - unshipped
            if restock_type == "return" and quantity > shipped:
                raise ValueError(f"restock_type return needs shipped units: line {line_id} has {shipped}")
            if restock_type == "cancel" and quantity > unshipped:
                raise ValueError(f"restock_type cancel needs unshipped units: line {line_id} has {unshipped}")
            from_unshipped = 0 if restock_type == "return" else min(quantity, unshipped)
            plan.append((line, from_unshipped, quantity - from_unshipped))
        for line, from_unshipped, from_shipped in plan:
            quantity = from_unshipped + from_shipped
            subtotal, tax, discount = self._line_share(order, line, quantity)
            line["current_quantity"] -= quantity
            if from_unshipped:
                line["fulfillable_quantity"] -= from_unshipped
                self._shrink_fulfillment_orders(order["id"], line["id"], from_unshipped)
            if restock_type != "no_restock" and line.get("variant_id"):
                item_id = self._find_variant(line["variant_id"])[1]["inventory_item_id"]
                self._set_level(item_id, LOCATION_ID, (self.available(item_id) or 0) + quantity)
            items.append(
                {
                    "id": self._new_id(),
                    "line_item_id": line["id"],
                    "location_id": None if restock_type == "no_restock" else LOCATION_ID,
                    "quantity": quantity,
                    "restock_type": restock_type,
                    "subtotal": float(subtotal),  # REST refund line items carry numbers here
                    "subtotal_set": money_set(subtotal),
                    "total_tax": float(tax),
                    "total_tax_set": money_set(tax),
                    "line_item": copy.deepcopy(line),
                    "_discount": discount,
                }
            )
        goods = sum((_amount(i["subtotal_set"]["shop_money"]["amount"]) for i in items), Decimal(0))
        taxes = sum((_amount(i["total_tax_set"]["shop_money"]["amount"]) for i in items), Decimal(0))
        paid_back = Decimal(amount) if amount is not None else goods + (Decimal(0) if included else taxes)
        transactions = [self._refund_transaction(order, paid_back, now)] if paid_back > 0 else []
        discounts = sum((i.pop("_discount") for i in items), Decimal(0))
        refund = {
            "id": refund_id,
            "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
            "order_id": order["id"],
            "created_at": now,
            "processed_at": now,
            "note": note,
            "user_id": None,
            "restock": restock_type != "no_restock",
            "duties": [],
            "total_duties_set": money_set(0),
            "additional_fees": [],
            "total_additional_fees_set": money_set(0),
            "return": None,
            "refund_shipping_lines": [],
            "refund_line_items": items,
            "transactions": transactions,
            "order_adjustments": [],
        }
        order.setdefault("refunds", []).append(refund)
        self._lower_current_totals(order, goods, taxes, discounts, included)
        if transactions:
            refunded = sum(
                (_amount(t["amount"]) for r in order["refunds"] for t in r["transactions"]), Decimal(0)
            )
            whole = refunded >= _amount(order["total_price"])
            order["financial_status"] = "refunded" if whole else "partially_refunded"
        self._settle_fulfillment_status(order)
        order["updated_at"] = now
        return refund

    def _line_share(
        self, order: Mapping[str, Any], line: Mapping[str, Any], quantity: int
    ) -> tuple[Decimal, Decimal, Decimal]:
        """(subtotal after discount, tax, discount) of ``quantity`` units of ``line``; the last
        units refunded take what is left, so the shares add up to the line exactly."""
        ordered = int(line["quantity"])
        discount = sum((_amount(a["amount"]) for a in line.get("discount_allocations") or ()), Decimal(0))
        tax = sum((_amount(t["price"]) for t in line.get("tax_lines") or ()), Decimal(0))
        subtotal = _amount(line["price"]) * ordered - discount
        earlier = [
            item
            for refund in order.get("refunds") or ()
            for item in refund.get("refund_line_items") or ()
            if item["line_item_id"] == line["id"]
        ]
        done = sum(int(i["quantity"]) for i in earlier)
        if done + quantity >= ordered:  # the rest of the line
            paid = sum((_amount(i["subtotal_set"]["shop_money"]["amount"]) for i in earlier), Decimal(0))
            taxed = sum((_amount(i["total_tax_set"]["shop_money"]["amount"]) for i in earlier), Decimal(0))
            given = _share(discount, done, ordered)
            return subtotal - paid, tax - taxed, discount - given
        return (
            _share(subtotal, quantity, ordered),
            _share(tax, quantity, ordered),
            _share(discount, quantity, ordered),
        )

    def _shrink_fulfillment_orders(self, order_id: int, line_id: int, quantity: int) -> None:
        now = self._now()
        for fo in self._open_fulfillment_orders(order_id):
            for fo_line in fo["line_items"]:
                if quantity and fo_line["line_item_id"] == line_id and fo_line["fulfillable_quantity"]:
                    take = min(quantity, fo_line["fulfillable_quantity"])
                    fo_line["fulfillable_quantity"] -= take
                    fo_line["quantity"] -= take
                    quantity -= take
            if all(li["fulfillable_quantity"] == 0 for li in fo["line_items"]):
                fo["status"] = "closed"
            fo["updated_at"] = now

    def _lower_current_totals(
        self, order: dict[str, Any], goods: Decimal, taxes: Decimal, discounts: Decimal, included: bool
    ) -> None:
        changes = {
            "current_subtotal_price": -goods,
            "current_total_tax": -taxes,
            "current_total_discounts": -discounts,
            "current_total_price": -(goods + (Decimal(0) if included else taxes)),
        }
        for field, delta in changes.items():
            value = _amount(order.get(field) or order[field.replace("current_", "")]) + delta
            order[field] = money(value)
            order[f"{field}_set"] = money_set(value)

    def _refund_transaction(self, order: Mapping[str, Any], amount: Decimal, now: str) -> dict[str, Any]:
        transaction_id = self._new_id()
        gateways = order.get("payment_gateway_names") or ["manual"]
        return {
            "id": transaction_id,
            "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{transaction_id}",
            "order_id": order["id"],
            "kind": "refund",
            "gateway": gateways[0],
            "status": "success",
            "message": "Refunded " + money(amount),
            "created_at": now,
            "processed_at": now,
            "test": False,
            "authorization": None,
            "location_id": None,
            "user_id": None,
            "parent_id": None,
            "device_id": None,
            "error_code": None,
            "source_name": "web",
            "receipt": {},
            "amount": money(amount),
            "currency": CURRENCY,
            "manual_payment_gateway": False,
        }
