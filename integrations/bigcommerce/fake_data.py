"""Seed data and document builders of the local fake BigCommerce (no Django, no I/O beyond the samples).

The samples (``samples/``, copied byte-exact from the shared BigCommerce payloads) are the
source of truth for shapes: order 250 of ``v2_order_get_response.json`` (its products and its
shipping address) is the seed order, the tent variant 77 of ``v3_catalog_variants_by_sku_response.json``
is the first variant of the catalogue, and every other document is built in the same shape.
V2 money is a string with four decimals, V2 dates are RFC 2822 (``Sat, 14 Mar 2026 14:21:07 +0000``).
"""

from __future__ import annotations

import copy
import datetime
import email.utils
import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"

STORE_HASH = "abc123xyz"
STORE_ID = "1025646"
CURRENCY = "USD"
ACCESS_TOKEN = "bc_fake_access_token_0123456789abcdef"
CLIENT_ID = "m9r6keqmo7h7f23btnpwernbez1kglkl"  # the app of v3_hook_create_response.json
# The secret that signed the sample webhook (webhook_headers.json says so): HMAC key = these bytes.
CLIENT_SECRET = "bc_test_client_secret_9f8e7d"
API_HOST = "api.bigcommerce.com"
DEFAULT_LOCATION_ID = 1
STORE_NAME = "Trail Supply Co"
STORE_DOMAIN = "trail-supply.example"
# When the seed catalogue was created and last changed (V3 catalog dates are ISO 8601).
CATALOGUE_DATE = "2026-03-01T12:00:00+00:00"
PROBLEM_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"

# BigCommerce's order statuses (GET /v2/order_statuses), id -> name.
STATUSES: dict[int, str] = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
INCOMPLETE, PENDING, SHIPPED, PARTIALLY_SHIPPED, REFUNDED, CANCELLED, DECLINED = range(7)
AWAITING_PAYMENT, AWAITING_FULFILLMENT, PARTIALLY_REFUNDED = 7, 11, 14

FOUR = Decimal("0.0001")
CENT = Decimal("0.01")


@cache
def sample_bytes(name: str) -> bytes:
    """A sample file's exact bytes (signatures are over these)."""
    return (SAMPLES / name).read_bytes()


def sample(name: str) -> Any:
    """A parsed sample (a fresh copy each time)."""
    return json.loads(sample_bytes(name))


def sample_webhook_headers() -> dict[str, str]:
    """The sample delivery's headers (``webhook_headers.json``) without its ``_comment``."""
    return {k: v for k, v in sample("webhook_headers.json").items() if not k.startswith("_")}


def money(value: Decimal | str | int) -> str:
    """V2 money: a string with four decimals (``"62.6793"``)."""
    return str(Decimal(value).quantize(FOUR, rounding=ROUND_HALF_UP))


def cents(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def rfc2822(moment: datetime.datetime) -> str:
    """V2 dates: ``Sat, 14 Mar 2026 14:21:07 +0000`` (UTC)."""
    return email.utils.format_datetime(moment.astimezone(datetime.UTC).replace(microsecond=0)).replace(
        "-0000", "+0000"
    )


def parse_date(value: str) -> datetime.datetime:
    """An RFC 2822 or ISO 8601 date (V2 filters take both); ValueError when it is neither."""
    value = value.strip()
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def store_info(store_hash: str, store_id: str = STORE_ID, *, name: str = STORE_NAME) -> dict[str, Any]:
    """``GET /v2/store``: the store's information (BigCommerce's StoreInformation; ``id`` is the hash)."""
    return {
        "id": store_hash,
        "account_uuid": "8d4d492f-17a1-4d95-b396-e1c5720815a5",
        "domain": STORE_DOMAIN,
        "secure_url": f"https://{STORE_DOMAIN}",
        "control_panel_base_url": f"https://store-{store_hash}.mybigcommerce.com",
        "status": "live",
        "name": name,
        "first_name": "Jane",
        "last_name": "Doe",
        "address": "410 W Main St, Louisville, KY 40202",
        "country": "United States",
        "country_code": "US",
        "phone": "5025550100",
        "admin_email": "jane.doe@trail-supply.example",
        "order_email": "orders@trail-supply.example",
        "favicon_url": "",
        "timezone": {
            "name": "America/New_York",
            "raw_offset": -18000,
            "dst_offset": -14400,
            "dst_correction": True,
            "date_format": {"display": "M jS Y", "export": "M jS Y", "extended_display": "M jS Y @ g:i A"},
        },
        "language": "en",
        "currency": CURRENCY,
        "currency_symbol": "$",
        "decimal_separator": ".",
        "thousands_separator": ",",
        "decimal_places": 2,
        "currency_symbol_location": "left",
        "weight_units": "Ounces",
        "dimension_units": "Inches",
        "dimension_decimal_places": 2,
        "dimension_decimal_token": ".",
        "dimension_thousands_token": ",",
        "plan_name": "Standard",
        "plan_level": "Standard",
        "plan_is_trial": False,
        "industry": "Sporting Goods",
        "logo": [],
        "is_price_entered_with_tax": False,
        "store_id": int(store_id),
        "default_site_id": 1000,
        "default_channel_id": 1,
        "active_comparison_modules": [],
        "features": {
            "stencil_enabled": True,
            "sitewidehttps_enabled": True,
            "facebook_catalog_id": "",
            "checkout_type": "optimized",
            "wishlists_enabled": True,
            "graphql_storefront_api_enabled": True,
            "shopper_consent_tracking_enabled": False,
            "multi_storefront_enabled": True,
            "storefront_limits": {"active": 1, "total_including_inactive": 1},
        },
    }


# --- the catalogue ---------------------------------------------------------------------------

LOCATIONS: list[dict[str, Any]] = [
    {"id": 1, "code": "BC-LOCATION-1", "label": "Default location", "enabled": True},
    {"id": 2, "code": "BC-LOCATION-2", "label": "East warehouse", "enabled": True},
]

# (product id, name, tracking, [(variant id, sku id, sku, price, option label, stock at 1, stock at 2)])
_CATALOGUE: list[tuple[int, str, str, list[tuple[int, int, str, str, str | None, int, int]]]] = [
    (
        112,
        "Trail Tent 2P",
        "variant",
        [
            (77, 35, "TENT-2P-GRN", "249.00", "Green", 42, 10),
            (78, 36, "TENT-2P-ORG", "249.00", "Orange", 18, 6),
        ],
    ),
    (113, "Down Sleeping Bag 20F", "variant", [(81, 40, "SLBAG-20F-REG", "179.00", None, 12, 4)]),
    (114, "Titanium Stove", "variant", [(85, 44, "STOVE-TI-01", "59.00", None, 15, 5)]),
    # A product whose stock is tracked by product: adjusting it by variant answers 422.
    (130, "Enamel Camp Mug", "product", [(106, 60, "MUG-ENAMEL-01", "14.00", None, 30, 0)]),
]


def seed_catalogue() -> list[dict[str, Any]]:
    """Products with their variants (V3 catalog shapes) and their seed stock per location."""
    template = sample("v3_catalog_variants_by_sku_response.json")["data"][0]
    products = []
    for product_id, name, tracking, variants in _CATALOGUE:
        built = []
        for variant_id, sku_id, sku, price, label, at_1, at_2 in variants:
            variant = copy.deepcopy(template)
            variant.update(
                id=variant_id,
                product_id=product_id,
                sku=sku,
                sku_id=sku_id,
                price=float(price),
                calculated_price=float(price),
                inventory_level=at_1 + at_2,
                option_values=[],
            )
            if label is not None:
                variant["option_values"] = [
                    {
                        "id": 69 if label == "Green" else 70,
                        "label": label,
                        "option_id": 18,
                        "option_display_name": "Color",
                    }
                ]
            if variant_id != 77:
                variant["cost_price"] = round(float(price) * 0.45, 2)
                variant["bin_picking_number"] = ""
            built.append({"variant": variant, "stock": {1: at_1, 2: at_2}})
        products.append({"id": product_id, "name": name, "inventory_tracking": tracking, "variants": built})
    return products


# --- orders ------------------------------------------------------------------------------------

SEED_ORDER_ID = 250


def seed_order() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Order 250 exactly as the samples show it: (order, its products, its shipping addresses)."""
    return (
        sample("v2_order_get_response.json"),
        sample("v2_order_products_response.json"),
        sample("v2_order_shipping_addresses_response.json"),
    )


DEFAULT_CUSTOMER: dict[str, Any] = {
    "first_name": "Jane",
    "last_name": "Buyer",
    "company": "",
    "street_1": "410 W Main St",
    "street_2": "Apt 3",
    "city": "Louisville",
    "state": "Kentucky",
    "zip": "40202",
    "country": "United States",
    "country_iso2": "US",
    "phone": "5025550142",
    "email": "jane.buyer@example.com",
}


def build_order(
    *,
    order_id: int,
    base_url: str,
    created: datetime.datetime,
    lines: list[dict[str, Any]],
    product_ids: list[int],
    address_id: int,
    customer_id: int,
    address: dict[str, Any],
    shipping: Decimal,
    tax_rate: Decimal,
    discount: Decimal,
    coupon: str,
    status_id: int,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """A new V2 order in the samples' shape: (order, its products, its shipping address).

    ``lines``: ``{"product": {...}, "variant": {...}, "quantity": n}``. Tax is ``tax_rate`` of
    each line (prices exclude tax), the coupon ``discount`` is applied to the order's first line
    and comes off the totals after tax, as in the sample order 250.
    """
    order = sample("v2_order_get_response.json")
    products_template = sample("v2_order_products_response.json")[0]
    address_template = sample("v2_order_shipping_addresses_response.json")[0]
    moment = rfc2822(created)
    products: list[dict[str, Any]] = []
    subtotal_ex = subtotal_tax = Decimal(0)
    items = 0
    for index, (line, line_id) in enumerate(zip(lines, product_ids, strict=True)):
        variant, quantity = line["variant"], int(line["quantity"])
        unit = Decimal(str(variant["price"]))
        unit_tax = cents(unit * tax_rate)
        total_ex = unit * quantity
        total_tax = unit_tax * quantity
        product = copy.deepcopy(products_template)
        option_values = variant.get("option_values") or []
        line_discount = discount if index == 0 else Decimal(0)
        product.update(
            id=line_id,
            order_id=order_id,
            product_id=variant["product_id"],
            variant_id=variant["id"],
            order_address_id=address_id,
            name=line["product"]["name"],
            name_customer=line["product"]["name"],
            name_merchant=line["product"]["name"],
            sku=variant["sku"],
            base_price=money(unit),
            price_ex_tax=money(unit),
            price_inc_tax=money(unit + unit_tax),
            price_tax=money(unit_tax),
            base_total=money(total_ex),
            total_ex_tax=money(total_ex),
            total_inc_tax=money(total_ex + total_tax),
            total_tax=money(total_tax),
            quantity=quantity,
            quantity_shipped=0,
            bin_picking_number=variant.get("bin_picking_number") or "",
            applied_discounts=(
                [{"id": "coupon", "amount": money(line_discount), "name": coupon, "code": coupon}]
                if line_discount
                else []
            ),
            product_options=[
                {
                    "id": line_id * 10 + n,
                    "option_id": value["option_id"],
                    "order_product_id": line_id,
                    "product_option_id": 120,
                    "display_name": value["option_display_name"],
                    "display_name_customer": value["option_display_name"],
                    "display_name_merchant": value["option_display_name"],
                    "display_value": value["label"],
                    "display_value_customer": value["label"],
                    "display_value_merchant": value["label"],
                    "value": str(value["id"]),
                    "type": "Swatch",
                    "name": value["option_display_name"],
                    "display_style": "Swatch",
                }
                for n, value in enumerate(option_values)
            ],
            discounted_total_inc_tax=money(total_ex + total_tax - line_discount),
        )
        if line_discount:
            product["applied_discounts"][0]["target"] = "order"
        products.append(product)
        subtotal_ex += total_ex
        subtotal_tax += total_tax
        items += quantity
    shipping_address = copy.deepcopy(address_template)
    shipping_address.update({k: v for k, v in address.items() if k in shipping_address})
    shipping_address.update(
        id=address_id,
        order_id=order_id,
        items_total=items,
        items_shipped=0,
        base_cost=money(shipping),
        cost_ex_tax=money(shipping),
        cost_inc_tax=money(shipping),
        shipping_quotes={
            "url": f"{base_url}/v2/orders/{order_id}/shippingaddresses/{address_id}/shippingquotes",
            "resource": f"/orders/{order_id}/shippingaddresses/{address_id}/shippingquotes",
        },
    )
    status = STATUSES[status_id]
    order.update(
        id=order_id,
        customer_id=customer_id,
        date_created=moment,
        date_modified=moment,
        date_shipped="",
        status_id=status_id,
        status=status,
        custom_status=status,
        subtotal_ex_tax=money(subtotal_ex),
        subtotal_inc_tax=money(subtotal_ex + subtotal_tax),
        subtotal_tax=money(subtotal_tax),
        base_shipping_cost=money(shipping),
        shipping_cost_ex_tax=money(shipping),
        shipping_cost_inc_tax=money(shipping),
        total_ex_tax=money(subtotal_ex + shipping - discount),
        total_inc_tax=money(subtotal_ex + subtotal_tax + shipping - discount),
        total_tax=money(subtotal_tax),
        items_total=items,
        items_shipped=0,
        payment_status="captured" if status_id not in (INCOMPLETE, AWAITING_PAYMENT, PENDING) else "",
        refunded_amount=money(0),
        discount_amount=money(discount),
        coupon_discount=money(discount),
        billing_address={**order["billing_address"], **address, "form_fields": []},
        cart_id=f"00000000-0000-4000-8000-{order_id:012d}",
    )
    for link in ("products", "shipping_addresses", "coupons"):
        resource = "shippingaddresses" if link == "shipping_addresses" else link
        order[link] = {
            "url": f"{base_url}/v2/orders/{order_id}/{resource}",
            "resource": f"/orders/{order_id}/{resource}",
        }
    return order, products, shipping_address
