"""The manufacturing order lifecycle: one explicit transition table.

draft -> confirmed (components reserved) -> in progress -> done
cancel from draft, confirmed or in progress (releases reservations)
"""

from __future__ import annotations

from erp.exceptions import InvalidTransition
from manufacturing.models import MOStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.IN_PROGRESS, S.DONE, S.CANCELLED}),
    S.DONE: frozenset(),
    S.CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset({S.DRAFT, S.CONFIRMED, S.IN_PROGRESS})


def check(current: str, target: str) -> None:
    if S(target) not in TRANSITIONS[S(current)]:
        raise InvalidTransition(document="manufacturing order", current=current, target=target)


def allowed_actions(status: str) -> list[str]:
    s = S(status)
    names = {S.CONFIRMED: "confirm", S.IN_PROGRESS: "start", S.DONE: "finish", S.CANCELLED: "cancel"}
    actions = [names[t] for t in (S.CONFIRMED, S.IN_PROGRESS) if t in TRANSITIONS[s] and t != s]
    if s in (S.CONFIRMED, S.IN_PROGRESS):
        actions.append("produce")
    actions += [names[t] for t in (S.DONE, S.CANCELLED) if t in TRANSITIONS[s]]
    return actions
