"""The sales order lifecycle: one explicit transition table.

draft -> confirmed -> partially shipped -> shipped -> closed
on hold from draft, confirmed or partially shipped, and back (release)
cancel from draft, confirmed or partially shipped (releases reservations)
"""

from __future__ import annotations

from erp.exceptions import InvalidTransition
from sales.models import OrderStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.SHIPPED: frozenset({S.CLOSED}),
    S.ON_HOLD: frozenset({S.DRAFT, S.CONFIRMED, S.PARTIALLY_SHIPPED}),  # release: back where it was
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

OPEN_STATUSES = frozenset({S.CONFIRMED, S.PARTIALLY_SHIPPED, S.ON_HOLD})
EDITABLE_STATUSES = frozenset({S.DRAFT})


def can(current: str, target: str) -> bool:
    return S(target) in TRANSITIONS[S(current)]


def check(current: str, target: str) -> None:
    """Refuse an illegal transition with an error naming both states."""
    if not can(current, target):
        raise InvalidTransition(document="sales order", current=current, target=target)


def allowed_actions(status: str, held_from: str = "") -> list[str]:
    """The buttons to show for an order in this state."""
    s = S(status)
    actions = []
    if S.CONFIRMED in TRANSITIONS[s] and s == S.DRAFT:
        actions.append("confirm")
    if s in (S.CONFIRMED, S.PARTIALLY_SHIPPED):
        actions.append("ship")
    if s in (S.CONFIRMED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CLOSED):
        actions.append("invoice")
    if S.ON_HOLD in TRANSITIONS[s]:
        actions.append("hold")
    if s == S.ON_HOLD:
        actions.append("release")
    if S.CLOSED in TRANSITIONS[s]:
        actions.append("close")
    if S.CANCELLED in TRANSITIONS[s]:
        actions.append("cancel")
    return actions
