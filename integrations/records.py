"""The hub's canonical records: what every connector maps its tool's wire format to and from.

In (a connector gives them, the appliers apply them through the domain services): orders with their
lines, shipments and refunds; products; shipments on their own (from a shipping tool or a 3PL);
customers and companies; inventory levels a tool owns; payments an accounting tool recorded; what a
3PL received of a purchase order sent to it.

Out (the hub resolves them from its own state, a connector sends them): inventory levels and
fulfilments to a sales channel; orders and their cancellation to a shipping tool or a 3PL;
customers, items, invoices and credit notes, payments and refunds, vendors and bills to accounting;
deals to a CRM; purchase orders as receiving orders (and their cancellation) to a 3PL. Ids of the
tool come from ExternalRefs, never from our models.

Amounts are Decimals in the document's currency; dates are aware datetimes or dates.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

# --- in ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxLine:
    name: str
    rate: Decimal  # 0.2 for 20 %
    amount: Decimal


@dataclass(frozen=True)
class CustomerRecord:
    """A customer as a tool keeps it: on an order (the buyer), or on its own (a CRM contact or
    company, an accounting tool's customer; object type "customer")."""

    external_id: str
    name: str
    email: str = ""
    phone: str = ""
    company: str = ""  # the company's name, for a person who buys for one
    updated_at: datetime.datetime | None = None
    is_company: bool = False
    company_external_id: str = ""  # the tool's id of the company this person belongs to
    address: Mapping[str, str] = field(default_factory=dict)  # keys of sales Address.snapshot()
    tax_id: str = ""
    # A CRM's (``integrations.field_owners``): when the tool last changed each field, in our field
    # names ("name", "email", ...; a field not named changed at ``updated_at``); the values of the
    # fields it keeps and we have no column for ("lifecycle_stage", "owner", "marketing"); and the
    # tool's records merged into this one (their links here move to it).
    changed_at: Mapping[str, datetime.datetime] = field(default_factory=dict)
    crm: Mapping[str, str] = field(default_factory=dict)
    merged_external_ids: tuple[str, ...] = ()


class FulfilledBy(StrEnum):
    MERCHANT = "merchant"  # shipped from the hub's stock (here, by a shipping tool or a 3PL)
    MARKETPLACE = "marketplace"  # shipped by the marketplace from its own stock (Amazon FBA)


@dataclass(frozen=True)
class OrderLineRecord:
    external_id: str
    sku: str
    variant_external_id: str  # "" when the tool has no variant id for the line
    title: str
    quantity: Decimal
    unit_price: Decimal  # before discounts; gross when the order's prices include tax
    discount: Decimal = Decimal(0)  # total discount allocated to the line, in the shop currency
    taxes: tuple[TaxLine, ...] = ()
    # What is left of the line after edits and refunds (the tool's "current quantity"); None when
    # the tool does not say. Units refunded after shipping count as gone too: the hub adds back
    # the refunds it records as returns, and shrinks the line only by what never shipped.
    current_quantity: Decimal | None = None
    # Who ships the line: the merchant (from the hub's stock) or the marketplace itself (Amazon
    # FBA), whose lines are recorded for sales and accounting but reserve and ship nothing here.
    fulfilled_by: FulfilledBy = FulfilledBy.MERCHANT


@dataclass(frozen=True)
class ShippingLineRecord:
    title: str
    amount: Decimal
    discount: Decimal = Decimal(0)
    taxes: tuple[TaxLine, ...] = ()


@dataclass(frozen=True)
class OrderTotals:
    """The tool's own totals, to check ours against."""

    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class ShipmentLineRecord:
    line_external_id: str  # the order line's id in the tool ("" when the tool names only the SKU)
    quantity: Decimal
    sku: str = ""


@dataclass(frozen=True)
class ShipmentRecord:
    """Goods that left for the customer, as the tool recorded it (a Shopify fulfilment, a
    shipment of a shipping tool or a 3PL): recorded here as a shipment of the order.

    On an ``OrderRecord`` it is a shipment of that order; on its own (object type "shipment", from
    a tool the hub sent the order to) ``order_external_id`` names the order in that tool.

    ``cumulative``: its line quantities are the tool's running total shipped per line (all of the
    order's shipments so far, ours included), not this shipment's. The hub records what the tool
    shows shipped of each line beyond what is shipped here (at most what is open), and nothing for
    a record that shows nothing beyond it (``appliers.shipments``). For a tool that counts the
    units shipped of each line but not which shipment shipped them (Amazon's ``QuantityShipped``):
    the record's id changes with the counts (a new total, a new id), so a record recorded before
    (known by its id) holds nothing the hub has not taken in."""

    external_id: str
    created_at: datetime.datetime
    lines: tuple[ShipmentLineRecord, ...]
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    order_external_id: str = ""
    voided: bool = False  # the tool voided it (a label cancelled): the goods did not leave
    cumulative: bool = False  # line quantities are the tool's running totals shipped (see above)


class Restock(StrEnum):
    """What became of the goods of a refunded line."""

    RETURN = "return"  # shipped, and back into stock
    CANCEL = "cancel"  # never shipped: the line is refunded before it left
    NONE = "none"  # shipped, and not coming back (damaged, kept by the customer)


@dataclass(frozen=True)
class RefundLineRecord:
    line_external_id: str
    quantity: Decimal
    restock: Restock


@dataclass(frozen=True)
class RefundRecord:
    """Money paid back in the tool, with the lines it was for and what became of their goods."""

    external_id: str
    created_at: datetime.datetime
    lines: tuple[RefundLineRecord, ...]
    amount: Decimal  # paid back (the refund's successful transactions), in the order's currency
    note: str = ""


@dataclass(frozen=True)
class OrderRecord:
    external_id: str
    number: str  # what people call it in the tool ("#1001")
    created_at: datetime.datetime
    updated_at: datetime.datetime
    currency: str
    prices_include_tax: bool
    customer: CustomerRecord | None
    billing_address: Mapping[str, str]  # keys of sales Address.snapshot()
    shipping_address: Mapping[str, str]
    lines: tuple[OrderLineRecord, ...]
    shipping: tuple[ShippingLineRecord, ...] = ()
    totals: OrderTotals | None = None
    financial_status: str = ""
    cancelled_at: datetime.datetime | None = None
    cancel_reason: str = ""
    tags: tuple[str, ...] = ()
    note: str = ""
    # What the tool shipped itself (fulfilled in its admin, by a shipping tool or a 3PL); the
    # shipments the hub pushed there come back here too, and are recognised by their ids.
    shipments: tuple[ShipmentRecord, ...] = ()
    refunds: tuple[RefundRecord, ...] = ()
    # The tool has not priced the order yet (Amazon's Pending orders, before payment is authorised):
    # it is recorded and confirmed (its stock reserved) with its lines at no price and no totals to
    # check, and priced whole by the update that brings the prices (sales.services.order_prices_set).
    prices_pending: bool = False


@dataclass(frozen=True)
class VariantRecord:
    external_id: str
    sku: str
    title: str
    price: Decimal | None = None
    barcode: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"inventory_item_id": 123}


@dataclass(frozen=True)
class ProductRecord:
    external_id: str
    title: str
    updated_at: datetime.datetime
    variants: tuple[VariantRecord, ...]
    status: str = "active"
    description: str = ""


@dataclass(frozen=True)
class InventoryLevelRecord:
    """A tool's count of one SKU at one of its locations (object type "inventory_level"): a 3PL's
    on-hand in its warehouse. Applied only where the connection's ownership rule says the tool
    owns that stock; elsewhere it is compared, never applied."""

    sku: str
    location_external_id: str  # "" when the tool has one location
    on_hand: Decimal
    available: Decimal | None = None
    variant_external_id: str = ""
    counted_at: datetime.datetime | None = None
    # What the tool holds there for the orders it has not shipped yet (a 3PL's committed units).
    # With it, the on-hand here is the tool's on-hand less its committed units plus what is still
    # reserved here for the orders the tool has: units it shipped before the hub recorded the
    # shipment are not taken twice, whichever of the two the hub learns of first.
    committed: Decimal | None = None


@dataclass(frozen=True)
class PaymentApplication:
    invoice_external_id: str
    amount: Decimal


@dataclass(frozen=True)
class PaymentRecord:
    """Money received as an accounting tool recorded it (object type "payment"), applied to the
    invoices the hub pushed there."""

    external_id: str
    paid_at: datetime.date
    amount: Decimal
    currency: str
    applied_to: tuple[PaymentApplication, ...]
    method: str = ""
    reference: str = ""
    updated_at: datetime.datetime | None = None


# --- out ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryOut:
    """Set the tool's available quantity of one mapped variant at the mapped location."""

    sku: str
    external_id: str  # the variant's id in the tool
    extra: Mapping[str, Any]  # ExternalRef.extra of the variant (inventory item id…)
    available: int
    previous: int | None = None  # what we last pushed, for compare-and-set
    # The tool's location, where the connection maps several of our warehouses to its locations
    # (a MappingKind whose ``ours`` is "warehouse"); None: the connection's one location (the
    # connector's default, from its settings).
    location_id: str | None = None


@dataclass(frozen=True)
class FulfilmentLineOut:
    external_line_id: str
    quantity: int


@dataclass(frozen=True)
class FulfilmentOut:
    order_external_id: str
    shipment_number: str
    lines: tuple[FulfilmentLineOut, ...]
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    # the channel's id of the fulfilment when it exists already (the update changes its carrier
    # and tracking); empty: a new fulfilment
    external_id: str = ""


@dataclass(frozen=True)
class OrderLineOut:
    line_id: str  # our order line's id: the line's reference in the tool
    sku: str
    title: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class OrderOut:
    """An order for a shipping tool or a 3PL to ship, or its update (an address changed, a hold).

    ``reference`` (our order number) is what the tool shows; the push's idempotency key is what
    makes a retry after a lost answer update the tool's order instead of making a second one."""

    reference: str
    external_id: str  # the tool's id of the order once it has it ("" the first time)
    created_at: datetime.datetime
    currency: str
    customer_name: str
    customer_email: str
    ship_to: Mapping[str, str]  # keys of sales Address.snapshot()
    lines: tuple[OrderLineOut, ...]
    channel: str = ""  # where it was sold
    service: str = ""  # the shipping the customer chose
    note: str = ""
    on_hold: bool = False
    # The tool's key for the order (ShipStation's orderKey, ShipBob's reference_id): our number, or
    # our number and "/2", "/3"... when the order goes to the tool again after the tool cancelled
    # or closed the first one (a tool never reopens those). "" reads as ``reference``.
    key: str = ""

    @property
    def tool_key(self) -> str:
        return self.key or self.reference


@dataclass(frozen=True)
class OrderCancelOut:
    """Take back an order a shipping tool or a 3PL has not shipped yet."""

    reference: str
    external_id: str
    reason: str = ""
    key: str = ""  # as on ``OrderOut``

    @property
    def tool_key(self) -> str:
        return self.key or self.reference


@dataclass(frozen=True)
class CustomerOut:
    reference: str  # our customer code
    external_id: str  # "" until the tool has it
    version: str  # the tool's version of it we hold (QuickBooks SyncToken), "" if none
    name: str
    email: str = ""
    phone: str = ""
    is_company: bool = True
    currency: str = ""
    tax_id: str = ""
    billing_address: Mapping[str, str] = field(default_factory=dict)
    # A CRM's (``integrations.field_owners``): the fields the tool owns, never sent to it; the fields
    # whose last writer wins, each sent only if the tool's value is not newer than ``changed_at``
    # (when it last changed here); payment terms; the customer's order history.
    withheld: tuple[str, ...] = ()  # sorted, as every field list here (a stable content hash)
    latest: tuple[str, ...] = ()
    changed_at: Mapping[str, datetime.datetime] = field(default_factory=dict)
    payment_terms: str = ""
    lifetime_value: Decimal | None = None
    last_order_date: datetime.date | None = None
    company_external_id: str = ""  # the tool's company of a company customer, "" until it has one


@dataclass(frozen=True)
class ItemOut:
    sku: str
    external_id: str
    version: str
    name: str
    price: Decimal
    description: str = ""


@dataclass(frozen=True)
class DocumentLineOut:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal  # net of tax, after discounts
    tax_rate: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)
    sku: str = ""
    item_external_id: str = ""  # the item in the tool ("" for a line of no product: shipping)
    # Our tax of the line as sales pricing names it, with its rate ("VAT 20%", "State 6% + County
    # 1.5%"); "" for a line of no tax. What a tool's tax code is mapped from (mappings.tax_value).
    tax_name: str = ""


@dataclass(frozen=True)
class InvoiceOut:
    """An issued invoice, or a credit note (``kind`` "credit_note", amounts positive)."""

    number: str
    kind: str  # "invoice" or "credit_note"
    external_id: str
    version: str
    customer_external_id: str
    currency: str
    issue_date: datetime.date
    due_date: datetime.date | None
    lines: tuple[DocumentLineOut, ...]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    order_reference: str = ""
    voided: bool = False
    # The customer's payment terms in our words (``PaymentTerms``: "net_30"), mapped to the tool's
    # own terms where it has them; "" when we name none.
    terms: str = ""
    # The sales channel of the invoiced order, by code: what a tool that tracks sales by class or
    # location (QuickBooks) maps to one of its own.
    channel: str = ""


@dataclass(frozen=True)
class PaymentOut:
    """Money received against an invoice (``kind`` "payment"), or paid back on a credit note
    (``kind`` "refund")."""

    reference: str  # ours, stable: "payment-12"
    kind: str
    document_external_id: str  # the invoice (or credit note) in the tool
    customer_external_id: str
    amount: Decimal
    currency: str
    paid_at: datetime.date
    method: str = ""


@dataclass(frozen=True)
class VendorOut:
    reference: str  # our supplier code
    external_id: str
    version: str
    name: str
    email: str = ""
    currency: str = ""


@dataclass(frozen=True)
class BillOut:
    number: str
    external_id: str
    version: str
    vendor_external_id: str
    currency: str
    bill_date: datetime.date
    due_date: datetime.date
    supplier_reference: str
    lines: tuple[DocumentLineOut, ...]
    total: Decimal


@dataclass(frozen=True)
class BillPaymentOut:
    """Money paid to a supplier against one of its bills (our ``SupplierPayment``)."""

    reference: str  # ours, stable: "supplier-payment-7"
    bill_external_id: str  # the bill in the tool
    vendor_external_id: str
    amount: Decimal
    currency: str
    paid_at: datetime.date
    method: str = ""  # as we recorded it: "bank transfer", "card"


@dataclass(frozen=True)
class DealOut:
    """A sales order as a CRM deal: its amount and where it stands (``stage``: the order's state
    in our words, mapped to the CRM's pipeline stage by the connection's settings)."""

    reference: str  # our order number
    external_id: str
    version: str
    name: str
    amount: Decimal
    currency: str
    stage: str
    close_date: datetime.date | None
    customer_external_id: str = ""
    company_external_id: str = ""  # the CRM's company of a company customer, "" if none (yet)


@dataclass(frozen=True)
class JournalLineOut:
    """One pair of a journal entry: ``amount`` debited to the account of role ``debit`` and credited
    to the account of role ``credit`` (roles in our words: "inventory", "cogs",
    "goods_received", "inventory_adjustment"; the connection maps each to an account)."""

    debit: str
    credit: str
    amount: Decimal  # positive
    memo: str


@dataclass(frozen=True)
class InventoryJournalOut:
    """A closed day of the ledger as the books post it: the value that came into and left our
    stock, each flow a debit and a credit (``integrations.outbound_journal``)."""

    reference: str  # ours, stable: "inventory-2026-12-05"
    date: datetime.date
    currency: str
    lines: tuple[JournalLineOut, ...]


# --- stock to a 3PL's warehouse, and what it received -------------------------------------------


@dataclass(frozen=True)
class ReceivingLineOut:
    sku: str
    quantity: Decimal  # in stock units (what the tool counts), all the lines of one SKU together


@dataclass(frozen=True)
class ReceivingOut:
    """A purchase order on its way to a warehouse whose stock a 3PL holds: the tool's receiving
    order (ShipBob's warehouse receiving order), so its staff expect the goods and count them in.

    ``reference`` (our PO number) is what the tool shows on it and what its receipts name."""

    reference: str
    lines: tuple[ReceivingLineOut, ...]
    expected_date: datetime.date
    supplier: str  # the supplier's name, who the goods come from
    # The tool's location that takes the delivery, where the connection maps our warehouses to its
    # locations; None: the connection's one location (the connector's default).
    location_id: str | None = None
    external_id: str = ""  # the tool's id of the receiving order once it has it


@dataclass(frozen=True)
class ReceivingCancelOut:
    """Take back a receiving order: the purchase order was cancelled here."""

    reference: str
    external_id: str
    reason: str = ""


@dataclass(frozen=True)
class ReceiptLineRecord:
    sku: str
    received: Decimal  # in stock units: everything of the SKU received on the order so far, not a delta


@dataclass(frozen=True)
class ReceiptRecord:
    """What a 3PL has received of a receiving order the hub sent it (object type "receiving"):
    received here against the purchase order (``appliers.receipts``), only what is new since the
    last record. The tool's running totals make a repeated or out-of-order record harmless."""

    external_id: str  # the tool's receiving order
    reference: str  # our PO number as the tool has it ("" when it names none)
    lines: tuple[ReceiptLineRecord, ...]
    status: str  # the tool's own word ("Awaiting", "Completed")
    finished: bool = False  # the tool expects nothing more on it (completed, cancelled)
    received_at: datetime.datetime | None = None


InboundRecord = (
    OrderRecord
    | ProductRecord
    | ShipmentRecord
    | CustomerRecord
    | InventoryLevelRecord
    | PaymentRecord
    | ReceiptRecord
)

OutboundItem = (
    InventoryOut
    | FulfilmentOut
    | OrderOut
    | OrderCancelOut
    | CustomerOut
    | ItemOut
    | InvoiceOut
    | PaymentOut
    | VendorOut
    | BillOut
    | BillPaymentOut
    | DealOut
    | InventoryJournalOut
    | ReceivingOut
    | ReceivingCancelOut
)
