"""Shopify's wire format -> the hub's canonical records, and nothing else.

Amounts are read in the *shop* currency: where Shopify sends a ``*_set`` object
(``{"shop_money": {...}, "presentment_money": {...}}``) its ``shop_money`` wins
over the bare string field, which on older payloads may be in the presentment
currency. Every amount is a ``Decimal`` built from Shopify's strings; tax rates
arrive as JSON floats and go through ``str`` first so ``0.06`` stays ``0.06``.

Choices worth knowing:

* Line quantities are the ordered ``quantity``, not ``current_quantity``: a refund
  after shipping is a return in the hub, not an edit of the order.
* ``OrderLineRecord.title`` is the line's ``name`` ("Trail Tent 2P - Green",
  product and variant) and falls back to ``title``.
* ``ShippingLineRecord.amount`` is the line's ``price`` before shipping discounts and
  ``discount`` is ``price - discounted_price``; removed shipping lines are dropped.
* ``OrderTotals``: subtotal = ``subtotal_price`` (lines after line discounts, before
  shipping and tax), discount = ``total_discounts``, shipping = the shipping lines
  after their discounts, tax = ``total_tax``, total = ``total_price``. So
  ``total == subtotal + shipping + tax`` when prices exclude tax.
* ``OrderRecord.shipments`` are the order's fulfilments in state ``success`` (pending,
  open, cancelled and failed ones moved nothing), with the first tracking number and URL;
  a "manual" service is no service.
* ``OrderRecord.refunds``: each refund's line items with their ``restock_type`` (``return``
  and ``legacy_restock``: back in stock; ``no_restock``: not coming back; ``cancel``: never
  shipped), and the sum of its successful ``refund`` transactions.
* Addresses map to the keys of ``sales.Address.snapshot()``; the region is the
  ISO province code when Shopify has one, the country its ISO 3166-1 alpha-2 code.
  A missing address is ``{}``.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.contract import Action, InboundItem
from integrations.errors import PermanentError
from integrations.records import (
    CustomerRecord,
    FulfilmentOut,
    OrderLineRecord,
    OrderRecord,
    OrderTotals,
    ProductRecord,
    RefundLineRecord,
    RefundRecord,
    Restock,
    ShipmentLineRecord,
    ShipmentRecord,
    ShippingLineRecord,
    TaxLine,
    VariantRecord,
)

ZERO = Decimal("0")
_TAGS = re.compile(r"<[^>]+>")


class MappingError(ValueError):
    """A payload Shopify would never send: missing ids, unreadable numbers or dates."""


def parse_datetime(value: Any) -> datetime.datetime:
    if not isinstance(value, str) or not value:
        raise MappingError(f"Not a timestamp: {value!r}")
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"Not a timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        raise MappingError(f"Timestamp without an offset: {value!r}")
    return parsed


def _optional_datetime(value: Any) -> datetime.datetime | None:
    return parse_datetime(value) if value else None


def _decimal(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise MappingError(f"Not a number: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MappingError(f"Not a number: {value!r}") from exc


def shop_money(obj: Mapping[str, Any], field: str) -> Decimal:
    """``obj[field + "_set"].shop_money.amount`` when present, else ``obj[field]``."""
    money_set = obj.get(f"{field}_set")
    if isinstance(money_set, Mapping):
        shop = money_set.get("shop_money")
        if isinstance(shop, Mapping) and shop.get("amount") is not None:
            return _decimal(shop["amount"])
    return _decimal(obj.get(field))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _id(obj: Mapping[str, Any], what: str) -> str:
    value = obj.get("id")
    if value in (None, ""):
        raise MappingError(f"{what} without an id")
    return str(value)


def _taxes(lines: Any) -> tuple[TaxLine, ...]:
    return tuple(
        TaxLine(name=_text(t.get("title")), rate=_decimal(t.get("rate")), amount=shop_money(t, "price"))
        for t in lines or ()
    )


def _allocated(allocations: Any) -> Decimal:
    return sum((shop_money(a, "amount") for a in allocations or ()), ZERO)


def address(raw: Any) -> dict[str, str]:
    """A Shopify address -> the keys of ``sales.Address.snapshot()``; ``{}`` when there is none."""
    if not isinstance(raw, Mapping) or not raw:
        return {}
    name = _text(raw.get("name")) or " ".join(
        part for part in (_text(raw.get("first_name")), _text(raw.get("last_name"))) if part
    )
    return {
        "name": name,
        "company": _text(raw.get("company")),
        "line1": _text(raw.get("address1")),
        "line2": _text(raw.get("address2")),
        "city": _text(raw.get("city")),
        "region": _text(raw.get("province_code")) or _text(raw.get("province")),
        "postal_code": _text(raw.get("zip")),
        "country": _text(raw.get("country_code")).upper(),
        "phone": _text(raw.get("phone")),
    }


def customer(order: Mapping[str, Any]) -> CustomerRecord | None:
    raw = order.get("customer")
    if not isinstance(raw, Mapping) or raw.get("id") in (None, ""):
        return None
    default_address = raw.get("default_address") or {}
    billing = order.get("billing_address") or {}
    name = " ".join(part for part in (_text(raw.get("first_name")), _text(raw.get("last_name"))) if part)
    email = _text(raw.get("email")) or _text(order.get("email"))
    return CustomerRecord(
        external_id=str(raw["id"]),
        name=name or _text(default_address.get("name")) or _text(billing.get("name")) or email,
        email=email,
        phone=_text(raw.get("phone")) or _text(order.get("phone")),
        company=_text(default_address.get("company")) or _text(billing.get("company")),
    )


def order_line(raw: Mapping[str, Any]) -> OrderLineRecord:
    variant_id = raw.get("variant_id")
    return OrderLineRecord(
        external_id=_id(raw, "Line item"),
        sku=_text(raw.get("sku")),
        variant_external_id="" if variant_id in (None, "") else str(variant_id),
        title=_text(raw.get("name")) or _text(raw.get("title")),
        quantity=_decimal(raw.get("quantity")),
        unit_price=shop_money(raw, "price"),
        discount=_allocated(raw.get("discount_allocations")),
        taxes=_taxes(raw.get("tax_lines")),
        current_quantity=None
        if raw.get("current_quantity") is None
        else _decimal(raw.get("current_quantity")),
    )


def shipping_line(raw: Mapping[str, Any]) -> ShippingLineRecord:
    price = shop_money(raw, "price")
    if raw.get("discounted_price") is not None or raw.get("discounted_price_set"):
        discount = price - shop_money(raw, "discounted_price")
    else:
        discount = _allocated(raw.get("discount_allocations"))
    return ShippingLineRecord(
        title=_text(raw.get("title")) or _text(raw.get("code")),
        amount=price,
        discount=discount,
        taxes=_taxes(raw.get("tax_lines")),
    )


# Fulfilments in these states moved goods; "pending" and "open" have not left yet, "cancelled",
# "error" and "failure" never did.
SHIPPED_FULFILMENT_STATUSES = frozenset({"success"})


def fulfilment(raw: Mapping[str, Any]) -> ShipmentRecord:
    """A Shopify fulfilment -> ShipmentRecord (its first tracking number and URL)."""
    numbers = [_text(n) for n in raw.get("tracking_numbers") or () if _text(n)]
    urls = [_text(u) for u in raw.get("tracking_urls") or () if _text(u)]
    return ShipmentRecord(
        external_id=_id(raw, "Fulfillment"),
        created_at=parse_datetime(raw.get("created_at")),
        lines=tuple(
            ShipmentLineRecord(
                line_external_id=_id(li, "Fulfillment line item"), quantity=_decimal(li.get("quantity"))
            )
            for li in raw.get("line_items") or ()
        ),
        carrier=_text(raw.get("tracking_company"))[:60],
        service=_text(raw.get("service"))[:60] if _text(raw.get("service")) != "manual" else "",
        tracking_number=(_text(raw.get("tracking_number")) or (numbers[0] if numbers else ""))[:100],
        tracking_url=_text(raw.get("tracking_url")) or (urls[0] if urls else ""),
    )


# Shopify's restock_type -> what became of the goods ("legacy_restock": restocked, by an older API).
RESTOCK_TYPES = {
    "return": Restock.RETURN,
    "legacy_restock": Restock.RETURN,
    "cancel": Restock.CANCEL,
    "no_restock": Restock.NONE,
}


def refund(raw: Mapping[str, Any]) -> RefundRecord:
    """A Shopify refund -> RefundRecord: its line items and the sum of its successful refund
    transactions (what the customer got back, shipping refunds included)."""
    lines = []
    for item in raw.get("refund_line_items") or ():
        kind = _text(item.get("restock_type")) or ("legacy_restock" if raw.get("restock") else "no_restock")
        if kind not in RESTOCK_TYPES:
            raise MappingError(f"Unknown restock_type {kind!r} on refund {raw.get('id')}")
        line_id = item.get("line_item_id") or (item.get("line_item") or {}).get("id")
        if line_id in (None, ""):
            raise MappingError(f"A line of refund {raw.get('id')} names no line item")
        lines.append(
            RefundLineRecord(
                line_external_id=str(line_id),
                quantity=_decimal(item.get("quantity")),
                restock=RESTOCK_TYPES[kind],
            )
        )
    paid_back = sum(
        (
            _decimal(t.get("amount"))
            for t in raw.get("transactions") or ()
            if _text(t.get("kind")) == "refund" and _text(t.get("status")) == "success"
        ),
        ZERO,
    )
    return RefundRecord(
        external_id=_id(raw, "Refund"),
        created_at=parse_datetime(raw.get("created_at") or raw.get("processed_at")),
        lines=tuple(lines),
        amount=paid_back,
        note=_text(raw.get("note")),
    )


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(t for t in (_text(v) for v in value) if t)
    return tuple(t for t in (part.strip() for part in _text(value).split(",")) if t)


def order(raw: Mapping[str, Any]) -> OrderRecord:
    """A Shopify order (REST resource or order webhook body) -> OrderRecord."""
    if not isinstance(raw, Mapping):
        raise MappingError("An order must be a JSON object")
    external_id = _id(raw, "Order")
    shipping = tuple(
        shipping_line(s) for s in raw.get("shipping_lines") or () if not s.get("is_removed", False)
    )
    if shipping:
        shipping_total = sum((s.amount - s.discount for s in shipping), ZERO)
    else:
        shipping_total = shop_money(raw, "total_shipping_price")
    total_price_set = raw.get("total_price_set") or {}
    currency = _text((total_price_set.get("shop_money") or {}).get("currency_code")) or _text(
        raw.get("currency")
    )
    return OrderRecord(
        external_id=external_id,
        number=_text(raw.get("name")) or _text(raw.get("order_number")) or external_id,
        created_at=parse_datetime(raw.get("created_at")),
        updated_at=parse_datetime(raw.get("updated_at") or raw.get("created_at")),
        currency=currency.upper(),
        prices_include_tax=bool(raw.get("taxes_included")),
        customer=customer(raw),
        billing_address=address(raw.get("billing_address")),
        shipping_address=address(raw.get("shipping_address")),
        lines=tuple(order_line(li) for li in raw.get("line_items") or ()),
        shipping=shipping,
        totals=OrderTotals(
            subtotal=shop_money(raw, "subtotal_price"),
            discount=shop_money(raw, "total_discounts"),
            shipping=shipping_total,
            tax=shop_money(raw, "total_tax"),
            total=shop_money(raw, "total_price"),
        ),
        financial_status=_text(raw.get("financial_status")),
        cancelled_at=_optional_datetime(raw.get("cancelled_at")),
        cancel_reason=_text(raw.get("cancel_reason")),
        tags=_tags(raw.get("tags")),
        note=_text(raw.get("note")),
        shipments=tuple(
            fulfilment(f)
            for f in raw.get("fulfillments") or ()
            if _text(f.get("status")) in SHIPPED_FULFILMENT_STATUSES
        ),
        refunds=tuple(refund(r) for r in raw.get("refunds") or ()),
    )


def order_item(raw: Mapping[str, Any]) -> InboundItem:
    """A whole order as an inbound item: a cancel when Shopify says it is cancelled."""
    record = order(raw)
    action = Action.CANCEL if record.cancelled_at else Action.UPSERT
    return InboundItem(
        object_type="order",
        external_id=record.external_id,
        action=action,
        updated_at=record.updated_at,
        record=record,
    )


def _plain(body_html: Any) -> str:
    return html.unescape(_TAGS.sub(" ", _text(body_html))).strip()


def variant(raw: Mapping[str, Any], product_title: str) -> VariantRecord:
    title = _text(raw.get("title"))
    full_title = product_title if title in ("", "Default Title") else f"{product_title} - {title}"
    price = raw.get("price")
    extra: dict[str, Any] = {}
    if raw.get("inventory_item_id") is not None:
        extra["inventory_item_id"] = raw["inventory_item_id"]
    return VariantRecord(
        external_id=_id(raw, "Variant"),
        sku=_text(raw.get("sku")),
        title=full_title,
        price=None if price in (None, "") else _decimal(price),
        barcode=_text(raw.get("barcode")),
        extra=extra,
    )


def product(raw: Mapping[str, Any]) -> ProductRecord:
    """A Shopify product (REST resource or products/* webhook body) -> ProductRecord."""
    if not isinstance(raw, Mapping):
        raise MappingError("A product must be a JSON object")
    title = _text(raw.get("title"))
    return ProductRecord(
        external_id=_id(raw, "Product"),
        title=title,
        updated_at=parse_datetime(raw.get("updated_at") or raw.get("created_at")),
        variants=tuple(variant(v, title) for v in raw.get("variants") or ()),
        status=_text(raw.get("status")) or "active",
        description=_plain(raw.get("body_html")),
    )


def product_item(raw: Mapping[str, Any]) -> InboundItem:
    record = product(raw)
    return InboundItem(
        object_type="product",
        external_id=record.external_id,
        action=Action.UPSERT,
        updated_at=record.updated_at,
        record=record,
    )


def fulfilment_request(
    item: FulfilmentOut, fulfillment_orders: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The body of ``POST fulfillments.json`` for ``item``: each of its lines taken from the open
    fulfilment orders that can still fulfil it, with the tracking; None when nothing is left to
    fulfil. A line Shopify's order does not have is refused (``PermanentError``)."""
    order_id = item.order_external_id
    open_orders = [
        fo
        for fo in fulfillment_orders
        if fo.get("status") in ("open", "in_progress", "scheduled")
        and "create_fulfillment" in (fo.get("supported_actions") or ["create_fulfillment"])
    ]
    known_lines = {
        str(li.get("line_item_id")) for fo in fulfillment_orders for li in fo.get("line_items") or ()
    }
    unknown = [line.external_line_id for line in item.lines if line.external_line_id not in known_lines]
    if unknown:
        raise PermanentError(
            f"Order {order_id} has no line item {', '.join(unknown)} in Shopify", status=None
        )
    by_order: dict[int, list[dict[str, int]]] = {}
    for line in item.lines:
        remaining = line.quantity
        for fo in open_orders:
            for fo_line in fo.get("line_items") or ():
                if remaining <= 0 or str(fo_line.get("line_item_id")) != line.external_line_id:
                    continue
                take = min(remaining, int(fo_line.get("fulfillable_quantity") or 0))
                if take > 0:
                    by_order.setdefault(int(fo["id"]), []).append(
                        {"id": int(fo_line["id"]), "quantity": take}
                    )
                    remaining -= take
    if not by_order:
        return None
    request: dict[str, Any] = {
        "line_items_by_fulfillment_order": [
            {"fulfillment_order_id": fo_id, "fulfillment_order_line_items": lines}
            for fo_id, lines in by_order.items()
        ],
        "notify_customer": True,
    }
    if item.tracking_number or item.carrier or item.tracking_url:
        tracking = {"number": item.tracking_number, "company": item.carrier, "url": item.tracking_url}
        request["tracking_info"] = {k: v for k, v in tracking.items() if v}
    return request


def shows_tracking(fulfilment: Mapping[str, Any], item: FulfilmentOut) -> bool:
    """Does Shopify's fulfilment carry the label's tracking already? Its number (or no number), and
    the carrier and URL where the label gives them (Shopify makes a known carrier's URL itself)."""
    numbers = {*(fulfilment.get("tracking_numbers") or ()), fulfilment.get("tracking_number")} - {None, ""}
    urls = {*(fulfilment.get("tracking_urls") or ()), fulfilment.get("tracking_url")} - {None, ""}
    return (
        (item.tracking_number in numbers if item.tracking_number else not numbers)
        and (not item.carrier or fulfilment.get("tracking_company") == item.carrier)
        and (not item.tracking_url or item.tracking_url in urls)
    )
