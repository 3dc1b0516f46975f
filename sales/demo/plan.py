"""The plan of the sales demo, as data: its channels, customers, the states orders are steered to, and
the odds and ends (carriers, reasons, tax rates) they are written with."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sales.models import InvoicePolicy, PaymentTerms

RETURNS, RECEIVED, REFUNDED = 10, 7, 5  # returns; of them received (credit note); of those refunded


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
TARGETS = {  # where an order stands now, by its age: open orders are mostly recent, as in a shop that ships
    "old": {"closed": 72, "shipped": 14, "cancelled": 10, "partially_shipped": 1, "backordered": 2,
            "on_hold": 1},
    "mid": {"closed": 38, "shipped": 38, "partially_shipped": 3, "confirmed": 1, "backordered": 4,
            "on_hold": 3, "cancelled": 8, "draft": 5},
    "new": {"draft": 8, "confirmed": 4, "backordered": 5, "on_hold": 4, "partially_shipped": 4,
            "shipped": 45, "cancelled": 6, "closed": 24},
    "fresh": {"draft": 14, "confirmed": 42, "backordered": 6, "on_hold": 6, "partially_shipped": 6,
              "shipped": 22, "cancelled": 4},
}
# The share of the orders placed in the last SHIP_WITHIN_DAYS days (on top of their share of the
# period): this week is busy, and what the warehouse ships next is mostly what came in since yesterday.
RECENT_SHARE = 0.12
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
