"""The books follow operations: customers, items, invoices and credit notes, payments and refunds
out to an accounting tool, each after what it refers to.

Resolvers per outbox topic, for connections whose connector takes the record's capability:

* customers (``sales.customer_created`` / ``_updated``) -> ``CustomerOut``;
* items (``inventory.product_created`` / ``_updated``) -> ``ItemOut``;
* invoices and credit notes (``sales.invoice_issued``, ``sales.credit_note_issued``,
  ``sales.invoice_voided``) -> ``InvoiceOut`` (with the customer's payment terms and the order's
  sales channel), blocked on the customer (and, where the tool takes items, on each line's item)
  until the tool has them;
* payments and refunds (``sales.payment_received``, ``sales.refund_recorded``) -> ``PaymentOut``,
  blocked on the invoice or credit note they settle;
* vendors (``procurement.supplier_created`` / ``_updated``) -> ``VendorOut``;
* supplier bills (``procurement.bill_recorded``, ``procurement.bill_approved``) -> ``BillOut``,
  once accepted (matched, or approved after review), blocked on the vendor (and, where the tool
  takes items, on each line's item) until the tool has them;
* supplier payments (``procurement.supplier_payment_recorded``) -> ``BillPaymentOut``, blocked on
  the bill they pay until the tool has it.

A record the tool has exactly as we would send it is not sent again (ExternalRef.pushed_hash); an
update carries the version we hold (ExternalRef.external_version), and a conflict makes the hub
re-read it (``StaleVersion``). Draft invoices are not the books' business.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal

from erp.models import OutboxEvent
from integrations import outbound_crm, outbound_items, ownership, registry
from integrations.contract import Capability
from integrations.field_owners import Owner
from integrations.models import Connection, ExternalRef
from integrations.outbound_items import Blocked, Resolved
from integrations.records import (
    BillOut,
    BillPaymentOut,
    CustomerOut,
    DocumentLineOut,
    InvoiceOut,
    ItemOut,
    PaymentOut,
    VendorOut,
)
from integrations.resolving import ref_of, refs_of, remembering, unchanged
from inventory.models import Product
from inventory.services.catalog import product_payload
from procurement.models import Bill, BillStatus, Supplier, SupplierPayment
from procurement.services.bills import bill_payload
from procurement.services.orders import po_payload
from procurement.services.suppliers import supplier_payload
from sales.models import Customer, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Payment, Refund
from sales.services.billing import invoice_payload
from sales.services.masterdata import customer_payload
from sales.services.orders import order_payload

CUSTOMER, ITEM, INVOICE, PAYMENT, REFUND = "customer", "item", "invoice", "payment", "refund"
CUSTOMER_TOPICS = ("sales.customer_created", "sales.customer_updated")
ITEM_TOPICS = ("inventory.product_created", "inventory.product_updated")
INVOICE_TOPICS = ("sales.invoice_issued", "sales.credit_note_issued", "sales.invoice_voided")
PAYMENT_TOPICS = ("sales.payment_received", "sales.refund_recorded")
TOPICS = CUSTOMER_TOPICS + ITEM_TOPICS + INVOICE_TOPICS + PAYMENT_TOPICS
RATE = Decimal("0.0001")
SHIPPING_TAX = "Shipping tax"  # the name of an order's tax on its shipping, before its rate


def _id(value: object) -> int:
    """An id from an event's payload (0, which matches nothing, when it has none)."""
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


def _takes(connection: Connection, capability: Capability) -> bool:
    try:
        return capability in registry.get(connection.connector).capabilities
    except registry.UnknownConnector:
        return False


# --- customers and items ---------------------------------------------------------------------


def customer_out(customer: Customer, external_id: str, version: str) -> CustomerOut:
    billing = next((a for a in customer.addresses.all() if a.kind == "billing"), None)
    return CustomerOut(
        reference=customer.code,
        external_id=external_id,
        version=version,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        is_company=customer.kind == "company",
        currency=customer.currency,
        tax_id=customer.tax_id,
        billing_address=billing.snapshot() if billing is not None else {},
    )


def customer_out_for(
    connection: Connection, customer: Customer, ref: ExternalRef | None, owners: Mapping[str, Owner]
) -> CustomerOut:
    """The CustomerOut ``connection`` gets (the customer's addresses loaded): as any tool gets it,
    and, for a tool with field rules (``owners``), with what ``outbound_crm.crm_customer`` adds."""
    item = customer_out(customer, *((ref.external_id, ref.external_version) if ref else ("", "")))
    return outbound_crm.crm_customer(item, customer, owners, ref) if owners else item


def resolve_customer(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    """A customer changed (or, ``outbound_crm.CUSTOMER_AGAIN``, must go again to the one connection
    the event names): its CustomerOut, unless the tool has it as it is."""
    if event.topic == outbound_crm.CUSTOMER_AGAIN and event.payload.get("connection_id") != connection.pk:
        addressee = event.payload.get("connection_id")
        return f"The customer is pushed again to connection {addressee}, not {connection}."
    customer = (
        Customer.objects.prefetch_related("addresses").filter(pk=event.payload.get("customer_id")).first()
    )
    if customer is None:
        return "The customer no longer exists."
    ref = ref_of(connection, CUSTOMER, customer)
    owners = ownership.field_owners_of(connection)
    item = customer_out_for(connection, customer, ref, owners)
    if unchanged(ref, item) and not force:
        return f"{connection} has customer {customer.name} as it is already."
    sent = {outbound_crm.SENT: outbound_crm.sent_values(item)} if owners else None
    return Resolved(
        CUSTOMER,
        Capability.CUSTOMERS_OUT,
        item,
        remembering(connection, CUSTOMER, customer, item, extra=sent),
    )


def resolve_item(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    product = Product.objects.filter(pk=event.payload.get("product_id")).first()
    if product is None:
        return "The product no longer exists."
    ref = ref_of(connection, ITEM, product)
    item = ItemOut(
        sku=product.sku,
        external_id=ref.external_id if ref else "",
        version=ref.external_version if ref else "",
        name=product.name,
        price=product.sale_price,
        description=product.description,
    )
    if unchanged(ref, item) and not force:
        return f"{connection} has item {product.sku} as it is already."
    return Resolved(ITEM, Capability.ITEMS_OUT, item, remembering(connection, ITEM, product, item))


# --- invoices and credit notes ---------------------------------------------------------------------


def _items_first(connection: Connection, products: set[Product]) -> dict[int, str] | Blocked:
    """The tool's item ids of ``products`` (empty where the tool takes no items), or Blocked on the
    first (by SKU) it does not have yet."""
    if not _takes(connection, Capability.ITEMS_OUT):
        return {}
    found = refs_of(connection, ITEM, Product, [p.pk for p in products])
    missing = sorted((p for p in products if p.pk not in found), key=lambda p: p.sku)
    if missing:
        return Blocked(
            reason=f"item {missing[0].sku} is not in {connection} yet",
            topic="inventory.product_updated",
            aggregate=missing[0],
            payload=product_payload(missing[0]),
        )
    return {pk: ref.external_id for pk, ref in found.items()}


def _customer_first(connection: Connection, customer: Customer) -> Blocked:
    return Blocked(
        reason=f"customer {customer.name} is not in {connection} yet",
        topic="sales.customer_updated",
        aggregate=customer,
        payload=customer_payload(customer),
    )


def invoice_out(
    invoice: Invoice,
    *,
    external_id: str,
    version: str,
    customer_external_id: str,
    item_refs: Mapping[int, str],
) -> InvoiceOut:
    """The InvoiceOut of an issued invoice or credit note (its lines, customer and order with its
    channel loaded), in the tool's ids: what ``resolve_invoice`` pushes, and what reconciliation compares."""
    lines = []
    for line in invoice.lines.all():
        product = line.order_line.product if line.order_line is not None else None
        lines.append(
            DocumentLineOut(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.subtotal,
                tax_rate=(line.tax_amount / line.subtotal).quantize(RATE) if line.subtotal else Decimal(0),
                tax_amount=line.tax_amount,
                sku=product.sku if product is not None else "",
                item_external_id=item_refs.get(product.pk, "") if product is not None else "",
                tax_name=_tax_name(line, invoice),
            )
        )
    return InvoiceOut(
        number=invoice.number or "",
        kind=invoice.kind,
        external_id=external_id,
        version=version,
        customer_external_id=customer_external_id,
        currency=invoice.currency,
        issue_date=invoice.issue_date or invoice.created_at.date(),
        due_date=invoice.due_date,
        lines=tuple(lines),
        subtotal=invoice.subtotal,
        tax=invoice.tax_total,
        total=invoice.total,
        order_reference=invoice.order.number,
        voided=invoice.status == InvoiceStatus.VOID,
        terms=invoice.customer.payment_terms,
        channel=invoice.order.channel.code,
    )


def _tax_name(line: InvoiceLine, invoice: Invoice) -> str:
    """Our tax of an invoice line, as sales pricing names it, with its rate ("VAT 20%", "State 6% +
    County 1.5%"; a shipping line's "Shipping tax 20%"); "" when the line charges none. The order
    line's taxes are prefetched (``lines__order_line__taxes``)."""
    if line.order_line is None:
        rate = invoice.order.shipping_tax_rate
        return tax_name(SHIPPING_TAX, rate) if line.tax_amount and rate else ""
    taxes = list(line.order_line.taxes.all())
    if not taxes or (not line.tax_amount and all(t.rate for t in taxes)):
        return ""  # no tax, or exempt from what the line names: none charged
    return " + ".join(tax_name(t.name, t.rate) for t in taxes)


def tax_name(name: str, rate: Decimal) -> str:
    """One of our taxes as the books know it: its name and rate ("VAT", 0.2 -> "VAT 20%"; 0.015 ->
    "1.5%"), every digit the rate has, never an exponent."""
    return f"{name} {(Decimal(rate) * 100).normalize():f}%"


def resolve_invoice(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | Blocked | str:
    invoice_id = _id((event.payload.get("invoice") or {}).get("invoice_id"))
    invoice = (
        Invoice.objects.select_related("customer", "order__channel")
        .prefetch_related("lines__order_line__product", "lines__order_line__taxes")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        return "The invoice no longer exists."
    if invoice.status == InvoiceStatus.DRAFT or not invoice.number:
        return f"{invoice} is a draft: the books get it when it is issued."
    ref = ref_of(connection, INVOICE, invoice)
    voided = invoice.status == InvoiceStatus.VOID
    if voided and ref is None:
        return f"{invoice.number} was voided before {connection} had it."
    customer_ref = ref_of(connection, CUSTOMER, invoice.customer)
    if customer_ref is None:
        return _customer_first(connection, invoice.customer)
    item_refs = _items_first(
        connection, {ln.order_line.product for ln in invoice.lines.all() if ln.order_line is not None}
    )
    if isinstance(item_refs, Blocked):
        return item_refs
    item = invoice_out(
        invoice,
        external_id=ref.external_id if ref else "",
        version=ref.external_version if ref else "",
        customer_external_id=customer_ref.external_id,
        item_refs=item_refs,
    )
    if unchanged(ref, item) and not force:
        return f"{connection} has {invoice.number} as it is already."
    return Resolved(INVOICE, Capability.INVOICES_OUT, item, remembering(connection, INVOICE, invoice, item))


# --- payments and refunds ---------------------------------------------------------------------------


def _document_first(connection: Connection, document: Invoice) -> Blocked:
    topic = "sales.credit_note_issued" if document.kind == InvoiceKind.CREDIT_NOTE else "sales.invoice_issued"
    return Blocked(
        reason=f"{document.number} is not in {connection} yet",
        topic=topic,
        aggregate=document.order,
        payload=order_payload(document.order, invoice=invoice_payload(document)),
    )


def payment_out(
    kind: str,
    money: Payment | Refund,
    document: Invoice,
    when: datetime.date,
    *,
    document_external_id: str,
    customer_external_id: str,
) -> PaymentOut:
    """The PaymentOut of a payment (``kind`` "payment") or a refund ("refund") of ``document``, in
    the tool's ids: what ``resolve_payment`` pushes, and what reconciliation compares."""
    return PaymentOut(
        reference=f"{PAYMENT if kind == 'payment' else REFUND}-{money.pk}",
        kind=kind,
        document_external_id=document_external_id,
        customer_external_id=customer_external_id,
        amount=money.amount,
        currency=document.currency,
        paid_at=when,
        method=money.method,
    )


def _settling(
    connection: Connection,
    kind: str,
    money: Payment | Refund,
    document: Invoice,
    when: datetime.date,
    force: bool,
) -> Resolved | Blocked | str:
    object_type = PAYMENT if kind == "payment" else REFUND
    ref = ref_of(connection, object_type, money)
    if ref is not None and not force:
        return f"{connection} has this {kind} of {document.number} already ({ref.external_id})."
    document_ref = ref_of(connection, INVOICE, document)
    if document_ref is None:
        return _document_first(connection, document)
    customer_ref = ref_of(connection, CUSTOMER, document.customer)
    if customer_ref is None:
        return _customer_first(connection, document.customer)
    item = payment_out(
        kind,
        money,
        document,
        when,
        document_external_id=document_ref.external_id,
        customer_external_id=customer_ref.external_id,
    )
    return Resolved(
        object_type, Capability.PAYMENTS_OUT, item, remembering(connection, object_type, money, item)
    )


def resolve_payment(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | Blocked | str:
    if event.topic == "sales.refund_recorded":
        refund_id = _id((event.payload.get("refund") or {}).get("refund_id"))
        refund = Refund.objects.select_related("credit_note__customer", "credit_note__order").filter(
            pk=refund_id
        )
        found = refund.first()
        if found is None:
            return "The refund no longer exists."
        return _settling(connection, "refund", found, found.credit_note, found.refunded_at, force)
    payment_id = _id((event.payload.get("payment") or {}).get("payment_id"))
    payment = (
        Payment.objects.select_related("invoice__customer", "invoice__order").filter(pk=payment_id).first()
    )
    if payment is None:
        return "The payment no longer exists."
    return _settling(connection, "payment", payment, payment.invoice, payment.paid_at, force)


# --- vendors and supplier bills ---------------------------------------------------------------------

VENDOR, BILL = "vendor", "bill"
VENDOR_TOPICS = ("procurement.supplier_created", "procurement.supplier_updated")
BILL_TOPICS = ("procurement.bill_recorded", "procurement.bill_approved")
# A bill the books take: accepted by the three-way match or by a person, paid or not.
ACCEPTED = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID, BillStatus.PAID)


def vendor_out(supplier: Supplier, external_id: str, version: str) -> VendorOut:
    return VendorOut(
        reference=supplier.code,
        external_id=external_id,
        version=version,
        name=supplier.name,
        email=supplier.email,
        currency=supplier.currency,
    )


def resolve_vendor(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | str:
    supplier = Supplier.objects.filter(pk=_id(event.payload.get("supplier_id"))).first()
    if supplier is None:
        return "The supplier no longer exists."
    ref = ref_of(connection, VENDOR, supplier)
    item = vendor_out(supplier, *((ref.external_id, ref.external_version) if ref else ("", "")))
    if unchanged(ref, item) and not force:
        return f"{connection} has vendor {supplier.name} as it is already."
    return Resolved(VENDOR, Capability.VENDORS_OUT, item, remembering(connection, VENDOR, supplier, item))


def _vendor_first(connection: Connection, supplier: Supplier) -> Blocked:
    return Blocked(
        reason=f"vendor {supplier.name} is not in {connection} yet",
        topic="procurement.supplier_updated",
        aggregate=supplier,
        payload=supplier_payload(supplier),
    )


def bill_out(
    bill: Bill, *, external_id: str, version: str, vendor_external_id: str, item_refs: Mapping[int, str]
) -> BillOut:
    """The BillOut of an accepted bill (its lines with their order lines' products loaded), in the
    tool's ids."""
    lines = []
    for line in bill.lines.all():
        product = line.order_line.product
        lines.append(
            DocumentLineOut(
                description=line.order_line.description or product.name,
                quantity=line.quantity,
                unit_price=line.unit_cost,
                amount=line.subtotal,
                tax_rate=line.order_line.tax_rate.quantize(RATE),
                tax_amount=line.tax_amount,
                sku=product.sku,
                item_external_id=item_refs.get(product.pk, ""),
            )
        )
    return BillOut(
        number=bill.number,
        external_id=external_id,
        version=version,
        vendor_external_id=vendor_external_id,
        currency=bill.currency,
        bill_date=bill.bill_date,
        due_date=bill.due_date,
        supplier_reference=bill.supplier_reference,
        lines=tuple(lines),
        total=bill.total,
    )


def resolve_bill(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | Blocked | str:
    bill_id = _id((event.payload.get("bill") or {}).get("bill_id"))
    bill = (
        Bill.objects.select_related("supplier")
        .prefetch_related("lines__order_line__product")
        .filter(pk=bill_id)
        .first()
    )
    if bill is None:
        return "The bill no longer exists."
    if bill.status == BillStatus.NEEDS_REVIEW:
        return f"{bill.number} did not match its order and needs review: the books get it once approved."
    if bill.status not in ACCEPTED:
        return f"{bill.number} is {bill.get_status_display().lower()}: the books do not get it."
    ref = ref_of(connection, BILL, bill)
    vendor_ref = ref_of(connection, VENDOR, bill.supplier)
    if vendor_ref is None:
        return _vendor_first(connection, bill.supplier)
    item_refs = _items_first(connection, {line.order_line.product for line in bill.lines.all()})
    if isinstance(item_refs, Blocked):
        return item_refs
    item = bill_out(
        bill,
        external_id=ref.external_id if ref else "",
        version=ref.external_version if ref else "",
        vendor_external_id=vendor_ref.external_id,
        item_refs=item_refs,
    )
    if unchanged(ref, item) and not force:
        return f"{connection} has {bill.number} as it is already."
    return Resolved(BILL, Capability.BILLS_OUT, item, remembering(connection, BILL, bill, item))


# --- supplier payments ---------------------------------------------------------------------------

BILL_PAYMENT = "bill_payment"
BILL_PAYMENT_TOPICS = ("procurement.supplier_payment_recorded",)


def bill_payment_out(
    payment: SupplierPayment, *, bill_external_id: str, vendor_external_id: str
) -> BillPaymentOut:
    """The BillPaymentOut of a supplier payment (its bill loaded), in the tool's ids."""
    return BillPaymentOut(
        reference=f"supplier-payment-{payment.pk}",
        bill_external_id=bill_external_id,
        vendor_external_id=vendor_external_id,
        amount=payment.amount,
        currency=payment.bill.currency,
        paid_at=payment.paid_at,
        method=payment.method,
    )


def _bill_first(connection: Connection, bill: Bill) -> Blocked:
    """The bill goes first, as it was announced (the PO's event naming it)."""
    return Blocked(
        reason=f"{bill.number} is not in {connection} yet",
        topic="procurement.bill_recorded",
        aggregate=bill.order,
        payload=po_payload(bill.order, bill=bill_payload(bill)),
    )


def resolve_bill_payment(connection: Connection, event: OutboxEvent, force: bool) -> Resolved | Blocked | str:
    payment_id = _id((event.payload.get("payment") or {}).get("supplier_payment_id"))
    payment = (
        SupplierPayment.objects.select_related("bill__supplier", "bill__order").filter(pk=payment_id).first()
    )
    if payment is None:
        return "The supplier payment no longer exists."
    bill = payment.bill
    ref = ref_of(connection, BILL_PAYMENT, payment)
    if ref is not None and not force:
        return f"{connection} has this payment of {bill.number} already ({ref.external_id})."
    bill_ref = ref_of(connection, BILL, bill)
    if bill_ref is None:
        return _bill_first(connection, bill)
    vendor_ref = ref_of(connection, VENDOR, bill.supplier)
    if vendor_ref is None:
        return _vendor_first(connection, bill.supplier)
    item = bill_payment_out(
        payment, bill_external_id=bill_ref.external_id, vendor_external_id=vendor_ref.external_id
    )
    return Resolved(
        BILL_PAYMENT,
        Capability.BILL_PAYMENTS_OUT,
        item,
        remembering(connection, BILL_PAYMENT, payment, item),
    )


def install() -> None:
    for topics, capability, resolver in (
        ((*CUSTOMER_TOPICS, outbound_crm.CUSTOMER_AGAIN), Capability.CUSTOMERS_OUT, resolve_customer),
        (ITEM_TOPICS, Capability.ITEMS_OUT, resolve_item),
        (INVOICE_TOPICS, Capability.INVOICES_OUT, resolve_invoice),
        (PAYMENT_TOPICS, Capability.PAYMENTS_OUT, resolve_payment),
        (VENDOR_TOPICS, Capability.VENDORS_OUT, resolve_vendor),
        (BILL_TOPICS, Capability.BILLS_OUT, resolve_bill),
        (BILL_PAYMENT_TOPICS, Capability.BILL_PAYMENTS_OUT, resolve_bill_payment),
    ):
        for topic in topics:
            outbound_items.register_resolver(topic, capability, resolver)
