"""Demo data of sales: five channels, ~80 customers and ~300 orders of the last 90 days.

Registered with ``erp.demo`` (order 20, after inventory's 10), run by ``manage.py seed_demo``.

* Every write goes through the sales services: ``order_create`` (with a past order date),
  ``order_confirm``, ``shipment_create``, ``invoice_create``/``invoice_issue``/``invoice_void``,
  ``payment_record``, ``return_create``/``return_receive``, ``refund_record``, ``order_hold``,
  ``order_cancel`` and ``order_close``; so stock levels match the ledger and every step records
  its events.
* Orders are in every state: draft, confirmed (some backordered), partially shipped, shipped,
  closed, on hold and cancelled; older orders are mostly closed, recent ones still open. Their
  invoices are draft, issued, partially paid, paid or void; a few customers pay late, so some
  issued invoices are overdue. A few shipped orders came back: returns received with a credit
  note (most of them refunded), and some still open.
* Deterministic: every choice comes from ``random.Random(7)``; products are taken from the
  catalog sorted by SKU, knowing what is available in the channel's warehouse (read once, then
  kept up to date from what each order holds), so the same database gives the same orders.
* Idempotent: channels and customers are looked up by code and only what is missing is created;
  the order history is written once, when no order exists on the demo channels.
* Dates: orders, invoices, payments and refunds carry past dates; confirmations, shipments and
  stock moves are dated now, as those services take no time of their own.
* It sells inventory's demo catalog from its warehouses MAIN and EAST. Without them it uses
  whatever active warehouses and stocked products exist, and makes a warehouse and a few
  stocked products only if there are none.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from erp import demo
from erp.money import ZERO
from inventory import availability
from inventory.models import Product, ProductKind, Tracking, Warehouse
from inventory.services import product_create, stock_receive, warehouse_create, warehouse_default_location
from sales.models import (
    Customer,
    Invoice,
    InvoiceKind,
    InvoicePolicy,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    PaymentTerms,
    ReturnDisposition,
    ReturnStatus,
    SalesChannel,
    SalesOrder,
    SalesReturn,
)
from sales.selectors import reserved_by_line
from sales.services import (
    LineSpec,
    ReturnLineSpec,
    ShipLine,
    TaxSpec,
    channel_create,
    contact_add,
    customer_create,
    invoice_create,
    invoice_issue,
    invoice_void,
    order_cancel,
    order_close,
    order_confirm,
    order_create,
    order_hold,
    payment_record,
    refund_record,
    return_create,
    return_receive,
    shipment_create,
)

SEED = 7
DAYS = 90
ORDERS = 300
RETURNS, RECEIVED, REFUNDED = 10, 7, 5  # returns; of them received (credit note); of those refunded


# --- the plan, as data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSpec:
    code: str
    name: str
    kind: str
    currency: str
    warehouse: str  # preferred warehouse
    families: tuple[str, ...]  # top categories of the catalog sold there
    weight: int  # share of the orders
    prices_include_tax: bool = False
    invoice_policy: str = InvoicePolicy.SHIPPED


APPAREL, HOME, TECH, FOOD = "Apparel", "Home & living", "Electronics", "Food & drink"
# fmt: off
CHANNELS = (
    ChannelSpec("shopify", "Shopify web store", "web_store", "USD", "MAIN", (APPAREL, HOME, TECH), 40),
    ChannelSpec("amazon", "Amazon marketplace", "marketplace", "EUR", "EAST", (TECH, HOME, APPAREL), 22),
    ChannelSpec("wholesale", "Wholesale", "wholesale", "EUR", "MAIN", (APPAREL, FOOD, HOME), 12,
                invoice_policy=InvoicePolicy.ORDERED),
    ChannelSpec("pos", "Rotterdam store (POS)", "pos", "EUR", "MAIN", (APPAREL, FOOD, HOME), 14,
                prices_include_tax=True),
    ChannelSpec("manual", "Manual orders", "manual", "EUR", "MAIN", (HOME, TECH, FOOD), 12),
)
US_STATES = {  # state: sales tax rate, cities with ZIP prefixes
    "CA": ("0.0725", [("San Francisco", "941"), ("Los Angeles", "900"), ("San Diego", "921")]),
    "NY": ("0.04", [("Brooklyn", "112"), ("New York", "100")]),
    "TX": ("0.0625", [("Austin", "787"), ("Houston", "770")]),
    "WA": ("0.065", [("Seattle", "981")]),
    "OR": ("0", [("Portland", "972")]),
    "IL": ("0.0625", [("Chicago", "606")]),
    "MA": ("0.0625", [("Boston", "021")]),
    "CO": ("0.029", [("Denver", "802")]),
}
US_STREETS = ["Maple Ave", "Oak St", "Cedar Ln", "Elm St", "Park Ave", "Sunset Blvd", "Lake Shore Dr"]
VAT = {"NL": ("0.21", "0.09"), "DE": ("0.19", "0.07"), "BE": ("0.21", "0.06"), "FR": ("0.20", "0.055"),
       "PL": ("0.23", "0.05")}  # standard, reduced (food)
EU_CITIES = {
    "NL": [("Amsterdam", "1012 AB", "Kerkstraat"), ("Rotterdam", "3011 AD", "Witte de Withstraat")],
    "DE": [("Berlin", "10115", "Torstraße"), ("Hamburg", "20095", "Mönckebergstraße"),
           ("Köln", "50667", "Ehrenstraße")],
    "BE": [("Antwerpen", "2000", "Kammenstraat"), ("Gent", "9000", "Veldstraat")],
    "FR": [("Paris", "75003", "Rue de Bretagne"), ("Lyon", "69002", "Rue Mercière")],
    "PL": [("Warszawa", "00-001", "ul. Nowy Świat"), ("Poznań", "61-001", "ul. Półwiejska")],
}
FIRST_NAMES = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Mateo", "Sophia", "Lucas", "Mia", "Ethan", "Amara",
               "Hiro", "Zoe", "Jonas", "Lena", "Finn", "Chloé", "Luca", "Maja", "Oskar", "Priya", "Daniel"]
LAST_NAMES = ["Johnson", "Garcia", "Nguyen", "Müller", "de Vries", "Kowalski", "Dubois", "Rossi", "Jansen",
              "Schmidt", "Martin", "Nowak", "Peeters", "Bakker", "Chen", "Okafor", "Silva", "Larsen", "Kim"]
PERSONS = {"shopify": 35, "amazon": 20, "pos": 5}  # persons per channel, besides the walk-in customer
BUSINESSES = [  # channel, name, country, payment terms, tax exempt (intra-EU reverse charge), pays late
    ("wholesale", "Noordzee Concept Store B.V.", "NL", PaymentTerms.NET_30, False, False),
    ("wholesale", "De Vrolijke Kok B.V.", "NL", PaymentTerms.NET_30, False, True),
    ("wholesale", "Fietsenmaker & Zonen B.V.", "NL", PaymentTerms.NET_15, False, False),
    ("wholesale", "Hotel Amstel Grachten B.V.", "NL", PaymentTerms.NET_30, False, False),
    ("wholesale", "Kaufhaus Lindner GmbH", "DE", PaymentTerms.NET_30, True, False),
    ("wholesale", "Bergmann Outdoor GmbH", "DE", PaymentTerms.NET_60, True, False),
    ("wholesale", "Café Hafenliebe GmbH", "DE", PaymentTerms.NET_30, True, True),
    ("wholesale", "Maison Duval SARL", "FR", PaymentTerms.NET_30, True, False),
    ("wholesale", "Épicerie Fine Moreau SAS", "FR", PaymentTerms.NET_60, False, False),
    ("wholesale", "Gentse Woonwinkel BV", "BE", PaymentTerms.NET_30, True, False),
    ("wholesale", "Atelier Anvers BV", "BE", PaymentTerms.NET_15, False, True),
    ("wholesale", "Sklep Zielony Sp. z o.o.", "PL", PaymentTerms.NET_30, True, False),
    ("manual", "Studio Brandwerk B.V.", "NL", PaymentTerms.NET_30, False, False),
    ("manual", "Coworking Maaskade B.V.", "NL", PaymentTerms.NET_15, False, True),
    ("manual", "Rotterdam Marathon Events B.V.", "NL", PaymentTerms.NET_30, False, False),
    ("manual", "Bakkerij Van Dam", "NL", PaymentTerms.DUE_ON_RECEIPT, False, False),
    ("manual", "Fysiotherapie Kralingen", "NL", PaymentTerms.NET_15, False, False),
    ("manual", "Hotel De Witte Raaf", "NL", PaymentTerms.NET_30, False, True),
    ("manual", "Lindqvist Architects GmbH", "DE", PaymentTerms.NET_30, False, False),
    ("manual", "Agence Lumière SARL", "FR", PaymentTerms.NET_30, False, False),
]
# The state each order is steered to, by age; POS sales are carried out, paid and closed at once.
TARGETS = {
    "old": {"closed": 66, "shipped": 12, "cancelled": 8, "partially_shipped": 4, "backordered": 4,
            "on_hold": 4},
    "mid": {"closed": 24, "shipped": 28, "partially_shipped": 12, "confirmed": 8, "backordered": 6,
            "on_hold": 8, "cancelled": 8, "draft": 4},
    "new": {"draft": 16, "confirmed": 26, "backordered": 8, "on_hold": 10, "partially_shipped": 8,
            "shipped": 22, "cancelled": 6, "closed": 4},
}
CARRIERS = {  # carrier, service, tracking number format
    "shopify": [("DHL Express", "Worldwide", "dhl"), ("UPS", "Worldwide Saver", "ups"),
                ("FedEx", "International Economy", "fedex")],
    "amazon": [("DHL", "Paket", "dhl"), ("DPD", "Classic", "dpd"), ("InPost", "Paczkomat", "inpost")],
    "wholesale": [("DB Schenker", "Pallet", "schenker"), ("DHL", "Freight", "dhl"),
                  ("PostNL", "Parcel", "postnl")],
    "manual": [("PostNL", "Parcel", "postnl"), ("DHL", "Paket", "dhl")],
    "pos": [("", "Carried out of the store", "")],
}
EXTRAS = {"shopify": [("SRV-GIFTWRAP", 0.1), ("SRV-EXPRESS", 0.05)],  # service lines: sku, chance
          "manual": [("SRV-ASSEMBLY", 0.1), ("SRV-ENGRAVE", 0.08)]}
# fmt: on
CHANNEL_CODES = tuple(c.code for c in CHANNELS)
PREPAID = {"shopify": "Shopify Payments", "amazon": "Amazon Pay", "pos": "card"}  # channel: payment method
HOLD_REASONS = [
    "payment review: billing and shipping address differ",
    "customer asked to wait until they are back from holiday",
    "credit limit reached: waiting for open invoices to be paid",
    "carrier could not verify the address",
]
CANCEL_REASONS = ["customer changed their mind", "duplicate order", "payment failed"]
BACKORDER_CANCEL = "customer could not wait for the backorder"
RETURN_REASONS = ["wrong size", "damaged in transit", "not as described", "changed their mind"]


@dataclass(frozen=True)
class CustomerSpec:
    code: str
    channel: str  # whose orders it places
    name: str
    kind: str
    email: str = ""
    phone: str = ""
    currency: str = "EUR"
    payment_terms: str = PaymentTerms.PREPAID
    country: str = "NL"
    state: str = ""  # US customers: for the sales tax
    tax_exempt: bool = False
    tax_id: str = ""
    pays_late: bool = False
    billing: dict[str, str] = field(default_factory=dict)
    shipping: dict[str, str] = field(default_factory=dict)
    contacts: tuple[tuple[str, str, str], ...] = ()  # name, role, e-mail


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower().replace("é", "e").replace("ü", "u") if ch.isalnum())


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _address(rng: random.Random, name: str, country: str, company: str = "") -> dict[str, str]:
    if country == "US":
        state = rng.choice(sorted(US_STATES))
        city, zip_prefix = rng.choice(US_STATES[state][1])
        street = f"{rng.randint(10, 2999)} {rng.choice(US_STREETS)}"
        postal_code = f"{zip_prefix}{rng.randint(10, 99)}"
    else:
        state = ""
        city, postal_code, street = rng.choice(EU_CITIES[country])
        street = f"{street} {rng.randint(1, 180)}"
    return {"name": name, "company": company, "line1": street, "city": city, "region": state,
            "postal_code": postal_code, "country": country}  # fmt: skip


def build_customers(rng: random.Random) -> list[CustomerSpec]:
    """Every demo customer, as data. Draws from ``rng`` in a fixed order."""
    specs: list[CustomerSpec] = []
    for channel, count in PERSONS.items():
        for _ in range(count):
            name = _person(rng)
            country = {"shopify": "US", "pos": "NL"}.get(channel) or rng.choice(
                ["DE", "DE", "NL", "FR", "PL"]
            )
            address = _address(rng, name, country)
            specs.append(
                CustomerSpec(
                    code=f"CUST-{len(specs) + 1:04d}",
                    channel=channel,
                    name=name,
                    kind="person",
                    email=f"{_slug(name)}{rng.randint(1, 99)}@example.com",
                    phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
                    if country == "US"
                    else "",
                    currency="USD" if country == "US" else "EUR",
                    country=country,
                    state=address["region"],
                    billing=address,
                )
            )
    specs.append(
        CustomerSpec(code=f"CUST-{len(specs) + 1:04d}", channel="pos", name="Walk-in customer", kind="person")
    )
    for channel, name, country, terms, exempt, late in BUSINESSES:
        buyer, payables = _person(rng), _person(rng)
        domain = _slug("".join(name.split(" ")[:2])) + ".example"
        specs.append(
            CustomerSpec(
                code=f"CUST-{len(specs) + 1:04d}",
                channel=channel,
                name=name,
                kind="company",
                email=f"orders@{domain}",
                phone=f"+{rng.randint(31, 49)} {rng.randint(10, 99)} {rng.randint(100000, 999999)}",
                payment_terms=terms,
                country=country,
                tax_exempt=exempt,
                tax_id=f"{country}{rng.randint(100000000, 999999999)}{'B01' if country == 'NL' else ''}",
                pays_late=late,
                billing=_address(rng, "Accounts payable", country, company=name),
                shipping=_address(rng, buyer, country, company=name),
                contacts=(
                    (buyer, "buyer", f"{_slug(buyer)}@{domain}"),
                    (payables, "accounts payable", f"ap@{domain}"),
                ),
            )
        )
    return specs


# --- what is missing: stock, channels, customers --------------------------------------------------


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username).first()


def _ensure_stock() -> None:
    """Only without inventory's demo: a warehouse and some stocked products, if there are none."""
    warehouse = Warehouse.objects.filter(is_active=True).order_by("code").first()
    if warehouse is None:
        warehouse = warehouse_create(code="MAIN", name="Main warehouse")
    if Product.objects.filter(is_active=True, kind=ProductKind.STOCKED).exists():
        return
    location = warehouse_default_location(warehouse)
    for i in range(1, 25):
        product = product_create(sku=f"DEMO-{i:03d}", name=f"Demo product {i}", sale_price=Decimal(5 * i) - 1)
        stock_receive(product=product, location=location, quantity=200, unit_cost=Decimal(2 * i))


def _ensure_channels(user: Any) -> dict[str, SalesChannel]:
    warehouses = {w.code: w for w in Warehouse.objects.filter(is_active=True).order_by("code")}
    fallback = warehouses.get("MAIN") or next(iter(warehouses.values()))
    channels = {c.code: c for c in SalesChannel.objects.filter(code__in=CHANNEL_CODES)}
    for spec in CHANNELS:
        if spec.code not in channels:
            channels[spec.code] = channel_create(
                code=spec.code,
                name=spec.name,
                warehouse=warehouses.get(spec.warehouse, fallback),
                kind=spec.kind,
                currency=spec.currency,
                prices_include_tax=spec.prices_include_tax,
                invoice_policy=spec.invoice_policy,
                user=user,
            )
    return channels


def _ensure_customers(specs: list[CustomerSpec], user: Any) -> dict[str, Customer]:
    customers = {c.code: c for c in Customer.objects.filter(code__in=[s.code for s in specs])}
    for spec in specs:
        if spec.code in customers:
            continue
        customers[spec.code] = customer = customer_create(
            name=spec.name,
            kind=spec.kind,
            code=spec.code,
            email=spec.email,
            phone=spec.phone,
            tax_id=spec.tax_id,
            tax_exempt=spec.tax_exempt,
            currency=spec.currency,
            payment_terms=spec.payment_terms,
            notes="Intra-EU supply: reverse charge." if spec.tax_exempt else "",
            billing_address=spec.billing or None,
            shipping_address=spec.shipping or None,
            user=user,
        )
        for name, role, email in spec.contacts:
            contact_add(customer=customer, name=name, role=role, email=email)
    return customers


# --- the order history ----------------------------------------------------------------------------


def _tracking(rng: random.Random, kind: str) -> str:
    if kind == "ups":
        return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    if kind == "postnl":
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(4))
        return f"3S{letters}{rng.randrange(10**9):09d}"
    length = {"dhl": 10, "fedex": 12, "dpd": 14, "inpost": 24, "schenker": 10}.get(kind, 0)
    return "".join(rng.choice("0123456789") for _ in range(length))


def _usd(price: Decimal) -> Decimal:
    """The web store's dollar price of a euro list price: x1.10, ending in .99."""
    return (price * Decimal("1.10")).to_integral_value(rounding=ROUND_CEILING) - Decimal("0.01")


def _family(product: Product) -> str:
    category = product.category
    while category is not None and category.parent is not None:
        category = category.parent
    return category.name if category else ""


class _History:
    """Writes the orders through the services, oldest first, steering each one to its target state."""

    def __init__(
        self,
        rng: random.Random,
        channels: dict[str, SalesChannel],
        customers: dict[str, Customer],
        specs: list[CustomerSpec],
    ) -> None:
        self.rng = rng
        self.channels = channels
        self.specs = {s.code: s for s in specs}
        self.customers_of: dict[str, list[Customer]] = {}
        for spec in specs:
            if spec.name != "Walk-in customer":
                self.customers_of.setdefault(spec.channel, []).append(customers[spec.code])
        self.walk_in = next(customers[s.code] for s in specs if s.name == "Walk-in customer")
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.sales, self.accountant = _user("sales"), _user("accountant")
        catalog = list(
            Product.objects.filter(is_active=True)
            .exclude(stock_unit__allows_fractions=True)
            .select_related("stock_unit", "category__parent__parent")
            .order_by("sku")
        )
        stocked = [p for p in catalog if p.kind == ProductKind.STOCKED]
        self.services = {p.sku: p for p in catalog if p.kind == ProductKind.SERVICE}
        self.pools = {c.code: [p for p in stocked if _family(p) in c.families] or stocked for c in CHANNELS}
        self.available: dict[int, dict[int, Decimal]] = {}  # warehouse -> product -> available
        self.references: Counter[str] = Counter()
        self.terms_billed = 0

    def run(self) -> None:
        rng = self.rng
        ages = sorted((rng.uniform(0, DAYS) for _ in range(ORDERS)), reverse=True)
        for age in ages:
            spec = rng.choices(CHANNELS, weights=[c.weight for c in CHANNELS])[0]
            when = self.now - datetime.timedelta(days=age)
            if spec.code == "pos":  # the store is open from 9:00 to 18:00
                opening_hours = when.replace(hour=rng.randint(9, 17))
                when = opening_hours if opening_hours < self.now else when
            if spec.code == "pos":
                target = "cancelled" if rng.random() < 0.04 else "closed"
            else:
                table = TARGETS["old" if age > 30 else "mid" if age > 7 else "new"]
                target = rng.choices(list(table), weights=list(table.values()))[0]
            self.order(spec, when, target)
        self.returns()

    # --- stock ---

    def _available(self, warehouse_id: int) -> dict[int, Decimal]:
        """Available per product in a warehouse: read once, then kept up to date by ``_track``."""
        if warehouse_id not in self.available:
            ids = sorted({p.pk for pool in self.pools.values() for p in pool})
            found = availability.by_warehouse(ids, warehouse_id)
            self.available[warehouse_id] = {pid: a.available for (pid, _), a in found.items()}
        return self.available[warehouse_id]

    def _track(self, order: SalesOrder, sign: int) -> Decimal:
        """What the order holds leaves (-1) or comes back to (+1) what is available; returns it."""
        product_of = dict(order.lines.values_list("pk", "product_id"))
        available = self._available(order.channel.warehouse_id)
        held = reserved_by_line(product_of)
        for line_id, quantity in held.items():
            available[product_of[line_id]] = available.get(product_of[line_id], ZERO) + sign * quantity
        return sum(held.values(), ZERO)

    # --- one order ---

    def _taxes(self, spec: CustomerSpec, channel: SalesChannel, product: Product) -> list[TaxSpec]:
        if channel.code == "shopify":
            rate = US_STATES.get(spec.state, ("0", []))[0]
            return [TaxSpec(f"{spec.state} sales tax", rate)] if Decimal(rate) else []
        country = spec.country if spec.country in VAT else "NL"
        standard, reduced = VAT[country]
        return [TaxSpec(f"VAT {country}", reduced if _family(product) == FOOD else standard)]

    def _lines(self, channel: SalesChannel, spec: CustomerSpec, *, count: int, short: bool) -> list[LineSpec]:
        """``count`` lines that can be reserved in full, plus, when ``short``, one that cannot."""
        rng = self.rng
        code = channel.code
        pool = self.pools[code]
        available = self._available(channel.warehouse_id)
        plenty = [p for p in pool if available.get(p.pk, ZERO) >= 1]
        picked = []
        for product in rng.sample(plenty, min(count, len(plenty))):
            wanted = {
                "wholesale": rng.choice([6, 6, 12, 12, 24]),
                "manual": rng.randint(1, 10),
            }.get(code) or rng.choices([1, 2, 3], weights=[70, 25, 5])[0]
            picked.append((product, max(1, min(wanted, int(available[product.pk])))))
        taken = {p.pk for p, _ in picked}
        scarce = [p for p in pool if available.get(p.pk, ZERO) <= 3 and p.pk not in taken]
        if (short or not picked) and scarce:
            product = scarce[rng.randrange(len(scarce))]
            picked.append((product, int(max(available.get(product.pk, ZERO), ZERO)) + rng.randint(2, 6)))
        lines = []
        for product, quantity in picked:
            discount = {"wholesale": rng.choice([30, 35, 40]), "manual": 10 if quantity >= 8 else 0}.get(
                code, 0
            )
            price = _usd(product.sale_price) if code == "shopify" else None
            lines.append(
                LineSpec(product, quantity, price, "", discount, self._taxes(spec, channel, product))
            )
        for sku, chance in EXTRAS.get(code, []):
            if rng.random() < chance and sku in self.services:
                service = self.services[sku]
                price = _usd(service.sale_price) if code == "shopify" else None
                lines.append(LineSpec(service, 1, price, taxes=self._taxes(spec, channel, service)))
        return lines

    def _reference(self, code: str) -> str:
        rng = self.rng
        self.references[code] += 1
        n = self.references[code]
        return {
            "shopify": f"#{1000 + n}",
            "amazon": f"{rng.randint(302, 306)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}",
            "wholesale": f"PO-{rng.randint(1000, 9999)}",
            "pos": f"POS-1-{n:05d}",
        }.get(code, "")

    def _day(self, when: datetime.datetime, lag: int) -> datetime.date:
        return min(timezone.localdate(when) + datetime.timedelta(days=lag), self.today)

    def order(self, spec: ChannelSpec, when: datetime.datetime, target: str) -> None:
        rng = self.rng
        code = spec.code
        channel = self.channels[code]
        walk_in = code == "pos" and rng.random() < 0.7
        customer = self.walk_in if walk_in else rng.choice(self.customers_of[code])
        cspec = self.specs[customer.code]
        partial = target == "partially_shipped"
        short = target == "backordered" or (partial and rng.random() < 0.5)
        count = rng.randint(2, 5) if code == "wholesale" else rng.choices([1, 2, 3], weights=[50, 35, 15])[0]
        lines = self._lines(channel, cspec, count=max(count, 2) if partial else count, short=short)
        if not lines:
            return  # nothing to sell from this warehouse
        value = sum(
            (Decimal(ln.quantity) * Decimal(ln.unit_price or ln.product.sale_price) for ln in lines), ZERO
        )
        shipping = {
            "shopify": Decimal("9.95") if value < 75 else ZERO,
            "amazon": Decimal("3.99") if rng.random() < 0.3 else ZERO,
            "wholesale": Decimal("35.00") if value < 500 else ZERO,
            "manual": Decimal("12.50"),
        }.get(code, ZERO)
        tags = {"shopify": ["web"], "amazon": [] if shipping else ["prime"], "wholesale": ["b2b"]}.get(
            code, []
        )
        discount = ZERO
        if code == "shopify" and rng.random() < 0.08:
            discount = (value * Decimal("0.10")).quantize(Decimal("0.01"))
            tags = [*tags, "first-order"]
        if any(ln.product.sku == "SRV-GIFTWRAP" for ln in lines):
            tags = [*tags, "gift"]
        user = self.sales if code in ("wholesale", "manual") else None  # the others come from the channel
        order = order_create(
            channel=channel,
            customer=customer,
            lines=lines,
            order_date=when,
            shipping_amount=shipping,
            shipping_tax_rate=ZERO if code == "shopify" else VAT.get(cspec.country, VAT["NL"])[0],
            order_discount=discount,
            tags=tags,
            external_reference=self._reference(code),
            user=user,
        )
        if target == "draft":
            return
        if target in ("cancelled", "on_hold") and rng.random() < 0.35:  # before it was confirmed
            if target == "cancelled":
                order_cancel(order=order, reason=rng.choice(CANCEL_REASONS), user=user)
            else:
                order_hold(order=order, reason=rng.choice(HOLD_REASONS), user=user)
            return
        order = order_confirm(order=order, user=user)
        held = self._track(order, -1)
        if channel.invoice_policy == InvoicePolicy.ORDERED:  # wholesale bills at confirmation
            self.bill(order, cspec, self._day(when, 0), settle="issued" if target == "cancelled" else "terms")
        if target == "on_hold":
            order_hold(order=order, reason=rng.choice(HOLD_REASONS), user=user)
            return
        if target == "cancelled":
            for invoice in order.invoices.filter(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.ISSUED]):
                invoice_void(invoice=invoice, reason="order cancelled", user=self.accountant)
            self._track(order, +1)
            order_cancel(order=order, reason=rng.choice([*CANCEL_REASONS, BACKORDER_CANCEL]), user=user)
            return
        ships_now = held > 0 or not all(ln.product.is_stocked for ln in lines)
        if target in ("confirmed", "backordered") or not ships_now:
            return
        self.ship(order, partial=partial, short=short)
        if target == "partially_shipped":
            return
        shipped_on = self._day(when, 0 if code == "pos" else rng.randint(1, 3))
        if channel.invoice_policy == InvoicePolicy.SHIPPED:
            if code in PREPAID:  # paid at once, or billed a little later
                settle = "paid" if target == "closed" else rng.choice(["paid", "paid", "draft", "none"])
            else:
                settle = "terms" if target == "closed" else rng.choice(["terms", "terms", "draft"])
            if settle != "none":
                self.bill(order, cspec, shipped_on, settle=settle)
        unpaid = order.invoices.exclude(status__in=[InvoiceStatus.PAID, InvoiceStatus.VOID])
        if target == "closed" and not unpaid.exists():  # closed once paid; else it waits for the money
            order_close(order=order, user=user)

    def ship(self, order: SalesOrder, *, partial: bool, short: bool) -> None:
        rng = self.rng
        carrier, service, tracking = rng.choice(CARRIERS[order.channel.code])
        lines = list(order.lines.select_related("product").order_by("position"))
        first = lines[0]
        parcels: list[list[ShipLine] | None]
        if partial and not short and (len(lines) > 1 or first.quantity > 1):  # the first line now
            parcels = [[ShipLine(first, first.quantity if len(lines) > 1 else first.quantity - 1)]]
        elif len(lines) >= 3 and not short and rng.random() < 0.3:  # in two parcels
            parcels = [[ShipLine(first, first.quantity)], None]
        else:
            parcels = [None]  # all that is held (everything unless backordered)
        for parcel in parcels:
            shipment_create(
                order=order,
                lines=parcel,
                carrier=carrier,
                service=service,
                tracking_number=_tracking(rng, tracking),
                user=self.sales,
            )

    def bill(self, order: SalesOrder, spec: CustomerSpec, day: datetime.date, *, settle: str) -> None:
        """Invoice what is invoiceable now, issued on ``day``, and settle it.

        settle: draft (not issued yet), issued (not paid), paid (at once, by card or through the
        marketplace), terms (when the customer pays: by its terms, give or take, a month late for
        late payers, sometimes only in part; or not yet, if that day is still to come).
        """
        rng = self.rng
        user = self.accountant
        invoice = invoice_create(order=order, user=user)
        if settle == "draft":
            return
        if settle == "terms":
            self.terms_billed += 1
            if self.terms_billed % 12 == 3:  # a wrong PO number on it: void and invoice again
                invoice_void(invoice=invoice_issue(invoice=invoice, issue_date=day, user=user), user=user)
                invoice = invoice_create(order=order, user=user)
                day = min(day + datetime.timedelta(days=1), self.today)
        invoice = invoice_issue(invoice=invoice, issue_date=day, user=user)
        if invoice.status != InvoiceStatus.ISSUED or settle == "issued":
            return
        method = PREPAID.get(order.channel.code, "bank transfer")
        if settle == "paid":
            payment_record(invoice=invoice, amount=invoice.total, paid_at=day, method=method, user=user)
            return
        delay = PaymentTerms(spec.payment_terms).days + rng.randint(-12, 10) + (30 if spec.pays_late else 0)
        paid_on = day + datetime.timedelta(days=max(0, delay))
        if paid_on > self.today:
            return  # not paid yet; overdue once its due date has passed
        amount = invoice.total
        if settle == "terms" and rng.random() < 0.25:  # paid in two parts, the second not yet
            amount = (invoice.total / 2).quantize(Decimal("0.01"))
        reference = f"{spec.name[:40]} / {invoice.number}"
        payment_record(
            invoice=invoice, amount=amount, paid_at=paid_on, method=method, reference=reference, user=user
        )

    def returns(self) -> None:
        """Returns of one untracked item of shipped or closed orders of the last two months."""
        rng = self.rng
        orders = SalesOrder.objects.filter(
            channel__code__in=["shopify", "amazon", "manual"],
            status__in=[OrderStatus.SHIPPED, OrderStatus.CLOSED],
            order_date__range=(self.now - datetime.timedelta(days=60), self.now - datetime.timedelta(days=5)),
        )
        returnable = {  # order -> its first line of an untracked stocked product
            line.order_id: line
            for line in OrderLine.objects.filter(
                order__in=orders, product__kind=ProductKind.STOCKED, product__tracking=Tracking.NONE
            )
            .select_related("order__channel", "product")
            .order_by("order_id", "-position")
        }
        chosen = sorted(rng.sample(sorted(returnable), min(RETURNS, len(returnable))))
        for n, order_id in enumerate(chosen):
            line = returnable[order_id]
            reason = rng.choice(RETURN_REASONS)
            scrap = reason == "damaged in transit"
            disposition = ReturnDisposition.SCRAP if scrap else ReturnDisposition.RESTOCK
            sales_return = return_create(
                order=line.order,
                lines=[ReturnLineSpec(line, 1, disposition, reason)],
                reason=reason,
                user=self.sales,
            )
            if n >= RECEIVED:
                continue  # announced, not back yet
            sales_return = return_receive(sales_return=sales_return, user=self.sales)
            if n < REFUNDED:
                method = PREPAID.get(line.order.channel.code, "bank transfer")
                refund_record(sales_return=sales_return, method=method, user=self.accountant)


# --- the seeder -----------------------------------------------------------------------------------


@transaction.atomic
def seed_sales() -> list[str]:
    rng = random.Random(SEED)
    specs = build_customers(rng)
    _ensure_stock()
    user = _user("sales")
    channels = _ensure_channels(user)
    customers = _ensure_customers(specs, user)
    if not SalesOrder.objects.filter(channel__code__in=CHANNEL_CODES).exists():
        _History(rng, channels, customers, specs).run()
    return _summary()


def _summary() -> list[str]:
    orders = SalesOrder.objects.filter(channel__code__in=CHANNEL_CODES)
    by_status = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
    invoices = Invoice.objects.filter(order__in=orders, kind=InvoiceKind.INVOICE)
    by_invoice = dict(invoices.values_list("status").annotate(n=Count("id")).order_by())
    overdue = invoices.filter(
        status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID], due_date__lt=timezone.localdate()
    ).count()
    returns = SalesReturn.objects.filter(order__in=orders)
    order_states = ", ".join(f"{by_status.get(s, 0)} {s.label.lower()}" for s in OrderStatus)
    invoice_states = ", ".join(f"{by_invoice.get(s, 0)} {s.label.lower()}" for s in InvoiceStatus)
    customers = Customer.objects.filter(code__startswith="CUST-").count()
    return [
        f"sales: channels {', '.join(CHANNEL_CODES)}; {customers} customers; "
        f"{orders.count()} orders ({order_states}); "
        f"{invoices.count()} invoices ({invoice_states}; {overdue} overdue); "
        f"{returns.count()} returns ({returns.filter(status=ReturnStatus.OPEN).count()} open)"
    ]


demo.register(20, "sales", seed_sales)
