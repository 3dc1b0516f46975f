"""Seed data, constants and small builders of the local fake Amazon SP-API (no Django, no I/O).

The shapes are those of the shared SP-API payloads (``amazon_sp_api/*.json`` and their
FORMAT.md): Orders v0 is PascalCase with money as ``{"CurrencyCode", "Amount": "<2 decimals>"}``,
Listings Items and Feeds are camelCase, errors are ``{"errors": [{"code", "message", "details"}]}``
and Login with Amazon answers OAuth-style ``{"error", "error_description"}``.

The catalogue is the seller's listings in the US marketplace, the same SKUs the other fakes
sell, each with its ASIN, title, product type (what a listings PATCH must name), price, the
MFN quantity the seller pushes (``fulfillment_availability`` DEFAULT) and, for a listing
fulfilled by Amazon, the AFN quantity Amazon keeps in its own warehouse.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SELLER_ID = "A2EXAMPLESELLER"
MARKETPLACE_ID = "ATVPDKIKX0DER"
LWA_CLIENT_ID = "amzn1.application-oa2-client.fake0123456789"
LWA_CLIENT_SECRET = "amzn1.oa2-cs.v1.fake0123456789abcdef0123456789abcdef0123456789abcdef"
REFRESH_TOKEN = "Atzr|fake-refresh-token"
CURRENCY = "USD"
SALES_CHANNEL = "Amazon.com"
TAX_RATE = Decimal("0.06")
DOCUMENTS_URL = "https://tortuga-prod-na.s3-external-1.amazonaws.com"
FEED_TYPES = ("JSON_LISTINGS_FEED",)
ORDER_STATUSES = (
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
    "PendingAvailability",
)
# What the fake charges for shipping and gift wrap (per order, on its first item; per gift line).
SHIPPING = {
    "free": (Decimal("0.00"), "Std US D2D Dom", "Standard"),
    "standard": (Decimal("5.99"), "Std US D2D Dom", "Standard"),
    "expedited": (Decimal("14.99"), "Exp US D2D Dom", "Expedited"),
}
GIFT_WRAP = Decimal("3.99")
ZERO = Decimal("0.00")
PRICE_KEYS = ("price", "tax", "ship", "ship_tax", "gift", "gift_tax")
MINUS_KEYS = ("promo", "promo_tax", "ship_discount", "ship_discount_tax")
PROMOTION_RATE = Decimal("0.10")
PROMOTION_ID = "PLM-SPRING10-A1B2C3"

# Per-operation token buckets, (rate a second as x-amzn-RateLimit-Limit shows it, burst).
RATE_LIMITS: dict[str, tuple[str, int]] = {
    "getOrders": ("0.0167", 20),
    "getOrder": ("0.5", 30),
    "getOrderItems": ("0.5", 30),
    "getOrderAddress": ("0.5", 30),
    "getOrderBuyerInfo": ("0.5", 30),
    "confirmShipment": ("2", 10),
    "patchListingsItem": ("5", 5),
    "getListingsItem": ("5", 10),
    "searchListingsItems": ("5", 5),
    "createFeedDocument": ("0.5", 15),
    "createFeed": ("0.0083", 15),
    "getFeed": ("2", 15),
    "getFeedDocument": ("0.0222", 10),
    "createRestrictedDataToken": ("1", 10),
}

# sku, asin, title, productType, price, MFN quantity, AFN quantity (None: not fulfilled by Amazon)
CATALOGUE: tuple[tuple[str, str, str, str, str, int, int | None], ...] = (
    ("TENT-2P-GRN", "B0C1234567", "Acme Trail Tent 2-Person, Green", "TENT", "249.00", 0, None),
    ("TENT-2P-ORG", "B0C1234568", "Acme Trail Tent 2-Person, Orange", "TENT", "249.00", 0, None),
    ("SLBAG-20F-REG", "B0C2345678", "Acme 20°F Sleeping Bag, Regular", "SLEEPING_BAG", "129.00", 0, None),
    ("STOVE-TI-01", "B0C7654321", "Acme Titanium Backpacking Stove", "CAMPING_STOVE", "59.95", 0, None),
    ("MUG-ENAMEL-FBA", "B0C9876543", "Acme Enamel Camp Mug 12 oz", "DRINKING_CUP", "14.50", 0, 120),
)
CATALOGUE_DATE = "2026-03-01T12:00:00Z"

# The buyers the fake's orders ship to (name, line 1, line 2, city, state, postal code, phone).
BUYERS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("Jane Doe", "1 Main St", "Apt 4", "LOUISVILLE", "KY", "40202-1234", "+1 502-555-0101"),
    ("Carlos Rivera", "88 Pine Ave", "", "SEATTLE", "WA", "98101-2211", "+1 206-555-0147"),
    ("Mei Chen", "400 Oak Blvd", "Unit 12", "AUSTIN", "TX", "78701-3301", "+1 512-555-0199"),
    ("Sam O'Neil", "23 Birch Rd", "", "DENVER", "CO", "80202-4410", "+1 303-555-0123"),
)


class OutOfStock(ValueError):
    """A buyer asked for more than the listing has (Amazon's checkout refuses the quantity)."""


class Problem(Exception):
    """An SP-API error answer: ``status`` and its JSON ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def errors(code: str, message: str, details: str | None = None) -> dict[str, Any]:
    """Amazon's error body ``{"errors": [{"code", "message", "details"?}]}``."""
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"errors": [error]}


def invalid_input(details: str) -> Problem:
    """400 InvalidInput with ``details`` saying what was wrong."""
    return Problem(400, errors("InvalidInput", "Invalid Input", details))


def not_found(message: str, code: str = "NotFound") -> Problem:
    return Problem(404, errors(code, message))


def unauthorized(details: str = "") -> Problem:
    """403 Unauthorized: no (live) token, or a token that does not cover the resource."""
    return Problem(403, errors("Unauthorized", "Access to requested resource is denied.", details))


QUOTA_EXCEEDED = errors("QuotaExceeded", "You exceeded your quota for the requested resource.", "")
INTERNAL_FAILURE = errors("InternalFailure", "We encountered an internal error. Please try again.", "")


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to the cent."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> dict[str, str]:
    """Orders v0 money: ``{"CurrencyCode": "USD", "Amount": "12.34"}`` (Amount a string)."""
    return {"CurrencyCode": CURRENCY, "Amount": str(cents(value))}


def tax(value: Decimal) -> Decimal:
    """The marketplace facilitator's 6 % on ``value``, rounded half-up to the cent."""
    return cents(value * TAX_RATE)


def iso(moment: datetime.datetime) -> str:
    """ISO 8601 in UTC with ``Z``, to the second (Orders v0 dates)."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(moment: datetime.datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z`` (Feeds dates)."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime.datetime:
    """An ISO 8601 date (``Z``, an offset, or none: UTC); ``ValueError`` when it is not one."""
    value = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def now_second(clock: Callable[[], datetime.datetime]) -> datetime.datetime:
    return clock().astimezone(datetime.UTC).replace(microsecond=0)


def order_total(order: Mapping[str, Any]) -> Decimal:
    """The order's total as Amazon sums it (see the module doc)."""
    total = ZERO
    for item in order["items"]:
        total += sum((item[k] for k in PRICE_KEYS), ZERO) - sum((item[k] for k in MINUS_KEYS), ZERO)
    return cents(total)


def unshipped(item: dict[str, Any]) -> int:
    return int(item["qty"]) - int(item["shipped"])


def seed_listings() -> dict[str, dict[str, Any]]:
    """The seller's listings in the marketplace, by SKU."""
    return {
        sku: {
            "sku": sku,
            "asin": asin,
            "title": title,
            "productType": product_type,
            "price": Decimal(price),
            "mfn": mfn,
            "afn": afn,
            "fba_only": afn is not None,
            "updated": CATALOGUE_DATE,
        }
        for sku, asin, title, product_type, price, mfn, afn in CATALOGUE
    }


def full_address(buyer: int) -> dict[str, str]:
    """The buyer's whole shipping address (what a restricted-data token reveals)."""
    name, line1, line2, city, state, postal, phone = BUYERS[buyer % len(BUYERS)]
    address = {"Name": name, "AddressLine1": line1}
    if line2:
        address["AddressLine2"] = line2
    address.update(
        {
            "City": city,
            "StateOrRegion": state,
            "PostalCode": postal,
            "CountryCode": "US",
            "Phone": phone,
            "AddressType": "Residential",
        }
    )
    return address


def redacted_address(address: dict[str, str]) -> dict[str, str]:
    """What an order shows without a restricted-data token (as the sample order)."""
    return {key: address[key] for key in ("StateOrRegion", "PostalCode", "City", "CountryCode")}
