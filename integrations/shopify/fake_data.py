"""Seed data and document builders of the local fake Shopify (no Django, no I/O beyond the samples).

The catalogue starts from the shared samples (``samples/``, copied from
samples/): the tent product of ``rest_products_list_response.json``
and the two other products the sample order sells (sleeping bag, stove), built in
the same shape. Orders are built in Shopify's REST shape, every amount both as a
string and as a ``*_set`` with shop and presentment money.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"

SHOP_ID = 1548380009
SHOP_DOMAIN = "acme-outdoors.myshopify.com"
SHOP_NAME = "Acme Outdoors"
CURRENCY = "USD"
LOCATION_ID = 71234567890
ACCESS_TOKEN = "shpat_fake_acme_outdoors_0123456789abcdef"
CLIENT_SECRET = "shpss_test_app_secret_123"  # the secret that signed the sample webhook
CLIENT_ID = "fake-hub-app-3f9c1a2b7d"  # the app's client id (API key), for the OAuth sign-in
APP_NAME = "ERP integration hub"  # the app the consent page names
# The fake serves any version; it announces this one (current on 2026-11-27: 2025-07 retired on 2026-07-01).
API_VERSION = "2026-10"

CENT = Decimal("0.01")


@cache
def sample_bytes(name: str) -> bytes:
    """A sample file's exact bytes (signatures are over these)."""
    return (SAMPLES / name).read_bytes()


def sample(name: str) -> Any:
    """A parsed sample (a fresh copy each time)."""
    return json.loads(sample_bytes(name))


def sample_webhook_headers() -> dict[str, str]:
    """The sample orders/create delivery's headers, without the ``_comment``."""
    return {k: v for k, v in sample("webhook_headers_orders_create.json").items() if not k.startswith("_")}


def money(value: Decimal | str | int) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def money_set(value: Decimal | str | int, currency: str = CURRENCY) -> dict[str, Any]:
    amount = money(value)
    return {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": currency},
    }


def line_tax(taxable: Decimal, rate: Decimal, *, taxes_included: bool = False) -> Decimal:
    """The tax Shopify charges on ``taxable`` at ``rate``, rounded half up to the cent.

    Prices without tax: ``taxable x rate``. Prices that include tax: the part of the price
    that is tax, ``taxable - taxable / (1 + rate)``.
    """
    if taxes_included:
        return (taxable - taxable / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return (taxable * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def timestamp(moment: datetime.datetime, tz: datetime.tzinfo) -> str:
    """Shopify's REST timestamps: local time of the shop with its offset, to the second."""
    return moment.astimezone(tz).isoformat(timespec="seconds")


def _variant(template: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    variant = copy.deepcopy(dict(template))
    variant.update(values)
    variant["admin_graphql_api_id"] = f"gid://shopify/ProductVariant/{variant['id']}"
    variant["inventory_quantity"] = variant["old_inventory_quantity"] = values.get("inventory_quantity", 0)
    variant["presentment_prices"] = [
        {"price": {"amount": variant["price"], "currency_code": CURRENCY}, "compare_at_price": None}
    ]
    return variant


def seed_products() -> list[dict[str, Any]]:
    """The tent from the samples plus the sleeping bag and the stove of the sample order."""
    tent = sample("rest_products_list_response.json")["products"][0]
    template = tent["variants"][0]
    bag = copy.deepcopy(tent)
    bag.update(
        id=8012345678902,
        title="Down Sleeping Bag 20F",
        handle="down-sleeping-bag-20f",
        body_html="<p>800-fill down, rated to 20&deg;F.</p>",
        product_type="Sleeping bags",
        tags="camping, sleeping",
        admin_graphql_api_id="gid://shopify/Product/8012345678902",
        options=[
            {
                "id": 10123456789021,
                "product_id": 8012345678902,
                "name": "Size",
                "position": 1,
                "values": ["Regular"],
            }
        ],
    )
    bag["variants"] = [
        _variant(
            template,
            id=44012345678902,
            product_id=8012345678902,
            title="Regular",
            option1="Regular",
            price="179.00",
            sku="SLBAG-20F-REG",
            barcode="084001278902",
            inventory_item_id=46012345678902,
            inventory_quantity=7,
        )
    ]
    stove = copy.deepcopy(tent)
    stove.update(
        id=8012345678903,
        title="Titanium Stove",
        handle="titanium-stove",
        body_html="<p>Ultralight canister stove.</p>",
        product_type="Stoves",
        tags="camping, cooking",
        admin_graphql_api_id="gid://shopify/Product/8012345678903",
        options=[
            {
                "id": 10123456789031,
                "product_id": 8012345678903,
                "name": "Title",
                "position": 1,
                "values": ["Default Title"],
            }
        ],
    )
    stove["variants"] = [
        _variant(
            template,
            id=44012345678903,
            product_id=8012345678903,
            title="Default Title",
            option1="Default Title",
            price="59.00",
            sku="STOVE-TI-01",
            barcode="084001278903",
            grams=300,
            weight=0.3,
            inventory_item_id=46012345678903,
            inventory_quantity=15,
        )
    ]
    return [tent, bag, stove]


def seed_shop(tz_name: str) -> dict[str, Any]:
    return {
        "id": SHOP_ID,
        "name": SHOP_NAME,
        "email": "owner@acme-outdoors.example",
        "domain": SHOP_DOMAIN,
        "myshopify_domain": SHOP_DOMAIN,
        "province": "Kentucky",
        "province_code": "KY",
        "country": "US",
        "country_code": "US",
        "country_name": "United States",
        "address1": "100 River Rd",
        "city": "Louisville",
        "zip": "40202",
        "phone": "+15025550100",
        "currency": CURRENCY,
        "enabled_presentment_currencies": [CURRENCY],
        "money_format": "${{amount}}",
        "iana_timezone": tz_name,
        "timezone": "(GMT-05:00) America/New_York",
        "taxes_included": False,
        "tax_shipping": False,
        "plan_name": "basic",
        "plan_display_name": "Basic",
        "primary_location_id": LOCATION_ID,
        "weight_unit": "kg",
        "created_at": "2025-09-01T09:00:00-04:00",
        "updated_at": "2026-03-01T09:00:00-05:00",
    }


def seed_location() -> dict[str, Any]:
    return {
        "id": LOCATION_ID,
        "name": "Louisville warehouse",
        "address1": "100 River Rd",
        "address2": None,
        "city": "Louisville",
        "zip": "40202",
        "province": "Kentucky",
        "province_code": "KY",
        "country": "US",
        "country_code": "US",
        "country_name": "United States",
        "phone": "+15025550100",
        "active": True,
        "legacy": False,
        "created_at": "2025-09-01T09:00:00-04:00",
        "updated_at": "2025-09-01T09:00:00-04:00",
        "admin_graphql_api_id": f"gid://shopify/Location/{LOCATION_ID}",
    }


def seed_order() -> dict[str, Any]:
    """The sample order (#1042), exactly as the sample webhook carries it."""
    order: dict[str, Any] = sample("webhook_orders_create.json")
    return order


def build_order(
    *,
    order_id: int,
    number: int,
    line_item_ids: list[int],
    lines: Sequence[tuple[Mapping[str, Any], Mapping[str, Any], int]],  # (product, variant, quantity)
    created_at: str,
    customer: Mapping[str, Any] | None,
    email: str,
    shipping_price: Decimal,
    tax_rate: Decimal,
    discount: Decimal,
    discount_code: str,
    financial_status: str,
    note: str | None,
    tags: str,
    taxes_included: bool = False,
) -> dict[str, Any]:
    """A new order in Shopify's REST shape, its amounts consistent the way Shopify computes them.

    The discount (a fixed amount) is allocated to the first line; tax is charged on
    each line's price after its discount, rounded half up per line; shipping is untaxed.
    In a taxes-included shop (``taxes_included``) prices carry their tax: a line's tax is
    ``taxable - taxable / (1 + rate)`` rounded to the cent, the subtotal includes it and
    the total does not add it again.
    """
    order = seed_order()
    template_line = order["line_items"][0]
    rate_float = float(tax_rate)
    tax_title = order["tax_lines"][0]["title"] if order["tax_lines"] else "Tax"
    line_items = []
    tax_total = Decimal(0)
    gross = Decimal(0)
    grams = 0
    for index, ((product, variant, quantity), line_id) in enumerate(zip(lines, line_item_ids, strict=True)):
        price = Decimal(variant["price"])
        line_discount = discount if index == 0 else Decimal(0)
        tax = line_tax(price * quantity - line_discount, tax_rate, taxes_included=taxes_included)
        tax_total += tax
        gross += price * quantity
        grams += int(variant.get("grams") or 0) * quantity
        variant_title = variant["title"]
        line = copy.deepcopy(template_line)
        line.update(
            id=line_id,
            admin_graphql_api_id=f"gid://shopify/LineItem/{line_id}",
            current_quantity=quantity,
            fulfillable_quantity=quantity,
            grams=int(variant.get("grams") or 0),
            name=product["title"]
            if variant_title == "Default Title"
            else f"{product['title']} - {variant_title}",
            price=money(price),
            price_set=money_set(price),
            product_id=product["id"],
            quantity=quantity,
            sku=variant["sku"],
            title=product["title"],
            total_discount="0.00",
            total_discount_set=money_set(0),
            variant_id=variant["id"],
            variant_title=variant_title,
            vendor=product.get("vendor"),
            tax_lines=[
                {
                    "channel_liable": False,
                    "price": money(tax),
                    "price_set": money_set(tax),
                    "rate": rate_float,
                    "title": tax_title,
                }
            ]
            if tax_rate
            else [],
            discount_allocations=[
                {
                    "amount": money(line_discount),
                    "amount_set": money_set(line_discount),
                    "discount_application_index": 0,
                }
            ]
            if line_discount
            else [],
        )
        line_items.append(line)
    subtotal = gross - discount
    total = subtotal + shipping_price + (Decimal(0) if taxes_included else tax_total)
    shipping = order["shipping_lines"][0]
    shipping.update(
        id=order_id // 10 * 10 + 7,
        price=money(shipping_price),
        price_set=money_set(shipping_price),
        discounted_price=money(shipping_price),
        discounted_price_set=money_set(shipping_price),
    )
    token = f"{order_id:032x}"
    order.update(
        id=order_id,
        admin_graphql_api_id=f"gid://shopify/Order/{order_id}",
        name=f"#{number}",
        number=number - 1000,
        order_number=number,
        confirmation_number=f"FAKE{number}",
        created_at=created_at,
        processed_at=created_at,
        updated_at=created_at,
        token=token,
        cart_token=None,
        checkout_token=None,
        checkout_id=None,
        order_status_url=f"https://{SHOP_DOMAIN}/{SHOP_ID}/orders/{token}/authenticate",
        email=email,
        contact_email=email,
        financial_status=financial_status,
        fulfillment_status=None,
        note=note,
        tags=tags,
        line_items=line_items,
        shipping_lines=[shipping] if shipping_price else [],
        tax_lines=[
            {
                "price": money(tax_total),
                "rate": rate_float,
                "title": tax_title,
                "price_set": money_set(tax_total),
                "channel_liable": False,
            }
        ]
        if tax_rate
        else [],
        discount_codes=[{"code": discount_code, "amount": money(discount), "type": "fixed_amount"}]
        if discount
        else [],
        discount_applications=[
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": str(discount),
                "value_type": "fixed_amount",
                "allocation_method": "across",
                "target_selection": "all",
                "code": discount_code,
            }
        ]
        if discount
        else [],
        total_weight=grams,
        taxes_included=taxes_included,
        total_outstanding="0.00" if financial_status == "paid" else money(total),
        fulfillments=[],
        refunds=[],
    )
    amounts = {
        "subtotal_price": subtotal,
        "current_subtotal_price": subtotal,
        "total_discounts": discount,
        "current_total_discounts": discount,
        "total_line_items_price": gross,
        "total_price": total,
        "current_total_price": total,
        "total_tax": tax_total,
        "current_total_tax": tax_total,
    }
    for field, value in amounts.items():
        order[field] = money(value)
        order[f"{field}_set"] = money_set(value)
    order["total_shipping_price_set"] = money_set(shipping_price)
    if customer is not None:
        person = order["customer"]
        person.update({k: v for k, v in customer.items() if k in person})
        person["email"] = email
        person["admin_graphql_api_id"] = f"gid://shopify/Customer/{person['id']}"
        name = f"{person.get('first_name') or ''} {person.get('last_name') or ''}".strip()
        for kind in ("billing_address", "shipping_address"):
            order[kind].update(
                first_name=person.get("first_name"), last_name=person.get("last_name"), name=name
            )
        person["default_address"].update(
            customer_id=person["id"],
            first_name=person.get("first_name"),
            last_name=person.get("last_name"),
            name=name,
        )
    return order
