"""Who hears about a purchase order's approval: the purchasing managers when a buyer asks for it,
the buyer who asked when it is approved.

The request is an event (``procurement.po_approval_requested``, naming the requester): the person
who asked last is read from it, so the order needs no column of its own for it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse

from erp import actor, notifications
from erp.formatting import money
from erp.models import OutboxEvent
from procurement.models import PurchaseOrder

REQUESTED = "procurement.po_approval_requested"


def approval_key(po: PurchaseOrder) -> str:
    return f"po-approval:{po.pk}"


def po_url(po: PurchaseOrder) -> str:
    return reverse("procurement:order", args=[po.pk])


def approvers_notify(po: PurchaseOrder, *, requester: Any, note: str = "") -> int:
    """Every active purchasing manager (the procurement_approve right) but the requester."""
    managers = notifications.users_with_right("procurement_approve").exclude(pk=requester.pk)
    total = money(po.total, po.currency)
    sent = notifications.notify(
        managers,
        kind="approval_requested",
        title=f"{actor.user_name(requester)} asks you to approve {po.number} ({total})",
        body=note or f"{po.number} to {po.supplier.name}: {total}, above the approval threshold.",
        url=po_url(po),
        key=approval_key(po),
    )
    return len(sent)


def last_requester(po: PurchaseOrder) -> Any:
    """The user who last asked for the order's approval (the request's payload names them), or None."""
    payload = (
        OutboxEvent.objects.filter(
            aggregate_type=po._meta.label_lower, aggregate_id=str(po.pk), topic=REQUESTED
        )
        .order_by("-sequence")
        .values_list("payload", flat=True)
        .first()
    )
    requester_id = payload.get("requested_by_id") if isinstance(payload, dict) else None
    if requester_id is None:
        return None
    return get_user_model()._default_manager.filter(pk=requester_id, is_active=True).first()


def requester_notify_approved(po: PurchaseOrder, *, approver: Any) -> int:
    requester = last_requester(po)
    if requester is None or requester.pk == approver.pk:
        return 0
    sent = notifications.notify(
        [requester],
        kind="approved",
        title=f"{po.number} is approved by {actor.user_name(approver)}: it can be sent",
        url=po_url(po),
        key=f"po-approved:{po.pk}",
    )
    return len(sent)
