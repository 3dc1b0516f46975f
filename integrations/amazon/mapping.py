"""Amazon's wire format (Orders v0, Listings Items 2021-08-01) -> the hub's canonical records.

Amazon's orders are PascalCase JSON; money is ``{"CurrencyCode", "Amount"}`` with the amount a
string (``"249.00"``), kept exactly as a ``Decimal``. An order is the order plus its items
(getOrderItems); each item's amounts are for the whole line, not a unit: ``ItemPrice`` is the unit
price times ``QuantityOrdered``.

Choices worth knowing:

* Status: ``Pending`` (payment not authorised yet; ``PendingAvailability``, a pre-order, likewise)
  is recorded at once, with ``prices_pending``: its items carry no prices yet, the hub confirms it
  at no price and reserves its stock, and the update that brings ``Unshipped`` prices it
  (``integrations.appliers.prices``). ``Unshipped``, ``PartiallyShipped``, ``Shipped`` and
  ``InvoiceUnconfirmed`` are imported as they are; ``Canceled`` and ``Unfulfillable`` cancel.
* Who ships (``FulfillmentChannel``): ``MFN`` (merchant-fulfilled) orders are ours to ship, and
  the shipment confirmation goes back to Amazon from here; ``AFN`` (fulfilled by Amazon, FBA)
  lines are ``FulfilledBy.MARKETPLACE``: sold here, reserving and shipping none of our stock.
  Amazon's shipping of an AFN order comes back as a shipment of its shipped quantities: one
  cumulative record (``ShipmentRecord.cumulative``) per count, ``<order>-fba-<n>``, of which the
  hub records what is shipped beyond what it recorded already.
* MFN items Amazon shows shipped (``QuantityShipped`` > 0; the order ``PartiallyShipped`` or
  ``Shipped``) come back the same way, as one cumulative record ``<order>-mfn-<n>`` (``shipped_id``;
  ``n`` the units shipped of the whole order) of each item's ``QuantityShipped``: Amazon's count of
  every unit shipped, our confirmations and the merchant's shipments by hand in Seller Central
  alike, which it does not tell apart. The hub records per line what Amazon shows beyond what is
  shipped here (``appliers.shipments``), so what we shipped and confirmed ourselves is never
  recorded again, an item shipped in part by hand is recorded as it ships (a line of 3: we ship and
  confirm 1, the merchant ships 1 by hand, the next read records exactly that 1), and a read that
  shows nothing beyond ours records nothing. What is recorded is a shipment from our warehouse (it
  issues our stock like any shipment), with no carrier or tracking (the Orders API gives none) and
  the service "Shipped in Seller Central". Our confirmations are not linked under these ids
  (``pushes``): Amazon's count at the next read may hold a shipment by hand besides ours.
* Lines: unit price ``ItemPrice / QuantityOrdered``; when that is not a whole number of cents the
  unit price is rounded up and the difference is added to the line's discount, so the line's
  amount stays ``ItemPrice`` to the cent. Discount ``PromotionDiscount``; one tax line of
  ``ItemTax - PromotionDiscountTax`` (named after ``TaxCollection.Model``: tax Amazon collects and
  remits as marketplace facilitator is not the seller's to pay).
* Shipping: one line of the items' ``ShippingPrice`` less ``ShippingDiscount`` (the order's
  ``ShipServiceLevel``), with their tax; gift wrap its own line. Totals: subtotal = items less
  promotions; discount = promotions; shipping = the shipping lines; tax = every net tax;
  total = ``OrderTotal``.
* Prices include tax where the marketplace shows them so (Europe, the UK, Japan...), not in North
  America (``TAX_INCLUSIVE``).
* Buyer data (names, street addresses, the buyer's email) is personal data Amazon gives only with a
  restricted-data token. Without one the order keeps city, region, postal code and country, the
  buyer is the connection's guest, and the order is tagged ``buyer-data-restricted``; with one,
  the buyer is a customer keyed by Amazon's (anonymised, stable) buyer email.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from erp.money import ZERO
from integrations.contract import Action, InboundItem
from integrations.records import (
    CustomerRecord,
    FulfilledBy,
    OrderLineRecord,
    OrderRecord,
    OrderTotals,
    ProductRecord,
    ShipmentLineRecord,
    ShipmentRecord,
    ShippingLineRecord,
    TaxLine,
    VariantRecord,
)

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
RESTRICTED_TAG = "buyer-data-restricted"
PENDING_TAG = "prices-pending"
FBA_TAG = "fba"
SELLER_CENTRAL = "Shipped in Seller Central"

# Marketplace id -> (currency, prices include tax). Amazon's documented marketplace ids.
MARKETPLACES: Mapping[str, tuple[str, bool]] = {
    "ATVPDKIKX0DER": ("USD", False),  # United States
    "A2EUQ1WTGCTBG2": ("CAD", False),  # Canada
    "A1AM78C64UM0Y8": ("MXN", True),  # Mexico
    "A2Q3Y263D00KWC": ("BRL", True),  # Brazil
    "A1F83G8C2ARO7P": ("GBP", True),  # United Kingdom
    "A1PA6795UKMFR9": ("EUR", True),  # Germany
    "A13V1IB3VIYZZH": ("EUR", True),  # France
    "APJ6JRA9NG5V4": ("EUR", True),  # Italy
    "A1RKKUPIHCS9HS": ("EUR", True),  # Spain
    "A1805IZSGTT6HS": ("EUR", True),  # Netherlands
    "A2NODRKZP88ZB9": ("SEK", True),  # Sweden
    "A1C3SOZRARQ6R3": ("PLN", True),  # Poland
    "A1VC38T7YXB528": ("JPY", True),  # Japan
    "A39IBJ37TRP1C6": ("AUD", True),  # Australia
    "A19VAU5U5O7RUS": ("SGD", True),  # Singapore
    "A21TJRUUN4KGV": ("INR", True),  # India
}

IMPORT, PENDING, CANCEL = "import", "pending", "cancel"
STATUS: Mapping[str, str] = {
    "Pending": PENDING,
    "PendingAvailability": PENDING,
    "Unshipped": IMPORT,
    "PartiallyShipped": IMPORT,
    "Shipped": IMPORT,
    "InvoiceUnconfirmed": IMPORT,
    "Canceled": CANCEL,
    "Unfulfillable": CANCEL,
}


class MappingError(ValueError):
    """A payload Amazon would never send: missing ids, unreadable amounts or dates."""


# --- scalars --------------------------------------------------------------------------------------


def money(value: Any) -> Decimal:
    """An Amazon Money object's amount (``{"CurrencyCode", "Amount": "249.00"}``); absent is 0."""
    if value is None:
        return ZERO
    if not isinstance(value, Mapping):
        raise MappingError(f"Not a Money object: {value!r}")
    amount = value.get("Amount")
    if amount in (None, ""):
        return ZERO
    try:
        return Decimal(str(amount))
    except InvalidOperation as exc:
        raise MappingError(f"Not an amount: {amount!r}") from exc


def instant(value: Any) -> datetime.datetime | None:
    """An ISO 8601 instant ("2026-03-14T14:05:11Z"); None when absent."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"Not an ISO 8601 date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def iso(moment: datetime.datetime) -> str:
    """A time as Amazon's query parameters take it: UTC, seconds, "Z"."""
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _quantity(value: Any) -> Decimal:
    try:
        return Decimal(int(value or 0))
    except (TypeError, ValueError) as exc:
        raise MappingError(f"Not a quantity: {value!r}") from exc


def _rate(tax: Decimal, base: Decimal) -> Decimal:
    return (tax / base).quantize(RATE_PLACES) if base else ZERO


def status_of(order: Mapping[str, Any]) -> str:
    """What the hub does with the order's status: IMPORT, PENDING or CANCEL (unknown: PENDING)."""
    return STATUS.get(_text(order.get("OrderStatus")), PENDING)


def marketplace(order: Mapping[str, Any]) -> tuple[str, bool]:
    return MARKETPLACES.get(_text(order.get("MarketplaceId")), ("", False))


# --- buyer ----------------------------------------------------------------------------------------


def address(raw: Any) -> dict[str, str]:
    """An Amazon address -> the keys of ``sales.Address.snapshot()`` ({} if none). Redacted (no
    restricted-data token) it has only the city, region, postal code and country."""
    if not isinstance(raw, Mapping) or not raw:
        return {}
    return {
        "name": _text(raw.get("Name")),
        "company": _text(raw.get("CompanyName")),
        "line1": _text(raw.get("AddressLine1")),
        "line2": " ".join(p for p in (_text(raw.get("AddressLine2")), _text(raw.get("AddressLine3"))) if p),
        "city": _text(raw.get("City")),
        "region": _text(raw.get("StateOrRegion")),
        "postal_code": _text(raw.get("PostalCode")),
        "country": _text(raw.get("CountryCode")).upper(),
        "phone": _text(raw.get("Phone")),
    }


def has_buyer_data(order: Mapping[str, Any]) -> bool:
    """Whether the order came with its personal data (read with a restricted-data token)."""
    shipping = order.get("ShippingAddress") or {}
    buyer = order.get("BuyerInfo") or {}
    return bool(_text(shipping.get("Name")) or _text(shipping.get("AddressLine1")) or buyer.get("BuyerName"))


def customer(order: Mapping[str, Any]) -> CustomerRecord | None:
    """The buyer, keyed by Amazon's anonymised buyer email, when the order carries buyer data."""
    if not has_buyer_data(order):
        return None
    buyer = order.get("BuyerInfo") or {}
    shipping = address(order.get("ShippingAddress"))
    email = _text(buyer.get("BuyerEmail"))
    name = _text(buyer.get("BuyerName")) or shipping.get("name", "")
    if not (email or name):
        return None
    return CustomerRecord(
        external_id=email.lower() or f"name:{name.lower()}",
        name=name or email,
        email=email,
        phone=shipping.get("phone", ""),
        company=shipping.get("company", ""),
        address=shipping,
    )


# --- lines, shipping, totals ----------------------------------------------------------------------


def _tax_name(item: Mapping[str, Any]) -> str:
    model = _text((item.get("TaxCollection") or {}).get("Model"))
    return "Marketplace facilitator tax" if model == "MarketplaceFacilitator" else "Tax"


def _net(item: Mapping[str, Any], amount: str, discount: str = "") -> Decimal:
    value = money(item.get(amount))
    return value - money(item.get(discount)) if discount else value


def order_line(item: Mapping[str, Any], *, fba: bool, pending: bool) -> OrderLineRecord:
    item_id = _text(item.get("OrderItemId"))
    if not item_id:
        raise MappingError("An order item without OrderItemId")
    quantity = _quantity(item.get("QuantityOrdered"))
    sku = _text(item.get("SellerSKU"))
    line = OrderLineRecord(
        external_id=item_id,
        sku=sku,
        variant_external_id=sku,
        title=_text(item.get("Title")),
        quantity=quantity,
        unit_price=ZERO,
        fulfilled_by=FulfilledBy.MARKETPLACE if fba else FulfilledBy.MERCHANT,
    )
    if pending or quantity <= 0:
        return line  # no prices yet
    price = money(item.get("ItemPrice"))
    unit = (price / quantity).quantize(CENT, rounding=ROUND_CEILING)
    rounding = unit * quantity - price  # what rounding the unit price up added: given back
    tax = _net(item, "ItemTax", "PromotionDiscountTax")
    base = price - money(item.get("PromotionDiscount"))
    return replace(
        line,
        unit_price=unit,
        discount=money(item.get("PromotionDiscount")) + rounding,
        taxes=(TaxLine(_tax_name(item), _rate(tax, base), tax),) if tax else (),
    )


def _shipping_line(
    items: Sequence[Mapping[str, Any]], title: str, price: str, tax: str, discount: str, discount_tax: str
) -> ShippingLineRecord | None:
    amount = sum((money(i.get(price)) for i in items), ZERO)
    off = sum((money(i.get(discount)) for i in items), ZERO) if discount else ZERO
    taxed = sum((_net(i, tax, discount_tax) for i in items), ZERO)
    if not (amount or taxed):
        return None
    name = _tax_name(items[0]) if items else "Tax"
    taxes = (TaxLine(name, _rate(taxed, amount - off), taxed),) if taxed else ()
    return ShippingLineRecord(title=title, amount=amount, discount=off, taxes=taxes)


def shipping_lines(
    order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> tuple[ShippingLineRecord, ...]:
    service = _text(order.get("ShipServiceLevel")) or "Shipping"
    lines = (
        _shipping_line(
            items, service, "ShippingPrice", "ShippingTax", "ShippingDiscount", "ShippingDiscountTax"
        ),
        _shipping_line(items, "Gift wrap", "GiftWrapPrice", "GiftWrapTax", "", ""),
    )
    return tuple(line for line in lines if line is not None)


def totals(
    order: Mapping[str, Any], lines: Sequence[OrderLineRecord], shipping: Sequence[ShippingLineRecord]
) -> OrderTotals:
    discount = sum((ln.discount for ln in lines), ZERO)
    gross = sum((ln.unit_price * ln.quantity for ln in lines), ZERO)
    return OrderTotals(
        subtotal=gross - discount,
        discount=discount,
        shipping=sum((s.amount - s.discount for s in shipping), ZERO),
        tax=sum((t.amount for ln in lines for t in ln.taxes), ZERO)
        + sum((t.amount for s in shipping for t in s.taxes), ZERO),
        total=money(order.get("OrderTotal")),
    )


def _tags(order: Mapping[str, Any], *, pending: bool) -> tuple[str, ...]:
    tags = []
    if _text(order.get("FulfillmentChannel")).upper() == "AFN":
        tags.append(FBA_TAG)
    if order.get("IsPrime") is True:
        tags.append("prime")
    if order.get("IsBusinessOrder") is True:
        tags.append("business")
    if pending:
        tags.append(PENDING_TAG)
    if not has_buyer_data(order):
        tags.append(RESTRICTED_TAG)
    return tuple(tags)


def fba_shipment(
    order_id: str, order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> ShipmentRecord | None:
    """What Amazon has shipped of an FBA order so far, as one cumulative record (each item's
    ``QuantityShipped``: a line of 2 shipped 1 then 2 records 1, then 1 more)."""
    shipped = [(i, _quantity(i.get("QuantityShipped"))) for i in items]
    count = sum((q for _, q in shipped), ZERO)
    if count <= 0:
        return None
    when = instant(order.get("LastUpdateDate")) or instant(order.get("PurchaseDate"))
    assert when is not None
    return ShipmentRecord(
        external_id=f"{order_id}-fba-{int(count)}",
        created_at=when,
        lines=tuple(
            ShipmentLineRecord(
                line_external_id=_text(i.get("OrderItemId")), quantity=q, sku=_text(i.get("SellerSKU"))
            )
            for i, q in shipped
            if q > 0
        ),
        carrier="Amazon",
        service=_text(order.get("ShipServiceLevel"))[:60],
        order_external_id=order_id,
        cumulative=True,
    )


def shipped_id(order_id: str, units: int | Decimal) -> str:
    """The id of what Amazon shows shipped of a merchant-fulfilled order once it has shipped
    ``units`` units of it in all (``mfn_shipment``)."""
    return f"{order_id}-mfn-{int(units)}"


def shipped_units(items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each order item's units Amazon shows shipped (``QuantityShipped``), by ``OrderItemId``."""
    return {_text(i.get("OrderItemId")): int(_quantity(i.get("QuantityShipped"))) for i in items}


def mfn_shipment(
    order_id: str, order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> ShipmentRecord | None:
    """What Amazon shows shipped of a merchant-fulfilled order, as one cumulative record of every
    item with units shipped (``QuantityShipped``, ours and the merchant's by hand alike): the hub
    records what it shows beyond what is shipped here."""
    shipped = [(i, _quantity(i.get("QuantityShipped"))) for i in items]
    shipped = [(i, q) for i, q in shipped if q > 0]
    if not shipped:
        return None
    when = instant(order.get("LastUpdateDate")) or instant(order.get("PurchaseDate"))
    assert when is not None
    service = _text(order.get("ShipServiceLevel"))
    return ShipmentRecord(
        external_id=shipped_id(order_id, sum((q for _, q in shipped), ZERO)),
        created_at=when,
        lines=tuple(
            ShipmentLineRecord(
                line_external_id=_text(i.get("OrderItemId")), quantity=q, sku=_text(i.get("SellerSKU"))
            )
            for i, q in shipped
        ),
        service=(f"{SELLER_CENTRAL} ({service})" if service else SELLER_CENTRAL)[:60],
        order_external_id=order_id,
        cumulative=True,
    )


# --- orders ---------------------------------------------------------------------------------------


def order(raw: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> OrderRecord:
    """An Orders v0 order with its items (every page of getOrderItems) -> OrderRecord."""
    if not isinstance(raw, Mapping):
        raise MappingError("An order must be a JSON object")
    order_id = _text(raw.get("AmazonOrderId"))
    if not order_id:
        raise MappingError("An order without AmazonOrderId")
    created = instant(raw.get("PurchaseDate"))
    if created is None:
        raise MappingError(f"Order {order_id} without PurchaseDate")
    updated = instant(raw.get("LastUpdateDate")) or created
    action = status_of(raw)
    pending = action == PENDING
    fba = _text(raw.get("FulfillmentChannel")).upper() == "AFN"
    currency, inclusive = marketplace(raw)
    currency = _text((raw.get("OrderTotal") or {}).get("CurrencyCode")) or currency
    if not currency:
        currency = next(
            (_text((i.get("ItemPrice") or {}).get("CurrencyCode")) for i in items if i.get("ItemPrice")), ""
        )
    lines = tuple(order_line(i, fba=fba, pending=pending) for i in items)
    shipping = () if pending else shipping_lines(raw, items)
    cancelled = action == CANCEL
    shipment = None
    if not cancelled:
        shipment = fba_shipment(order_id, raw, items) if fba else mfn_shipment(order_id, raw, items)
    reason = _text(raw.get("OrderStatus"))
    cancel_asks = [
        _text((i.get("BuyerRequestedCancel") or {}).get("BuyerCancelReason"))
        for i in items
        if _text((i.get("BuyerRequestedCancel") or {}).get("IsBuyerRequestedCancel")).lower() == "true"
    ]
    return OrderRecord(
        external_id=order_id,
        number=order_id,
        created_at=created,
        updated_at=updated,
        currency=currency.upper(),
        prices_include_tax=inclusive,
        customer=customer(raw),
        billing_address={},
        shipping_address=address(raw.get("ShippingAddress")),
        lines=lines,
        shipping=shipping,
        totals=None if pending or cancelled else totals(raw, lines, shipping),
        financial_status="pending" if pending else ("voided" if cancelled else "paid"),
        cancelled_at=updated if cancelled else None,
        cancel_reason=(f"{reason}: {cancel_asks[0]}" if cancel_asks and cancel_asks[0] else reason)
        if cancelled
        else "",
        tags=_tags(raw, pending=pending),
        note=_ship_by(raw) if not fba else "",
        shipments=(shipment,) if shipment is not None else (),
        prices_pending=pending,
    )


def _ship_by(raw: Mapping[str, Any]) -> str:
    """What the warehouse must know: Amazon's latest ship date (and the service the buyer chose)."""
    latest = instant(raw.get("LatestShipDate"))
    if latest is None:
        return ""
    service = _text(raw.get("ShipServiceLevel"))
    return f"Ship by {latest:%Y-%m-%d %H:%M} UTC" + (f" ({service})" if service else "")


def order_item(raw: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> InboundItem:
    record = order(raw, items)
    action = Action.CANCEL if record.cancelled_at else Action.UPSERT
    return InboundItem("order", record.external_id, action, record.updated_at, record)


# --- listings -------------------------------------------------------------------------------------


def fulfilled_by_amazon(listing: Mapping[str, Any]) -> bool:
    """A listing whose every offer Amazon fulfils (its stock is Amazon's, never pushed from here)."""
    codes = [_text(f.get("fulfillmentChannelCode")) for f in listing.get("fulfillmentAvailability") or ()]
    return bool(codes) and all(c != "DEFAULT" for c in codes)


def product_type(listing: Mapping[str, Any], marketplace_id: str) -> str:
    summaries = listing.get("summaries") or ()
    for summary in summaries:
        if _text(summary.get("marketplaceId")) == marketplace_id and summary.get("productType"):
            return _text(summary["productType"])
    return next((_text(s.get("productType")) for s in summaries if s.get("productType")), "")


def product(listing: Mapping[str, Any], marketplace_id: str, seen_at: datetime.datetime) -> ProductRecord:
    """A listing (one SKU of the seller) -> a product with one variant, both keyed by the SKU."""
    sku = _text(listing.get("sku"))
    if not sku:
        raise MappingError("A listing without sku")
    summaries = [s for s in listing.get("summaries") or () if isinstance(s, Mapping)]
    summary = next(
        (s for s in summaries if _text(s.get("marketplaceId")) == marketplace_id),
        summaries[0] if summaries else {},
    )
    name = _text(summary.get("itemName")) or sku
    updated = instant(summary.get("lastUpdatedDate")) or seen_at
    extra = {"product_type": product_type(listing, marketplace_id), "asin": _text(summary.get("asin"))}
    statuses = [str(s) for s in summary.get("status") or ()]
    return ProductRecord(
        external_id=sku,
        title=name,
        updated_at=updated,
        variants=(VariantRecord(external_id=sku, sku=sku, title=name, extra=extra),),
        status="active" if "BUYABLE" in statuses or not statuses else "draft",
    )
