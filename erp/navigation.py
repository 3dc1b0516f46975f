"""The areas of the left navigation and what each will hold until its issue lands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AreaPage:
    key: str
    label: str
    url_name: str
    summary: str
    coming: tuple[str, ...]


AREA_PAGES: tuple[AreaPage, ...] = (
    AreaPage(
        "inventory",
        "Inventory",
        "inventory:index",
        "Products, warehouses and the double-entry stock ledger.",
        (
            "Products with variants, barcodes and units",
            "Warehouses and their location tree",
            "Stock levels, reservations and availability",
            "Transfers, adjustments and cycle counts (scanner friendly)",
            "Reorder rules, replenishment and valuation",
        ),
    ),
    AreaPage(
        "sales",
        "Sales",
        "sales:index",
        "Order to cash, for every channel.",
        (
            "Customers and sales channels",
            "Sales orders with reservations and backorders",
            "Shipments, packing slips and the fulfilment queue",
            "Invoices, payments, credit notes and returns",
        ),
    ),
    AreaPage(
        "procurement",
        "Procurement",
        "procurement:index",
        "Procure to pay, and replenishment.",
        (
            "Suppliers and supplier items with price breaks",
            "Purchase orders with approval",
            "Receiving by barcode scanner",
            "Supplier bills with three-way match",
        ),
    ),
    AreaPage(
        "manufacturing",
        "Manufacturing",
        "manufacturing:index",
        "Bills of materials, manufacturing orders and MRP.",
        (
            "Multi-level bills of materials with cost roll-up",
            "Manufacturing orders with component reservations",
            "MRP suggestions converted in one click",
        ),
    ),
    AreaPage(
        "integrations",
        "Integrations",
        "integrations:index",
        "Every tool connects here: one connector each.",
        (
            "Connections to Shopify, BigCommerce, Amazon, ShipStation, QuickBooks, HubSpot",
            "Inbound events, outbound deliveries and sync runs",
            "Quarantine and reconciliation",
        ),
    ),
)

AREA_PAGE_BY_KEY = {page.key: page for page in AREA_PAGES}
