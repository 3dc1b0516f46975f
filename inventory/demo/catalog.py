"""The demo catalogue: what the business sells, as data; the plan drawn from it (``build_catalog``,
no database); and writing it (products, templates, units, reorder rules) through the services."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models.functions import Lower

from erp.money import quantize_money
from inventory.csv_io.products import category_get_or_create
from inventory.models import Category, Product, ProductTemplate, ReorderRule, Warehouse
from inventory.services import (
    product_create,
    product_template_create,
    product_unit_set,
    product_update,
    reorder_rule_set,
)

APPAREL = [  # name, sku prefix, category, sizes, colours, price
    (
        "Classic T-shirt",
        "TSH-CLASSIC",
        "T-shirts",
        ["XS", "S", "M", "L", "XL"],
        ["Black", "White", "Navy", "Heather"],
        "19.90",
    ),
    ("V-neck T-shirt", "TSH-VNECK", "T-shirts", ["S", "M", "L", "XL"], ["White", "Black", "Olive"], "21.90"),
    (
        "Organic Cotton Tee",
        "TSH-ORGANIC",
        "T-shirts",
        ["S", "M", "L", "XL"],
        ["Sand", "Sage", "Clay"],
        "29.00",
    ),
    (
        "Pullover Hoodie",
        "HOOD-PULL",
        "Hoodies",
        ["S", "M", "L", "XL", "XXL"],
        ["Black", "Grey", "Navy"],
        "54.00",
    ),
    ("Zip Hoodie", "HOOD-ZIP", "Hoodies", ["S", "M", "L", "XL"], ["Charcoal", "Forest"], "59.00"),
    ("Rain Jacket", "JKT-RAIN", "Jackets", ["S", "M", "L", "XL"], ["Yellow", "Navy"], "89.00"),
    ("Puffer Jacket", "JKT-PUFF", "Jackets", ["S", "M", "L", "XL"], ["Black", "Olive"], "129.00"),
    ("Chino Shorts", "SHORT-CHINO", "Shorts", ["28", "30", "32", "34", "36"], ["Khaki", "Navy"], "39.00"),
    ("Merino Socks", "SOCK-MERINO", "Socks", ["36-38", "39-42", "43-46"], ["Grey", "Black"], "14.90"),
    ("Running Socks", "SOCK-RUN", "Socks", ["S", "M", "L"], ["White", "Black"], "11.90"),
]
BEANIE = ("Knit Beanie", "HAT-BEANIE", "Accessories", ["Black", "Mustard", "Navy", "Red"], "19.00")


ELECTRONICS_SERIAL = [
    ("Wireless Earbuds Pro", "Audio", "129.00"),
    ("Over-Ear Headphones ANC", "Audio", "249.00"),
    ("Bluetooth Speaker Mini", "Audio", "49.00"),
    ("Bluetooth Speaker Max", "Audio", "179.00"),
    ("Smartwatch S2", "Wearables", "199.00"),
    ("Fitness Tracker Band", "Wearables", "69.00"),
    ("Action Camera 4K", "Cameras", "279.00"),
    ("Dash Cam 1440p", "Cameras", "119.00"),
    ("Portable SSD 1 TB", "Computer accessories", "109.00"),
    ("Portable SSD 2 TB", "Computer accessories", "179.00"),
    ("Mechanical Keyboard TKL", "Computer accessories", "99.00"),
    ("Wireless Mouse Ergo", "Computer accessories", "59.00"),
    ("Webcam 1080p", "Computer accessories", "69.00"),
    ("E-reader 6-inch", "Tablets & readers", "129.00"),
    ("Tablet 10-inch 64 GB", "Tablets & readers", "299.00"),
    ("Mini Drone", "Cameras", "349.00"),
    ("Smart Doorbell", "Smart home", "159.00"),
    ("Indoor Security Camera", "Smart home", "79.00"),
    ("Wi-Fi Mesh Router (2-pack)", "Smart home", "229.00"),
    ("Smart Thermostat", "Smart home", "219.00"),
    ("Portable Projector", "Cameras", "389.00"),
    ("Label Printer", "Computer accessories", "139.00"),
]


ELECTRONICS_PLAIN = [
    ("USB-C Cable 1 m", "Cables & chargers", "12.00"),
    ("USB-C Cable 2 m", "Cables & chargers", "15.00"),
    ("USB-C to Lightning Cable 1 m", "Cables & chargers", "19.00"),
    ("HDMI Cable 2 m", "Cables & chargers", "14.00"),
    ("USB-C Charger 30 W", "Cables & chargers", "25.00"),
    ("USB-C Charger 65 W", "Cables & chargers", "45.00"),
    ("Power Bank 10,000 mAh", "Cables & chargers", "35.00"),
    ("Power Bank 20,000 mAh", "Cables & chargers", "55.00"),
    ("Smart Plug", "Smart home", "19.00"),
    ("Smart Bulb E27", "Smart home", "15.00"),
    ("AA Batteries (4-pack)", "Cables & chargers", "6.00"),
    ("AAA Batteries (4-pack)", "Cables & chargers", "6.00"),
]


FOOD = [  # name, category, pack sizes, price of the first size
    ("Organic Almonds", "Snacks", ["250 g", "500 g", "1 kg"], "5.90"),
    ("Roasted Cashews", "Snacks", ["250 g", "500 g"], "6.50"),
    ("Dark Chocolate 70%", "Snacks", ["100 g"], "2.90"),
    ("Milk Chocolate Hazelnut", "Snacks", ["100 g"], "2.70"),
    ("Granola Honey Oat", "Breakfast", ["400 g", "1 kg"], "4.90"),
    ("Protein Bar Peanut", "Snacks", ["60 g"], "2.20"),
    ("Protein Bar Berry", "Snacks", ["60 g"], "2.20"),
    ("Espresso Beans", "Coffee & tea", ["250 g", "1 kg"], "8.90"),
    ("Filter Coffee Ground", "Coffee & tea", ["250 g", "500 g"], "6.90"),
    ("Green Tea Sencha", "Coffee & tea", ["20 bags", "100 g loose"], "3.90"),
    ("Earl Grey Tea", "Coffee & tea", ["20 bags"], "3.50"),
    ("Chamomile Tea", "Coffee & tea", ["20 bags"], "3.20"),
    ("Olive Oil Extra Virgin", "Pantry", ["500 ml", "1 l"], "8.50"),
    ("Balsamic Vinegar", "Pantry", ["250 ml"], "4.90"),
    ("Basmati Rice", "Pantry", ["1 kg", "5 kg"], "3.40"),
    ("Penne Pasta", "Pantry", ["500 g"], "1.60"),
    ("Tomato Passata", "Pantry", ["700 g"], "1.90"),
    ("Sea Salt Flakes", "Pantry", ["250 g"], "4.20"),
    ("Maple Syrup", "Breakfast", ["250 ml", "500 ml"], "7.90"),
    ("Wildflower Honey", "Breakfast", ["350 g"], "6.40"),
    ("Peanut Butter Crunchy", "Breakfast", ["340 g"], "3.90"),
    ("Oat Drink Barista", "Drinks", ["1 l"], "2.40"),
    ("Sparkling Water Lemon", "Drinks", ["330 ml"], "0.90"),
    ("Dried Mango", "Snacks", ["200 g"], "4.50"),
    ("Rice Crackers", "Snacks", ["100 g"], "1.90"),
]


RAW = [  # name, category, unit, price per unit
    *[
        (f"Cotton jersey fabric, {c}", "Fabrics", "m", "6.80")
        for c in ["black", "white", "navy", "heather grey", "olive", "sand"]
    ],
    *[(f"Polyester fleece, {c}", "Fabrics", "m", "7.90") for c in ["black", "grey", "navy", "forest"]],
    *[(f"Nylon ripstop, {c}", "Fabrics", "m", "9.50") for c in ["yellow", "navy", "black"]],
    *[(f"Organic cotton twill, {c}", "Fabrics", "m", "11.20") for c in ["natural", "indigo"]],
    ("Elastic band 25 mm", "Trims", "m", "0.45"),
    ("Elastic band 10 mm", "Trims", "m", "0.25"),
    ("Zipper tape #5", "Trims", "m", "0.90"),
    ("Drawcord 6 mm", "Trims", "m", "0.35"),
    ("Bias tape 20 mm", "Trims", "m", "0.30"),
    ("Rib knit 1x1", "Trims", "m", "4.20"),
    ("Steel wire 2 mm", "Metals", "m", "0.60"),
    ("Copper wire 1.5 mm²", "Metals", "m", "1.10"),
    ("Aluminium tube 12 mm", "Metals", "m", "3.80"),
    ("Cotton yarn Ne 30/1", "Yarns & fibres", "kg", "7.40"),
    ("PET resin pellets", "Plastics", "kg", "1.90"),
    ("ABS granules", "Plastics", "kg", "2.60"),
    ("Polypropylene granules", "Plastics", "kg", "1.70"),
    ("Beeswax pellets", "Ingredients", "kg", "14.50"),
    ("Cocoa butter", "Ingredients", "kg", "12.80"),
    ("Cane sugar", "Ingredients", "kg", "1.30"),
    ("Wheat flour T55", "Ingredients", "kg", "0.90"),
    ("Cocoa powder", "Ingredients", "kg", "9.60"),
    ("Sunflower lecithin", "Ingredients", "kg", "11.00"),
    ("Soy wax flakes", "Ingredients", "kg", "5.20"),
    ("Fragrance oil, lavender", "Ingredients", "kg", "38.00"),
    ("Shipping box S", "Packaging", "pcs", "0.55"),
    ("Shipping box M", "Packaging", "pcs", "0.80"),
    ("Shipping box L", "Packaging", "pcs", "1.15"),
    ("Poly mailer 25×35", "Packaging", "pcs", "0.12"),
    ("Tissue paper sheet", "Packaging", "pcs", "0.04"),
]


HOME = [  # name, category, variants, price
    ("Ceramic Mug 350 ml", "Kitchen", ["White", "Sage", "Terracotta", "Midnight"], "12.00"),
    ("Travel Mug 450 ml", "Kitchen", ["Black", "Steel", "Mint"], "24.00"),
    ("Water Bottle 750 ml", "Kitchen", ["Black", "Sky", "Coral", "Sand"], "22.00"),
    ("Glass Food Jar 1 l", "Kitchen", [""], "7.50"),
    ("Bamboo Cutting Board", "Kitchen", ["Small", "Large"], "18.00"),
    ("Chef's Knife 20 cm", "Kitchen", [""], "49.00"),
    ("Linen Tea Towel", "Textiles", ["Natural", "Stripe", "Check"], "9.90"),
    ("Scented Candle", "Decor", ["Fig", "Cedar", "Lavender", "Citrus"], "16.00"),
    ("Notebook A5 Dotted", "Stationery", ["Black", "Kraft", "Sage"], "11.00"),
    ("Desk Organizer", "Stationery", ["Oak", "Walnut"], "29.00"),
    ("Cotton Tote Bag", "Textiles", ["Natural", "Black"], "8.90"),
    ("Throw Blanket", "Textiles", ["Grey", "Mustard", "Rust"], "45.00"),
    ("Cushion Cover 45×45", "Textiles", ["Ivory", "Moss", "Navy"], "19.00"),
    ("Ceramic Planter", "Decor", ["S", "M", "L"], "15.00"),
    ("Wooden Serving Spoon", "Kitchen", [""], "6.50"),
    ("Enamel Camping Plate", "Kitchen", ["White", "Blue"], "8.00"),
    ("Stainless Lunch Box", "Kitchen", ["700 ml", "1.2 l"], "21.00"),
    ("French Press 1 l", "Kitchen", [""], "32.00"),
    ("Pour-over Dripper", "Kitchen", ["White", "Black"], "19.00"),
    ("Stoneware Bowl", "Kitchen", ["Small", "Medium", "Large"], "9.00"),
    ("Wall Clock", "Decor", ["Oak", "Black"], "39.00"),
    ("Picture Frame A4", "Decor", ["Oak", "Black", "White"], "14.00"),
    ("Reusable Straw Set", "Kitchen", [""], "7.00"),
    ("Beeswax Wraps (3-pack)", "Kitchen", [""], "12.50"),
    ("Soap Dispenser", "Bath", ["Amber", "Clear"], "13.00"),
    ("Bath Towel", "Bath", ["White", "Sage", "Sand"], "24.00"),
    ("Hand Towel", "Bath", ["White", "Sage", "Sand"], "12.00"),
    ("Coir Doormat", "Decor", [""], "21.00"),
    ("LED Desk Lamp", "Decor", ["Black", "White"], "45.00"),
]


SERVICES = [
    ("SRV-GIFTWRAP", "Gift wrapping", "4.00"),
    ("SRV-EXPRESS", "Express handling", "9.00"),
    ("SRV-INSTALL", "Installation service", "79.00"),
    ("SRV-WARRANTY2", "Extended warranty, 2 years", "29.00"),
    ("SRV-ENGRAVE", "Engraving", "12.00"),
    ("SRV-ASSEMBLY", "Assembly service", "49.00"),
    ("SRV-RETURNLBL", "Return shipping label", "6.00"),
    ("SRV-CONSULT", "Consultation hour", "90.00"),
]


TOP_CATEGORY = {
    "T-shirts": "Apparel",
    "Hoodies": "Apparel",
    "Jackets": "Apparel",
    "Shorts": "Apparel",
    "Socks": "Apparel",
    "Accessories": "Apparel",
    "Audio": "Electronics",
    "Wearables": "Electronics",
    "Cameras": "Electronics",
    "Computer accessories": "Electronics",
    "Tablets & readers": "Electronics",
    "Smart home": "Electronics",
    "Cables & chargers": "Electronics",
    "Snacks": "Food & drink",
    "Breakfast": "Food & drink",
    "Coffee & tea": "Food & drink",
    "Pantry": "Food & drink",
    "Drinks": "Food & drink",
    "Fabrics": "Raw materials",
    "Trims": "Raw materials",
    "Metals": "Raw materials",
    "Yarns & fibres": "Raw materials",
    "Plastics": "Raw materials",
    "Ingredients": "Raw materials",
    "Packaging": "Raw materials",
    "Kitchen": "Home & living",
    "Textiles": "Home & living",
    "Decor": "Home & living",
    "Stationery": "Home & living",
    "Bath": "Home & living",
}


@dataclass
class ProductSpec:
    sku: str
    name: str
    category: str  # path
    family: str  # apparel, electronics, food, raw, home, service
    price: Decimal
    cost: Decimal
    unit: str = "pcs"
    kind: str = "stocked"
    tracking: str = "none"
    weight: Decimal | None = None
    barcode: str = ""
    box_barcode: str = ""  # with it: an alternative unit "box" of 12


@dataclass
class TemplateSpec:
    name: str
    sku_prefix: str
    category: str
    attributes: dict[str, Sequence[str]]
    price: Decimal
    variants: list[ProductSpec] = field(default_factory=list)


def ean13(rng: random.Random, used: set[str]) -> str:
    """A valid-looking EAN-13 (GS1 prefix 40-44, Germany), unique within ``used``."""
    while True:
        body = str(rng.randint(40, 44)) + "".join(str(rng.randrange(10)) for _ in range(10))
        check = (10 - sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(body)) % 10) % 10
        code = body + str(check)
        if code not in used:
            used.add(code)
            return code


def scaled_money(value: Decimal | str, factor: float) -> Decimal:
    return quantize_money(Decimal(value) * Decimal(str(round(factor, 3))))


def _cost(rng: random.Random, price: Decimal | str, low: float = 0.35, high: float = 0.55) -> Decimal:
    return scaled_money(price, rng.uniform(low, high)).quantize(Decimal("0.01"))


def _sku_part(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def build_catalog(rng: random.Random) -> tuple[list[TemplateSpec], list[ProductSpec]]:
    """The whole catalog, as data. Draws from ``rng`` in a fixed order."""
    used: set[str] = set()
    templates: list[TemplateSpec] = []
    for name, prefix, category, sizes, colours, price in APPAREL:
        tpl = TemplateSpec(
            name, prefix, f"Apparel/{category}", {"Size": sizes, "Colour": colours}, Decimal(price)
        )
        weight = Decimal(rng.choice(["0.18", "0.22", "0.45", "0.65", "0.09", "0.30"]))
        for size in sizes:
            for colour in colours:
                tpl.variants.append(
                    ProductSpec(
                        sku=f"{prefix}-{_sku_part(size)}-{_sku_part(colour)}",
                        name=f"{name} – {size} / {colour}",
                        category=tpl.category,
                        family="apparel",
                        price=tpl.price,
                        cost=_cost(rng, price),
                        weight=weight,
                        barcode=ean13(rng, used),
                    )
                )
        templates.append(tpl)
    name, prefix, category, colours, price = BEANIE
    beanie = TemplateSpec(name, prefix, f"Apparel/{category}", {"Colour": colours}, Decimal(price))
    for colour in colours:
        beanie.variants.append(
            ProductSpec(
                f"{prefix}-{_sku_part(colour)}",
                f"{name} – {colour}",
                beanie.category,
                "apparel",
                beanie.price,
                _cost(rng, price),
                weight=Decimal("0.10"),
                barcode=ean13(rng, used),
            )
        )
    templates.append(beanie)

    products: list[ProductSpec] = []
    for i, (name, category, price) in enumerate(ELECTRONICS_SERIAL, start=1):
        products.append(
            ProductSpec(
                f"EL-{1000 + i}",
                name,
                f"Electronics/{category}",
                "electronics",
                Decimal(price),
                _cost(rng, price, 0.45, 0.65),
                tracking="serial",
                weight=Decimal(rng.choice(["0.12", "0.35", "0.80", "1.20", "0.25"])),
                barcode=ean13(rng, used),
            )
        )
    for i, (name, category, price) in enumerate(ELECTRONICS_PLAIN, start=1):
        products.append(
            ProductSpec(
                f"EL-{2000 + i}",
                name,
                f"Electronics/{category}",
                "electronics",
                Decimal(price),
                _cost(rng, price, 0.25, 0.45),
                weight=Decimal(rng.choice(["0.05", "0.08", "0.20", "0.35"])),
                barcode=ean13(rng, used),
                box_barcode=ean13(rng, used) if rng.random() < 0.6 else "",
            )
        )
    n = 0
    for name, category, sizes, price in FOOD:
        for step, size in enumerate(sizes):
            n += 1
            pack_price = quantize_money(Decimal(price) * (1 + Decimal(step) * Decimal("0.8")))
            products.append(
                ProductSpec(
                    f"FD-{3000 + n}",
                    f"{name} {size}",
                    f"Food & drink/{category}",
                    "food",
                    pack_price,
                    _cost(rng, pack_price, 0.4, 0.6),
                    tracking="lot",
                    weight=Decimal(rng.choice(["0.10", "0.25", "0.50", "1.00"])),
                    barcode=ean13(rng, used),
                    box_barcode=ean13(rng, used) if rng.random() < 0.5 else "",
                )
            )
    for i, (name, category, unit, price) in enumerate(RAW, start=1):
        products.append(
            ProductSpec(
                f"RM-{4000 + i}",
                name,
                f"Raw materials/{category}",
                "raw",
                Decimal(price),
                _cost(rng, price, 0.6, 0.8),
                unit=unit,
                weight=Decimal("1") if unit == "kg" else None,
            )
        )
    n = 0
    for name, category, variants, price in HOME:
        for variant in variants:
            n += 1
            products.append(
                ProductSpec(
                    f"HK-{5000 + n}",
                    f"{name} – {variant}" if variant else name,
                    f"Home & living/{category}",
                    "home",
                    Decimal(price),
                    _cost(rng, price),
                    weight=Decimal(rng.choice(["0.30", "0.45", "0.80", "1.50", "2.20"])),
                    barcode=ean13(rng, used),
                    box_barcode=ean13(rng, used) if rng.random() < 0.25 else "",
                )
            )
    for sku, name, price in SERVICES:
        products.append(
            ProductSpec(sku, name, "Services", "service", Decimal(price), Decimal(0), kind="service")
        )
    return templates, products


def ensure_catalog(templates: list[TemplateSpec], products: list[ProductSpec]) -> None:
    existing = set(Product.objects.annotate(k=Lower("sku")).values_list("k", flat=True))
    template_names = set(ProductTemplate.objects.values_list("name", flat=True))
    categories: dict[str, Category] = {}

    def category(path: str) -> Category:
        if path not in categories:
            categories[path] = category_get_or_create(path)
        return categories[path]

    for tpl in templates:
        if tpl.name in template_names:
            continue
        created = product_template_create(
            name=tpl.name,
            sku_prefix=tpl.sku_prefix,
            attributes=tpl.attributes,
            category=category(tpl.category),
            sale_price=tpl.price,
            currency="EUR",
        )
        by_sku = {p.sku: p for p in created.variants.select_related("stock_unit")}
        for spec in tpl.variants:
            product_update(product=by_sku[spec.sku], barcodes=[spec.barcode], weight=spec.weight)
    for spec in products:
        if spec.sku.lower() in existing:
            continue
        product = product_create(
            sku=spec.sku,
            name=spec.name,
            stock_unit=spec.unit,
            category=category(spec.category),
            kind=spec.kind,
            weight=spec.weight,
            sale_price=spec.price,
            currency="EUR",
            tracking=spec.tracking,
            barcodes=[spec.barcode] if spec.barcode else [],
        )
        if spec.box_barcode:
            product_unit_set(product=product, unit="box", factor="12", barcode=spec.box_barcode)


def ensure_reorder_rules(rng: random.Random, specs: list[ProductSpec], main: Warehouse) -> None:
    candidates = [s for s in specs if s.kind == "stocked" and s.family in {"apparel", "home", "food", "raw"}]
    chosen = sorted(rng.sample(candidates, 60), key=lambda s: s.sku)
    plans = []
    for spec in chosen:
        low = rng.choice([5, 10, 12, 20, 24, 40]) * (10 if spec.unit in {"m", "kg"} else 1)
        plans.append((spec.sku, low, low * rng.choice([2, 3, 4]), 12 if spec.box_barcode else 1))
    products = {p.sku: p for p in Product.objects.filter(sku__in=[p[0] for p in plans])}
    have = set(ReorderRule.objects.filter(warehouse=main).values_list("product__sku", flat=True))
    for sku, low, high, multiple in plans:
        if sku not in have:
            reorder_rule_set(
                product=products[sku], warehouse=main, min_quantity=low, max_quantity=high, multiple=multiple
            )
