"""BigCommerce's wire format -> the hub's canonical records, and nothing else.

Sources: samples/FORMAT.md and the samples beside it (V2 orders, V3 catalog).

* Money arrives as strings with four decimals (``"62.6793"``) and is kept exactly as a
  ``Decimal`` (the hub compares totals at the currency's minor unit); V3 numbers (JSON floats)
  go through ``str`` first.
* V2 dates are RFC 2822 (``"Sat, 14 Mar 2026 14:21:07 +0000"``), parsed with their offset;
  ``""`` is no date. V3 dates are ISO 8601.
* An order is the V2 order plus ``/products``, ``/shipping_addresses`` and, when the store has
  any, ``/shipments`` and the V3 refunds (``/v3/orders/{id}/payment_actions/refunds``).

Choices worth knowing:

* Status (``STATUS``): an order is imported (and so confirmed here) only once the store
  considers it payable: awaiting fulfilment, shipment or pickup, shipped, partially shipped,
  completed, disputed, refunded and partially refunded. Incomplete (an abandoned checkout),
  pending, awaiting payment and manual verification required are *not imported yet*: the hub has
  no draft orders (every imported order is confirmed and reserves stock), so the order arrives
  with the status update that makes it payable. Cancelled and declined cancel the order.
* Lines are the order products without a parent (a bundle's children are priced in the parent).
  ``unit_price`` is ``price_ex_tax`` (``price_inc_tax`` when the store's prices include tax),
  ``discount`` the sum of the line's ``applied_discounts``, one tax line of ``total_tax`` with the
  rate ``total_tax / total_ex_tax`` (V2 names no tax: "Tax"). ``current_quantity`` is what the
  customer still has: ``quantity - quantity_refunded`` (a line refunded in full before it shipped
  is taken back, as an order edit would).
* Shipping: the order's shipping cost, and handling and gift wrapping when charged, each a
  shipping line with its tax. ``OrderTotals``: subtotal = the lines' subtotal after discounts
  (``subtotal_ex_tax - discount_amount``; inc-tax when prices include tax), discount =
  ``discount_amount``, shipping = the shipping lines, tax = ``total_tax``, total =
  ``total_inc_tax``.
* Shipments: each V2 shipment with its tracking number, carrier (``tracking_carrier``, else
  ``shipping_provider``), method and tracking link.
* Refunds: each V3 refund's ``PRODUCT`` items (``item_id`` is the order product's id) and the sum
  of its payments not declined. V3 does not say whether goods came back: units of a line that
  never shipped are ``CANCEL``, shipped ones ``NONE`` (credited, not restocked) [inferred].
* The customer is the store's customer (``customer_id``; 0 is a guest: no customer record) named
  and reached through the billing address.
"""

from __future__ import annotations

import datetime
import email.utils
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.contract import Action, InboundItem
from integrations.records import (
    CustomerRecord,
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
RATE_PLACES = Decimal("0.0001")
TAX_NAME = "Tax"


class MappingError(ValueError):
    """A payload BigCommerce would never send: missing ids, unreadable numbers or dates."""


# --- status ---------------------------------------------------------------------------------------

# What becomes of an order in each BigCommerce status (status_id, documented 0..14).
IMPORT, WAIT, CANCEL = "import", "wait", "cancel"
STATUS: Mapping[int, tuple[str, str]] = {
    0: ("Incomplete", WAIT),
    1: ("Pending", WAIT),
    2: ("Shipped", IMPORT),
    3: ("Partially Shipped", IMPORT),
    4: ("Refunded", IMPORT),
    5: ("Cancelled", CANCEL),
    6: ("Declined", CANCEL),
    7: ("Awaiting Payment", WAIT),
    8: ("Awaiting Pickup", IMPORT),
    9: ("Awaiting Shipment", IMPORT),
    10: ("Completed", IMPORT),
    11: ("Awaiting Fulfillment", IMPORT),
    12: ("Manual Verification Required", WAIT),
    13: ("Disputed", IMPORT),
    14: ("Partially Refunded", IMPORT),
}
REFUNDED_STATUSES = frozenset({4, 14})


def status_of(order: Mapping[str, Any]) -> tuple[int, str]:
    """(status_id, what the hub does with it: IMPORT, WAIT or CANCEL). An unknown id waits."""
    try:
        status_id = int(order.get("status_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise MappingError(f"Order {order.get('id')} has no status_id") from exc
    return status_id, STATUS.get(status_id, ("", WAIT))[1]


def payable(order: Mapping[str, Any]) -> bool:
    """The store considers the order payable (or it is cancelled): the hub imports it."""
    return status_of(order)[1] != WAIT


# --- scalars --------------------------------------------------------------------------------------


def money(value: Any) -> Decimal:
    """A BigCommerce amount ("249.0000", or a V3 number) as an exact Decimal; "" or None is 0."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, bool):
        raise MappingError(f"Not an amount: {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MappingError(f"Not an amount: {value!r}") from exc


def rfc2822(value: Any) -> datetime.datetime | None:
    """A V2 date ("Sat, 14 Mar 2026 14:21:07 +0000") with its offset; None for ""."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(f"Not an RFC 2822 date: {value!r}")
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise MappingError(f"Not an RFC 2822 date: {value!r}") from exc
    if parsed.tzinfo is None:  # "-0000": the RFC's "no offset known"; BigCommerce means UTC
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def iso8601(value: Any) -> datetime.datetime | None:
    """A V3 date ("2026-03-14T14:21:07+00:00" or "...Z"); None for ""."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"Not an ISO 8601 date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def format_rfc2822(moment: datetime.datetime) -> str:
    """A time as V2 query parameters take it (``min_date_modified``), in UTC."""
    return email.utils.format_datetime(moment.astimezone(datetime.UTC))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _id(obj: Mapping[str, Any], what: str) -> str:
    value = obj.get("id")
    if value in (None, ""):
        raise MappingError(f"{what} without an id")
    return str(value)


def _rate(tax: Decimal, base: Decimal) -> Decimal:
    return (tax / base).quantize(RATE_PLACES) if base else ZERO


def _tax(tax: Decimal, base: Decimal) -> tuple[TaxLine, ...]:
    return (TaxLine(name=TAX_NAME, rate=_rate(tax, base), amount=tax),) if tax else ()


# --- addresses and customer -----------------------------------------------------------------------


def address(raw: Any) -> dict[str, str]:
    """A V2 billing or shipping address -> the keys of ``sales.Address.snapshot()`` ({} if none)."""
    if not isinstance(raw, Mapping) or not raw:
        return {}
    name = " ".join(p for p in (_text(raw.get("first_name")), _text(raw.get("last_name"))) if p)
    return {
        "name": name,
        "company": _text(raw.get("company")),
        "line1": _text(raw.get("street_1")),
        "line2": _text(raw.get("street_2")),
        "city": _text(raw.get("city")),
        "region": _text(raw.get("state")),
        "postal_code": _text(raw.get("zip")),
        "country": _text(raw.get("country_iso2")).upper(),
        "phone": _text(raw.get("phone")),
    }


def customer(order: Mapping[str, Any]) -> CustomerRecord | None:
    """The store's customer (``customer_id``), named from the billing address; None for a guest."""
    customer_id = order.get("customer_id")
    if customer_id in (None, "", 0, "0"):
        return None
    billing = order.get("billing_address") or {}
    name = " ".join(p for p in (_text(billing.get("first_name")), _text(billing.get("last_name"))) if p)
    email_address = _text(billing.get("email"))
    return CustomerRecord(
        external_id=str(customer_id),
        name=name or email_address,
        email=email_address,
        phone=_text(billing.get("phone")),
        company=_text(billing.get("company")),
        address=address(billing),
    )


# --- lines, shipping, totals ----------------------------------------------------------------------


def _title(raw: Mapping[str, Any]) -> str:
    name = _text(raw.get("name"))
    values = [
        _text(o.get("display_value"))
        for o in raw.get("product_options") or ()
        if _text(o.get("display_value"))
    ]
    return f"{name} - {' / '.join(values)}" if values else name


def order_line(raw: Mapping[str, Any], *, tax_inclusive: bool) -> OrderLineRecord:
    variant_id = raw.get("variant_id")
    total_ex_tax = money(raw.get("total_ex_tax"))
    return OrderLineRecord(
        external_id=_id(raw, "Order product"),
        sku=_text(raw.get("sku")),
        variant_external_id="" if variant_id in (None, "", 0) else str(variant_id),
        title=_title(raw),
        quantity=money(raw.get("quantity")),
        current_quantity=money(raw.get("quantity")) - money(raw.get("quantity_refunded")),
        unit_price=money(raw.get("price_inc_tax" if tax_inclusive else "price_ex_tax")),
        discount=sum((money(d.get("amount")) for d in raw.get("applied_discounts") or ()), ZERO),
        taxes=_tax(money(raw.get("total_tax")), total_ex_tax),
    )


def _cost(
    order: Mapping[str, Any], prefix: str, title: str, *, tax_inclusive: bool
) -> ShippingLineRecord | None:
    ex_tax = money(order.get(f"{prefix}_cost_ex_tax"))
    inc_tax = money(order.get(f"{prefix}_cost_inc_tax"))
    tax = money(order.get(f"{prefix}_cost_tax"))
    if not (ex_tax or inc_tax):
        return None
    return ShippingLineRecord(
        title=title, amount=inc_tax if tax_inclusive else ex_tax, taxes=_tax(tax, ex_tax)
    )


def shipping_lines(
    order: Mapping[str, Any], addresses: Sequence[Mapping[str, Any]], *, tax_inclusive: bool
) -> tuple[ShippingLineRecord, ...]:
    method = next((_text(a.get("shipping_method")) for a in addresses if _text(a.get("shipping_method"))), "")
    lines = (
        _cost(order, "shipping", method or "Shipping", tax_inclusive=tax_inclusive),
        _cost(order, "handling", "Handling", tax_inclusive=tax_inclusive),
        _cost(order, "wrapping", "Gift wrapping", tax_inclusive=tax_inclusive),
    )
    return tuple(line for line in lines if line is not None)


def totals(
    order: Mapping[str, Any], shipping: Sequence[ShippingLineRecord], *, tax_inclusive: bool
) -> OrderTotals:
    discount = money(order.get("discount_amount"))
    subtotal = money(order.get("subtotal_inc_tax" if tax_inclusive else "subtotal_ex_tax"))
    return OrderTotals(
        subtotal=subtotal - discount,
        discount=discount,
        shipping=sum((s.amount - s.discount for s in shipping), ZERO),
        tax=money(order.get("total_tax")),
        total=money(order.get("total_inc_tax")),
    )


# --- shipments and refunds ------------------------------------------------------------------------


def shipment(raw: Mapping[str, Any], order_id: str = "") -> ShipmentRecord:
    """A V2 order shipment -> ShipmentRecord (goods that left, with their tracking)."""
    created = rfc2822(raw.get("date_created"))
    if created is None:
        raise MappingError(f"Shipment {raw.get('id')} without date_created")
    return ShipmentRecord(
        external_id=_id(raw, "Shipment"),
        created_at=created,
        lines=tuple(
            ShipmentLineRecord(
                line_external_id=str(item["order_product_id"]), quantity=money(item.get("quantity"))
            )
            for item in raw.get("items") or ()
            if item.get("order_product_id") not in (None, "")
        ),
        carrier=(_text(raw.get("tracking_carrier")) or _text(raw.get("shipping_provider")))[:60],
        service=_text(raw.get("shipping_method"))[:60],
        tracking_number=_text(raw.get("tracking_number"))[:100],
        tracking_url=_text(raw.get("tracking_link")),
        order_external_id=order_id or _text(raw.get("order_id")),
    )


def refund(raw: Mapping[str, Any], shipped: Mapping[str, Decimal]) -> RefundRecord:
    """A V3 refund -> RefundRecord. ``shipped``: each order product's quantity_shipped."""
    created = iso8601(raw.get("created"))
    if created is None:
        raise MappingError(f"Refund {raw.get('id')} without created")
    lines = []
    for item in raw.get("items") or ():
        if _text(item.get("item_type")).upper() != "PRODUCT" or item.get("item_id") in (None, ""):
            continue  # shipping, handling, tax or an amount on the whole order: money only
        line_id = str(item["item_id"])
        quantity = money(item.get("quantity"))
        restock = Restock.NONE if shipped.get(line_id, ZERO) > 0 else Restock.CANCEL
        lines.append(RefundLineRecord(line_external_id=line_id, quantity=quantity, restock=restock))
    payments = [p for p in raw.get("payments") or () if not p.get("is_declined")]
    amount = (
        sum((money(p.get("amount")) for p in payments), ZERO) if payments else money(raw.get("total_amount"))
    )
    return RefundRecord(
        external_id=_id(raw, "Refund"),
        created_at=created,
        lines=tuple(lines),
        amount=amount,
        note=_text(raw.get("reason")),
    )


# --- orders ---------------------------------------------------------------------------------------


def order(
    raw: Mapping[str, Any],
    products: Sequence[Mapping[str, Any]],
    addresses: Sequence[Mapping[str, Any]] = (),
    shipments: Sequence[Mapping[str, Any]] = (),
    refunds: Sequence[Mapping[str, Any]] = (),
) -> OrderRecord:
    """A V2 order with its products, shipping addresses, shipments and V3 refunds -> OrderRecord."""
    if not isinstance(raw, Mapping):
        raise MappingError("An order must be a JSON object")
    external_id = _id(raw, "Order")
    created = rfc2822(raw.get("date_created"))
    if created is None:
        raise MappingError(f"Order {external_id} without date_created")
    modified = rfc2822(raw.get("date_modified")) or created
    tax_inclusive = bool(raw.get("is_tax_inclusive_pricing"))
    _, action = status_of(raw)
    own = [p for p in products if p.get("parent_order_product_id") in (None, "", 0)]
    shipping = shipping_lines(raw, addresses, tax_inclusive=tax_inclusive)
    shipped = {str(p.get("id")): money(p.get("quantity_shipped")) for p in products}
    first_address = addresses[0] if addresses else {}
    return OrderRecord(
        external_id=external_id,
        number=external_id,
        created_at=created,
        updated_at=modified,
        currency=_text(raw.get("currency_code")).upper(),
        prices_include_tax=tax_inclusive,
        customer=customer(raw),
        billing_address=address(raw.get("billing_address")),
        shipping_address=address(first_address),
        lines=tuple(order_line(p, tax_inclusive=tax_inclusive) for p in own),
        shipping=shipping,
        totals=totals(raw, shipping, tax_inclusive=tax_inclusive),
        financial_status=_text(raw.get("payment_status")),
        cancelled_at=modified if action == CANCEL else None,
        cancel_reason=_text(raw.get("status")) if action == CANCEL else "",
        note=_text(raw.get("customer_message")),
        shipments=tuple(shipment(s, external_id) for s in shipments),
        refunds=tuple(refund(r, shipped) for r in refunds),
    )


def order_item(
    raw: Mapping[str, Any],
    products: Sequence[Mapping[str, Any]],
    addresses: Sequence[Mapping[str, Any]] = (),
    shipments: Sequence[Mapping[str, Any]] = (),
    refunds: Sequence[Mapping[str, Any]] = (),
) -> InboundItem:
    """A whole order as an inbound item: a cancel when the store cancelled or declined it."""
    record = order(raw, products, addresses, shipments, refunds)
    action = Action.CANCEL if record.cancelled_at else Action.UPSERT
    return InboundItem("order", record.external_id, action, record.updated_at, record)


def waiting_item(raw: Mapping[str, Any]) -> InboundItem:
    """An order the store does not consider payable yet: nothing to import (the hub keeps any order
    it has already; the status update that makes it payable brings it)."""
    return InboundItem("order", _id(raw, "Order"), Action.DELETE, rfc2822(raw.get("date_modified")))


# --- products -------------------------------------------------------------------------------------


def variant(raw: Mapping[str, Any], product_name: str) -> VariantRecord:
    labels = [_text(v.get("label")) for v in raw.get("option_values") or () if _text(v.get("label"))]
    price = raw.get("price") if raw.get("price") is not None else raw.get("calculated_price")
    extra: dict[str, Any] = {}
    if raw.get("product_id") not in (None, ""):
        extra["product_id"] = raw["product_id"]
    return VariantRecord(
        external_id=_id(raw, "Variant"),
        sku=_text(raw.get("sku")),
        title=f"{product_name} - {' / '.join(labels)}" if labels else product_name,
        price=None if price in (None, "") else money(price),
        barcode=_text(raw.get("upc")) or _text(raw.get("gtin")),
        extra=extra,
    )


def product(raw: Mapping[str, Any]) -> ProductRecord:
    """A V3 catalog product with its variants (``include=variants``) -> ProductRecord."""
    if not isinstance(raw, Mapping):
        raise MappingError("A product must be a JSON object")
    name = _text(raw.get("name"))
    updated = iso8601(raw.get("date_modified")) or iso8601(raw.get("date_created"))
    if updated is None:
        raise MappingError(f"Product {raw.get('id')} without date_modified")
    return ProductRecord(
        external_id=_id(raw, "Product"),
        title=name,
        updated_at=updated,
        variants=tuple(variant(v, name) for v in raw.get("variants") or ()),
        status="active" if raw.get("is_visible", True) else "draft",
    )


def product_item(raw: Mapping[str, Any]) -> InboundItem:
    record = product(raw)
    return InboundItem("product", record.external_id, Action.UPSERT, record.updated_at, record)
