"""Invoices, credit notes and payments."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum

from erp import clock, events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_money, round_money
from erp.numbering import next_number
from sales.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoicePolicy,
    InvoiceStatus,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentTerms,
    SalesOrder,
)
from sales.services.orders import _actor, _locked, order_payload

INVOICEABLE = (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.CLOSED)


def _share(line: OrderLine, quantity: Decimal, field: str, already: Decimal, currency: str) -> Decimal:
    """The part of a line amount for ``quantity``; the last part takes the remainder, so parts add up."""
    whole = getattr(line, field)
    if quantity >= line.quantity - line.quantity_invoiced:
        return whole - already
    return round_money(whole * quantity / line.quantity, currency)


def invoice_payload(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "status": invoice.status,
        "customer_id": invoice.customer_id,
        "currency": invoice.currency,
        "total": str(invoice.total),
        "amount_paid": str(invoice.amount_paid),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
    }


@transaction.atomic
def invoice_create(*, order: SalesOrder, user: Any = None) -> Invoice:
    """A draft invoice for what is invoiceable now: ordered or shipped quantities (the channel's policy)."""
    order = _locked(order)
    if order.status not in INVOICEABLE:
        raise InvalidTransition(document="sales order", current=order.status, target="invoiced")
    lines = list(order.lines.select_for_update().select_related("product").order_by("position"))
    by_shipped = order.channel.invoice_policy == InvoicePolicy.SHIPPED
    # What earlier invoices (not void) took of each line's amounts.
    taken = {
        r["order_line_id"]: r
        for r in InvoiceLine.objects.filter(order_line__order=order, invoice__kind=InvoiceKind.INVOICE)
        .exclude(invoice__status=InvoiceStatus.VOID)
        .values("order_line_id")
        .annotate(subtotal=Sum("subtotal"), tax=Sum("tax_amount"), discount=Sum("discount_amount"))
    }
    rows = []
    for line in lines:
        base = line.quantity_shipped if by_shipped else line.quantity
        quantity = base - line.quantity_invoiced
        if quantity <= 0:
            continue
        prior = taken.get(line.pk, {})
        subtotal = _share(line, quantity, "line_subtotal", prior.get("subtotal") or ZERO, order.currency)
        tax = _share(line, quantity, "tax_amount", prior.get("tax") or ZERO, order.currency)
        discount = _share(line, quantity, "discount_amount", prior.get("discount") or ZERO, order.currency)
        rows.append(
            InvoiceLine(
                order_line=line,
                description=f"{line.product.sku} · {line.description}"[:255],
                quantity=quantity,
                unit_price=line.unit_price,
                discount_amount=discount,
                subtotal=subtotal,
                tax_amount=tax,
                total=subtotal + tax,
            )
        )
        OrderLine.objects.filter(pk=line.pk).update(quantity_invoiced=F("quantity_invoiced") + quantity)
    if not rows:
        what = "shipped" if by_shipped else "ordered"
        raise ValidationFailed(
            f"Nothing of {order.number} is left to invoice: no {what} quantity is waiting for an invoice."
        )
    # Shipping is billed once, with the first invoice that bills goods.
    shipping_billed = (
        InvoiceLine.objects.filter(
            invoice__order=order, invoice__kind=InvoiceKind.INVOICE, order_line__isnull=True
        )
        .exclude(invoice__status=InvoiceStatus.VOID)
        .exists()
    )
    if order.shipping_total and not shipping_billed:
        ship_tax = _shipping_tax(order)
        rows.append(
            InvoiceLine(
                description="Shipping",
                quantity=1,
                unit_price=order.shipping_total - ship_tax,
                subtotal=order.shipping_total - ship_tax,
                tax_amount=ship_tax,
                total=order.shipping_total,
            )
        )
    invoice = Invoice.objects.create(
        order=order,
        customer=order.customer,
        currency=order.currency,
        billing_address=order.billing_address,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    for row in rows:
        row.invoice = invoice
    InvoiceLine.objects.bulk_create(rows)
    _set_totals(invoice, rows)
    return invoice


def _shipping_tax(order: SalesOrder) -> Decimal:
    line_tax = order.lines.aggregate(t=Sum("tax_amount"))["t"] or ZERO
    return order.tax_total - line_tax


def _set_totals(invoice: Invoice, rows: Sequence[InvoiceLine]) -> None:
    invoice.subtotal = sum((r.subtotal for r in rows), ZERO)
    invoice.tax_total = sum((r.tax_amount for r in rows), ZERO)
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.save(update_fields=["subtotal", "tax_total", "total", "updated_at"])


def _locked_invoice(invoice: Invoice) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("order__channel", "customer")
        .get(pk=invoice.pk)
    )


@transaction.atomic
def invoice_issue(*, invoice: Invoice, issue_date: datetime.date | None = None, user: Any = None) -> Invoice:
    """Number the invoice and fix its due date from the customer's payment terms."""
    invoice = _locked_invoice(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvalidTransition(document="invoice", current=invoice.status, target=InvoiceStatus.ISSUED)
    prefix = "CN-" if invoice.kind == InvoiceKind.CREDIT_NOTE else "INV-"
    invoice.number = next_number(f"sales.{invoice.kind}", prefix=prefix)
    invoice.issue_date = issue_date or clock.today()
    invoice.due_date = invoice.issue_date + datetime.timedelta(
        days=PaymentTerms(invoice.customer.payment_terms).days
    )
    invoice.status = InvoiceStatus.ISSUED if invoice.total > 0 else InvoiceStatus.PAID
    invoice.updated_by = _actor(user)
    invoice.save()
    topic = "sales.credit_note_issued" if invoice.kind == InvoiceKind.CREDIT_NOTE else "sales.invoice_issued"
    events.emit(
        topic, aggregate=invoice.order, payload=order_payload(invoice.order, invoice=invoice_payload(invoice))
    )
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, reason: str = "", user: Any = None) -> Invoice:
    """Void a draft or an unpaid issued invoice; its quantities become invoiceable again."""
    invoice = _locked_invoice(invoice)
    if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED) or invoice.amount_paid > 0:
        raise InvalidTransition(document="invoice", current=invoice.status, target=InvoiceStatus.VOID)
    if invoice.kind == InvoiceKind.INVOICE:
        for line in invoice.lines.filter(order_line__isnull=False):
            assert line.order_line_id is not None
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_invoiced=F("quantity_invoiced") - line.quantity
            )
    invoice.status = InvoiceStatus.VOID
    invoice.updated_by = _actor(user)
    invoice.save()
    events.emit(
        "sales.invoice_voided",
        aggregate=invoice.order,
        payload=order_payload(invoice.order, invoice=invoice_payload(invoice), reason=reason),
    )
    return invoice


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount: Decimal | str | int,
    paid_at: datetime.date | None = None,
    method: str = "",
    reference: str = "",
    user: Any = None,
) -> Payment:
    """A payment against an issued invoice; the invoice becomes partially paid or paid."""
    invoice = _locked_invoice(invoice)
    amount = quantize_money(amount)
    if invoice.kind != InvoiceKind.INVOICE:
        raise ValidationFailed("Money paid back on a credit note is a refund; record it as one.")
    if invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
        raise InvalidTransition(document="invoice", current=invoice.status, target=InvoiceStatus.PAID)
    if amount <= 0:
        raise ValidationFailed("A payment must be positive.", field_errors={"amount": ["Must be positive."]})
    if amount > invoice.balance:
        raise ValidationFailed(
            f"{formatting.money(amount, invoice.currency)} is more than the "
            f"{formatting.money(invoice.balance, invoice.currency)} still due on {invoice.number}.",
            field_errors={"amount": [f"At most {formatting.money(invoice.balance, invoice.currency)}."]},
        )
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        paid_at=paid_at or clock.today(),
        method=method,
        reference=reference,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    invoice.amount_paid += amount
    invoice.status = (
        InvoiceStatus.PAID if invoice.amount_paid == invoice.total else InvoiceStatus.PARTIALLY_PAID
    )
    invoice.save(update_fields=["amount_paid", "status", "updated_at"])
    events.emit(
        "sales.payment_received",
        aggregate=invoice.order,
        payload=order_payload(
            invoice.order,
            invoice=invoice_payload(invoice),
            payment={
                "payment_id": payment.pk,
                "amount": str(amount),
                "method": method,
                "reference": reference,
            },
        ),
    )
    return payment


@transaction.atomic
def credit_note_create(
    *, order: SalesOrder, lines: Sequence[tuple[OrderLine, Decimal]], reason: str = "", user: Any = None
) -> Invoice:
    """An issued credit note for quantities of order lines (a return, a goodwill gesture)."""
    order = _locked(order)
    rows = []
    for line, quantity in lines:
        if line.order_id != order.pk or quantity <= 0 or quantity > line.quantity:
            raise ValidationFailed(f"Cannot credit {formatting.number(quantity)} of line {line.pk}.")
        subtotal = round_money(line.line_subtotal * quantity / line.quantity, order.currency)
        tax = round_money(line.tax_amount * quantity / line.quantity, order.currency)
        rows.append(
            InvoiceLine(
                order_line=line,
                description=f"{line.product.sku} · {reason or 'credit'}"[:255],
                quantity=quantity,
                unit_price=line.unit_price,
                subtotal=subtotal,
                tax_amount=tax,
                total=subtotal + tax,
            )
        )
    if not rows:
        raise ValidationFailed("A credit note needs at least one line.")
    note = Invoice.objects.create(
        kind=InvoiceKind.CREDIT_NOTE,
        order=order,
        customer=order.customer,
        currency=order.currency,
        billing_address=order.billing_address,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    for row in rows:
        row.invoice = note
    InvoiceLine.objects.bulk_create(rows)
    _set_totals(note, rows)
    return invoice_issue(invoice=note, user=user)
