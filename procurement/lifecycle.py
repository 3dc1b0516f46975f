"""The purchase order lifecycle: one explicit transition table.

draft -> sent -> partially received -> received -> closed
cancel from draft, or from sent while nothing is received
a partially received order may be closed short
"""

from __future__ import annotations

from erp.exceptions import InvalidTransition
from procurement.models import PurchaseOrderStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED}),
    S.PARTIALLY_RECEIVED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CLOSED}),
    S.RECEIVED: frozenset({S.RECEIVED, S.CLOSED}),  # an over-receipt within tolerance stays received
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

OPEN_STATUSES = frozenset({S.SENT, S.PARTIALLY_RECEIVED})


def can(current: str, target: str) -> bool:
    return S(target) in TRANSITIONS[S(current)]


def check(current: str, target: str) -> None:
    if not can(current, target):
        raise InvalidTransition(document="purchase order", current=current, target=target)


def allowed_actions(status: str, *, needs_approval: bool = False, approved: bool = False) -> list[str]:
    s = S(status)
    actions = []
    if s == S.DRAFT and needs_approval and not approved:
        actions.append("approve")
    if S.SENT in TRANSITIONS[s]:
        actions.append("send")
    if s in OPEN_STATUSES:
        actions.append("receive")
    if s in (S.PARTIALLY_RECEIVED, S.RECEIVED, S.CLOSED):
        actions.append("bill")
    if S.CLOSED in TRANSITIONS[s]:
        actions.append("close")
    if S.CANCELLED in TRANSITIONS[s]:
        actions.append("cancel")
    return actions
