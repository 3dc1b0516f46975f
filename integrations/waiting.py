"""The hub's part of "waiting for you" (erp.waiting), for readers of integrations: per connection,
the quarantined events, the dead letters and the open drifts, each linking to its page filtered to
what waits. One query whatever the number of connections (their counters are subqueries).
"""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse

from erp.access import user_can
from erp.waiting import WaitingItem, WaitingSource, register
from integrations.models import DeliveryStatus, DriftStatus
from integrations.selectors import connection_list


def hub_items(request: HttpRequest) -> list[WaitingItem]:
    if not user_can(request.user, "integrations", "read"):
        return []
    connections = connection_list().filter(
        Q(quarantined__gt=0) | Q(dead_letters__gt=0) | Q(open_drifts__gt=0)
    )
    items: list[WaitingItem] = []
    for c in connections.order_by("name"):
        if c.quarantined:
            items.append(
                WaitingItem(
                    key=f"integrations.quarantine.{c.pk}",
                    title="Quarantined events",
                    count=c.quarantined,
                    url=reverse("integrations:connection-quarantine", args=[c.pk]),
                    action="Map and replay",
                    detail=f"{c.name}: events waiting for a product or a value to be mapped.",
                )
            )
        if c.dead_letters:
            items.append(
                WaitingItem(
                    key=f"integrations.dead-letters.{c.pk}",
                    title="Dead letters",
                    count=c.dead_letters,
                    url=reverse("integrations:connection-deliveries", args=[c.pk])
                    + f"?status={DeliveryStatus.DEAD}",
                    action="Retry",
                    detail=f"{c.name}: pushes that gave up after their retries.",
                )
            )
        if c.open_drifts:
            items.append(
                WaitingItem(
                    key=f"integrations.drifts.{c.pk}",
                    title="Drifts to resolve",
                    count=c.open_drifts,
                    url=reverse("integrations:connection-drifts", args=[c.pk])
                    + f"?status={DriftStatus.OPEN}",
                    action="Resolve",
                    detail=f"{c.name}: differences reconciliation found between the tool and here.",
                )
            )
    return items


register(WaitingSource("integrations.hub", 30, hub_items))
