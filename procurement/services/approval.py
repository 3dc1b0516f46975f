"""Asking for a purchase order's approval: a buyer without the right asks, the purchasing
managers are told (erp.notifications); their approval (services.orders.po_approve) tells the buyer.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from erp import events
from erp.access import user_can, user_has_right
from erp.exceptions import InvalidTransition, ValidationFailed
from procurement.models import PurchaseOrder, PurchaseOrderStatus
from procurement.services.approval_notify import REQUESTED, approvers_notify
from procurement.services.orders import _locked, po_payload
from procurement.thresholds import needs_approval

MAX_NOTE = 500


@transaction.atomic
def po_approval_request(*, po: PurchaseOrder, user: Any, note: str = "") -> PurchaseOrder:
    """Ask the purchasing managers to approve a draft above the threshold.

    Refused, nothing changed: not a draft, no approval needed, already approved, a requester who
    cannot write procurement, or one who can approve it themself.
    """
    po = _locked(po)
    if po.status != PurchaseOrderStatus.DRAFT:
        raise InvalidTransition(document="purchase order", current=po.status, target="approval requested")
    if not needs_approval(po):
        raise ValidationFailed(f"{po.number} is within the approval threshold: it can be sent as it is.")
    if po.approved_at is not None:
        raise ValidationFailed(f"{po.number} is already approved: it can be sent.")
    if not user_can(user, "procurement", "write"):
        raise ValidationFailed("Asking for an approval needs the right to write purchase orders.")
    if user_has_right(user, "procurement_approve"):
        raise ValidationFailed(f"You can approve {po.number} yourself.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"The note is at most {MAX_NOTE} characters.")
    events.emit(
        REQUESTED,
        aggregate=po,
        payload=po_payload(po, requested_by=user.get_username(), requested_by_id=user.pk, note=note),
    )
    approvers_notify(po, requester=user, note=note)
    return po
