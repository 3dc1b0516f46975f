"""The figures manufacturing gives the role homes (erp.workspace): orders by state, orders in
progress, and shortages (open orders with a component not all held for them).

Reads only, in aggregate queries whatever the number of orders; every figure links to the list
(manufacturing.filters) that shows exactly what it counts.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest

from erp.access import user_can
from erp.workspace import Figure, FigureGroup, FigureProvider, count_text, link, per_request, register_figures
from manufacturing import lifecycle
from manufacturing.models import ManufacturingOrder, MOStatus
from manufacturing.selectors import short_component_lines

STATES = (MOStatus.DRAFT, MOStatus.CONFIRMED, MOStatus.IN_PROGRESS)


def order_figures() -> dict[str, int]:
    """Orders per open state, and the open orders short of a component. One query."""
    short = Exists(short_component_lines().filter(order=OuterRef("pk")))
    aggregates: dict[str, Any] = {state.value: Count("pk", filter=Q(status=state)) for state in STATES}
    aggregates["short"] = Count("pk", filter=Q(short, status__in=lifecycle.OPEN_STATUSES))
    counts: dict[str, int] = ManufacturingOrder.objects.order_by().aggregate(**aggregates)
    return counts


def _production(request: HttpRequest) -> FigureGroup:
    counts = per_request(request, "manufacturing.orders", order_figures)
    figures = [
        Figure(
            f"MOs {state.label.lower()}",
            count_text(counts[state.value]),
            link("manufacturing:orders", status=state.value),
        )
        for state in STATES
    ]
    figures.append(
        Figure(
            "Short of components",
            count_text(counts["short"]),
            link("manufacturing:orders", short="true"),
            sub="open orders, a component not all held",
            tone="bad" if counts["short"] else "ok",
        )
    )
    return FigureGroup(
        "Manufacturing orders", figures=tuple(figures), link=("Plan (MRP)", link("manufacturing:mrp"))
    )


def _operations(request: HttpRequest) -> FigureGroup:
    counts = per_request(request, "manufacturing.orders", order_figures)
    return FigureGroup(
        "Production",
        figures=(
            Figure(
                "MOs in progress",
                count_text(counts[MOStatus.IN_PROGRESS.value]),
                link("manufacturing:orders", status=MOStatus.IN_PROGRESS.value),
            ),
            Figure(
                "Short of components",
                count_text(counts["short"]),
                link("manufacturing:orders", short="true"),
                sub="open orders",
                tone="bad" if counts["short"] else "ok",
            ),
        ),
    )


def _guarded(compute: Any) -> Any:
    def guarded(request: HttpRequest) -> FigureGroup | None:
        return compute(request) if user_can(request.user, "manufacturing", "read") else None

    return guarded


def register() -> None:
    for provider in (
        FigureProvider("manufacturing.operations", ("operations",), 40, _guarded(_operations)),
        FigureProvider("manufacturing.desk", ("production",), 10, _guarded(_production)),
    ):
        register_figures(provider)


register()
