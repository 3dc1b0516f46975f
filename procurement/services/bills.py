"""Supplier bills with a three-way match (ordered price x received quantity vs billed), and payments."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from erp import clock, events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_money, quantize_quantity, round_money
from erp.numbering import next_number
from procurement.models import (
    Bill,
    BillLine,
    BillStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    SupplierPayment,
)
from procurement.services.orders import _actor, _locked, po_payload


@dataclass(frozen=True)
class BillLineSpec:
    line: PurchaseOrderLine
    quantity: Decimal | str | int  # in purchase units
    unit_cost: Decimal | str | int  # as billed, per purchase unit


def three_way_match(
    line: PurchaseOrderLine, quantity: Decimal, unit_cost: Decimal, currency: str
) -> list[str]:
    """What does not match between the order (price), the receipts (quantity) and the bill."""
    issues = []
    billable = line.quantity_received - line.quantity_billed
    if quantity > billable:
        issues.append(
            f"{line.product.sku}: {formatting.number(quantity)} billed but "
            f"{formatting.number(billable)} received and not yet billed."
        )
    tolerance = line.unit_cost * settings.BILL_PRICE_TOLERANCE_PERCENT / 100
    if abs(unit_cost - line.unit_cost) > tolerance:
        issues.append(
            f"{line.product.sku}: billed at {formatting.money(unit_cost, currency)} per unit, "
            f"ordered at {formatting.money(line.unit_cost, currency)}."
        )
    expected = round_money(line.unit_cost * min(quantity, max(billable, ZERO)), currency)
    billed = round_money(unit_cost * quantity, currency)
    if not issues and billed != expected:
        issues.append(
            f"{line.product.sku}: billed {formatting.money(billed, currency)}, expected "
            f"{formatting.money(expected, currency)} (ordered price x received quantity)."
        )
    return issues


def bill_payload(bill: Bill) -> dict[str, Any]:
    return {
        "bill_id": bill.pk,
        "number": bill.number,
        "supplier_reference": bill.supplier_reference,
        "status": bill.status,
        "total": str(bill.total),
        "match_ok": bill.match_ok,
        "due_date": bill.due_date.isoformat(),
    }


@transaction.atomic
def bill_record(
    *,
    po: PurchaseOrder,
    supplier_reference: str,
    lines: Sequence[BillLineSpec],
    bill_date: datetime.date | None = None,
    user: Any = None,
) -> Bill:
    """Record the supplier's bill; mismatches put it in review instead of open for payment."""
    po = _locked(po)
    if po.status in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.CANCELLED):
        raise InvalidTransition(document="purchase order", current=po.status, target="billed")
    reference = supplier_reference.strip()
    if not reference:
        raise ValidationFailed(
            "Give the supplier's invoice number.", field_errors={"supplier_reference": ["Required."]}
        )
    if Bill.objects.filter(supplier=po.supplier, supplier_reference=reference).exists():
        raise ValidationFailed(
            f"Bill {reference} of {po.supplier} is recorded already.",
            field_errors={"supplier_reference": ["Duplicate."]},
        )
    if not lines:
        raise ValidationFailed("A bill needs at least one line.", field_errors={"lines": ["Required."]})
    own = {ln.pk: ln for ln in po.lines.select_for_update().select_related("product")}
    issues: list[str] = []
    rows = []
    for spec in lines:
        line = own.get(spec.line.pk)
        if line is None:
            raise ValidationFailed(f"Line {spec.line.pk} is not a line of {po.number}.")
        quantity, cost = quantize_quantity(spec.quantity), quantize_money(spec.unit_cost)
        if quantity <= 0 or cost < 0:
            raise ValidationFailed(
                f"{line.product.sku}: quantity must be positive and the cost not negative."
            )
        issues += three_way_match(line, quantity, cost, po.currency)
        subtotal = round_money(quantity * cost, po.currency)
        tax = round_money(subtotal * line.tax_rate, po.currency)
        rows.append(
            BillLine(
                order_line=line,
                quantity=quantity,
                unit_cost=cost,
                subtotal=subtotal,
                tax_amount=tax,
                total=subtotal + tax,
            )
        )
        PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity_billed=F("quantity_billed") + quantity)
        line.quantity_billed += quantity
    bill_date = bill_date or clock.today()
    bill = Bill.objects.create(
        number=next_number("procurement.bill", prefix="BILL-"),
        supplier=po.supplier,
        order=po,
        supplier_reference=reference,
        currency=po.currency,
        bill_date=bill_date,
        due_date=bill_date + datetime.timedelta(days=po.supplier.payment_terms_days),
        status=BillStatus.OPEN if not issues else BillStatus.NEEDS_REVIEW,
        match_ok=not issues,
        match_issues=issues,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    for row in rows:
        row.bill = bill
    BillLine.objects.bulk_create(rows)
    bill.subtotal = sum((r.subtotal for r in rows), ZERO)
    bill.tax_total = sum((r.tax_amount for r in rows), ZERO)
    bill.total = bill.subtotal + bill.tax_total
    bill.save(update_fields=["subtotal", "tax_total", "total", "updated_at"])
    events.emit("procurement.bill_recorded", aggregate=po, payload=po_payload(po, bill=bill_payload(bill)))
    return bill


def _locked_bill(bill: Bill) -> Bill:
    return Bill.objects.select_for_update(of=("self",)).select_related("order", "supplier").get(pk=bill.pk)


@transaction.atomic
def bill_approve(*, bill: Bill, note: str = "", user: Any = None) -> Bill:
    """Accept a bill whose match failed, after a person has reviewed it: announced as
    ``procurement.bill_approved`` (the payload of ``procurement.bill_recorded``), so what waits for
    accepted bills (the books) gets it now."""
    bill = _locked_bill(bill)
    if bill.status != BillStatus.NEEDS_REVIEW:
        raise InvalidTransition(document="bill", current=bill.status, target=BillStatus.OPEN)
    bill.status = BillStatus.OPEN
    bill.reviewed_by = _actor(user)
    bill.reviewed_at = clock.now()
    if note:
        bill.match_issues = [*bill.match_issues, f"Accepted: {note}"]
    bill.save()
    events.emit(
        "procurement.bill_approved",
        aggregate=bill.order,
        payload=po_payload(bill.order, bill=bill_payload(bill)),
    )
    return bill


@transaction.atomic
def bill_void(*, bill: Bill, user: Any = None) -> Bill:
    bill = _locked_bill(bill)
    if bill.status not in (BillStatus.NEEDS_REVIEW, BillStatus.OPEN) or bill.amount_paid > 0:
        raise InvalidTransition(document="bill", current=bill.status, target=BillStatus.VOID)
    for row in bill.lines.all():
        PurchaseOrderLine.objects.filter(pk=row.order_line_id).update(
            quantity_billed=F("quantity_billed") - row.quantity
        )
    bill.status = BillStatus.VOID
    bill.updated_by = _actor(user)
    bill.save()
    return bill


@transaction.atomic
def supplier_payment_record(
    *,
    bill: Bill,
    amount: Decimal | str | int,
    paid_at: datetime.date | None = None,
    method: str = "",
    reference: str = "",
    user: Any = None,
) -> SupplierPayment:
    """Money paid to the supplier against its bill (at most what is still due), announced as
    ``procurement.supplier_payment_recorded`` (the PO payload with the bill and the payment), so
    the books record it against the bill."""
    bill = _locked_bill(bill)
    amount = quantize_money(amount)
    if bill.status not in (BillStatus.OPEN, BillStatus.PARTIALLY_PAID):
        raise InvalidTransition(document="bill", current=bill.status, target=BillStatus.PAID)
    if amount <= 0 or amount > bill.balance:
        raise ValidationFailed(
            f"A payment is between 0 and {formatting.money(bill.balance, bill.currency)}, not "
            f"{formatting.money(amount, bill.currency)}.",
            field_errors={"amount": ["Out of range."]},
        )
    payment = SupplierPayment.objects.create(
        bill=bill,
        amount=amount,
        paid_at=paid_at or clock.today(),
        method=method,
        reference=reference,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    bill.amount_paid += amount
    bill.status = BillStatus.PAID if bill.amount_paid == bill.total else BillStatus.PARTIALLY_PAID
    bill.save(update_fields=["amount_paid", "status", "updated_at"])
    events.emit(
        "procurement.supplier_payment_recorded",
        aggregate=bill.order,
        payload=po_payload(
            bill.order,
            bill=bill_payload(bill),
            payment={
                "supplier_payment_id": payment.pk,
                "amount": str(amount),
                "method": method,
                "reference": reference,
            },
        ),
    )
    return payment
