"""Returns: lines against shipped lines, received back into stock or scrapped, credited and refunded."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum

from erp import clock, events, formatting
from erp.exceptions import InvalidTransition, ValidationFailed
from erp.money import ZERO, quantize_money, quantize_quantity
from erp.numbering import next_number
from inventory.models import LocationKind
from inventory.services import Document, stock_receive, stock_scrap, warehouse_default_location
from sales.models import (
    InvoiceStatus,
    OrderLine,
    Refund,
    ReturnDisposition,
    ReturnLine,
    ReturnStatus,
    SalesOrder,
    SalesReturn,
)
from sales.services.billing import credit_note_create, invoice_payload
from sales.services.orders import _actor, _locked, order_payload


@dataclass(frozen=True)
class ReturnLineSpec:
    line: OrderLine
    quantity: Decimal | str | int
    disposition: str = ReturnDisposition.RESTOCK
    reason: str = ""


@transaction.atomic
def return_create(
    *, order: SalesOrder, lines: Sequence[ReturnLineSpec], reason: str = "", user: Any = None
) -> SalesReturn:
    """Announce a return (an RMA) of shipped quantities."""
    order = _locked(order)
    if not lines:
        raise ValidationFailed("A return needs at least one line.", field_errors={"lines": ["Required."]})
    pending = {
        r["order_line_id"]: r["q"]
        for r in ReturnLine.objects.filter(sales_return__order=order, sales_return__status=ReturnStatus.OPEN)
        .values("order_line_id")
        .annotate(q=Sum("quantity"))
    }
    rows = []
    for spec in lines:
        line = spec.line
        quantity = quantize_quantity(spec.quantity)
        returnable = line.quantity_shipped - line.quantity_returned - pending.get(line.pk, ZERO)
        if line.order_id != order.pk:
            raise ValidationFailed(f"Line {line.pk} is not a line of {order.number}.")
        if quantity <= 0 or quantity > returnable:
            raise ValidationFailed(
                f"{line.product.sku}: {formatting.number(quantity)} to return, but "
                f"{formatting.number(returnable)} can be "
                "(shipped, less what is returned or announced).",
                field_errors={f"line {line.position}": ["Too many."]},
            )
        if spec.disposition not in ReturnDisposition.values:
            raise ValidationFailed(f"Disposition is one of: {', '.join(ReturnDisposition.values)}.")
        pending[line.pk] = pending.get(line.pk, ZERO) + quantity
        rows.append(
            ReturnLine(order_line=line, quantity=quantity, disposition=spec.disposition, reason=spec.reason)
        )
    sales_return = SalesReturn.objects.create(
        number=next_number("sales.return", prefix="RMA-"),
        order=order,
        reason=reason,
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    for row in rows:
        row.sales_return = sales_return
    ReturnLine.objects.bulk_create(rows)
    return sales_return


@transaction.atomic
def return_receive(*, sales_return: SalesReturn, user: Any = None) -> SalesReturn:
    """The goods are back: restock or scrap each line, and issue the credit note."""
    sales_return = SalesReturn.objects.select_for_update().get(pk=sales_return.pk)
    if sales_return.status != ReturnStatus.OPEN:
        raise InvalidTransition(document="return", current=sales_return.status, target=ReturnStatus.RECEIVED)
    order = _locked(sales_return.order)
    location = warehouse_default_location(order.channel.warehouse)
    document = Document("sales.return", sales_return.pk, sales_return.number)
    lines = list(sales_return.lines.select_related("order_line__product__stock_unit"))
    for row in lines:
        product = row.order_line.product
        if row.order_line.uses_our_stock:  # a marketplace line goes back to the marketplace's stock
            stock_receive(
                product=product,
                location=location,
                quantity=row.quantity,
                source=LocationKind.CUSTOMER,
                document=document,
                reason=row.reason or sales_return.reason,
                user=user,
            )
            if row.disposition == ReturnDisposition.SCRAP:
                stock_scrap(
                    product=product,
                    location=location,
                    quantity=row.quantity,
                    reason=f"returned: {row.reason or sales_return.reason or 'not resellable'}",
                    document=document,
                    user=user,
                )
        OrderLine.objects.filter(pk=row.order_line_id).update(
            quantity_returned=F("quantity_returned") + row.quantity
        )
    note = credit_note_create(
        order=order,
        lines=[(row.order_line, row.quantity) for row in lines],
        reason=f"return {sales_return.number}",
        user=user,
    )
    sales_return.status = ReturnStatus.RECEIVED
    sales_return.received_at = clock.now()
    sales_return.credit_note = note
    sales_return.updated_by = _actor(user)
    sales_return.save()
    events.emit(
        "sales.return_received",
        aggregate=order,
        payload=order_payload(
            order,
            return_id=sales_return.pk,
            return_number=sales_return.number,
            credit_note=note.number,
            credit_total=str(note.total),
            lines=[
                {"sku": r.order_line.product.sku, "quantity": str(r.quantity), "disposition": r.disposition}
                for r in lines
            ],
        ),
    )
    return sales_return


@transaction.atomic
def refund_record(
    *,
    sales_return: SalesReturn,
    amount: Decimal | str | int | None = None,
    method: str = "",
    reference: str = "",
    refunded_at: datetime.date | None = None,
    user: Any = None,
) -> Refund:
    """Money paid back against the return's credit note (all that is left of it by default)."""
    sales_return = (
        SalesReturn.objects.select_for_update(of=("self",))
        .select_related("credit_note")
        .get(pk=sales_return.pk)
    )
    note = sales_return.credit_note
    if note is None:
        raise ValidationFailed(f"Return {sales_return.number} has no credit note yet: receive it first.")
    left = note.total - note.amount_paid
    amount = left if amount is None else quantize_money(amount)
    if amount <= 0 or amount > left:
        raise ValidationFailed(
            f"A refund is between 0 and {formatting.money(left, note.currency)}, not "
            f"{formatting.money(amount, note.currency)}.",
            field_errors={"amount": ["Out of range."]},
        )
    refund = Refund.objects.create(
        sales_return=sales_return,
        credit_note=note,
        amount=amount,
        method=method,
        reference=reference,
        refunded_at=refunded_at or clock.today(),
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    note.amount_paid += amount
    note.status = InvoiceStatus.PAID if note.amount_paid == note.total else InvoiceStatus.PARTIALLY_PAID
    note.save(update_fields=["amount_paid", "status", "updated_at"])
    events.emit(
        "sales.refund_recorded",
        aggregate=note.order,
        payload=order_payload(
            note.order,
            invoice=invoice_payload(note),
            refund={"refund_id": refund.pk, "amount": str(amount), "method": method, "reference": reference},
        ),
    )
    return refund
