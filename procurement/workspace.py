"""The figures procurement gives the role homes (erp.workspace): purchase orders due this week and
late, what to receive today, orders waiting for approval, replenishment suggestions, and the
payables ageing.

Reads only, in aggregate queries whatever the number of orders; every figure links to the list
(procurement.filters) that shows exactly what it counts.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest
from django.utils import timezone

from erp.access import user_can
from erp.workspace import (
    AGEING,
    Figure,
    FigureGroup,
    FigureProvider,
    ageing_bucket,
    ageing_table,
    count_text,
    link,
    per_request,
    register_figures,
)
from inventory import replenishment
from procurement.filters import OPEN, UNPAID_BILL_STATUSES
from procurement.lifecycle import OPEN_STATUSES
from procurement.models import Bill, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from procurement.thresholds import above_threshold, described, in_short


def purchase_figures(today: datetime.date | None = None) -> dict[str, Any]:
    """Open purchase orders due by today (to receive), due from today to Sunday, late (expected
    before today), and drafts waiting for approval. One query."""
    today = today or timezone.localdate()
    sunday = today + datetime.timedelta(days=6 - today.weekday())
    is_open = Q(status__in=OPEN_STATUSES)
    counts: dict[str, Any] = PurchaseOrder.objects.order_by().aggregate(
        due_today=Count("pk", filter=is_open & Q(expected_date__lte=today)),
        due_week=Count("pk", filter=is_open & Q(expected_date__gte=today, expected_date__lte=sunday)),
        late=Count("pk", filter=is_open & Q(expected_date__lt=today)),
        needs_approval=Count(
            "pk",
            filter=Q(above_threshold(), status=PurchaseOrderStatus.DRAFT, approved_at__isnull=True),
        ),
    )
    return {**counts, "today": today, "sunday": sunday, "yesterday": today - datetime.timedelta(days=1)}


def lines_to_receive(today: datetime.date | None = None) -> int:
    """Lines still to receive (not all received) on open orders expected by today. One query."""
    today = today or timezone.localdate()
    return PurchaseOrderLine.objects.filter(
        order__status__in=OPEN_STATUSES, order__expected_date__lte=today, quantity__gt=F("quantity_received")
    ).count()


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def _late_figure(f: dict[str, Any]) -> Figure:
    return Figure(
        "Late deliveries",
        count_text(f["late"]),
        link("procurement:orders", status=OPEN, expected_before=f["yesterday"].isoformat()),
        sub="open, expected before today",
        tone="bad" if f["late"] else "ok",
    )


def _operations(request: HttpRequest) -> FigureGroup:
    f = per_request(request, "procurement.figures", purchase_figures)
    return FigureGroup(
        "Purchasing",
        figures=(
            Figure(
                "POs due this week",
                count_text(f["due_week"]),
                link(
                    "procurement:orders",
                    status=OPEN,
                    expected_after=f["today"].isoformat(),
                    expected_before=f["sunday"].isoformat(),
                ),
                sub=f"expected today to {f['sunday']:%a %b} {f['sunday'].day}",
            ),
            _late_figure(f),
        ),
    )


def _warehouse(request: HttpRequest) -> FigureGroup:
    f = per_request(request, "procurement.figures", purchase_figures)
    lines = lines_to_receive(f["today"])
    return FigureGroup(
        "Receive",
        figures=(
            Figure(
                "To receive today",
                count_text(f["due_today"]),
                link("procurement:orders", status=OPEN, expected_before=f["today"].isoformat()),
                sub=f"{_plural(f['due_today'], 'order')} · {lines} {_plural(lines, 'line')} due",
            ),
            _late_figure(f),
        ),
        link=("Receive", link("procurement:receive")),
    )


def _purchasing(request: HttpRequest) -> FigureGroup:
    f = per_request(request, "procurement.figures", purchase_figures)
    # The same count as the operations home's "below reorder point": computed once per page.
    suggestions = per_request(request, "inventory.below_reorder_point", replenishment.below_minimum_count)
    return FigureGroup(
        "Purchasing",
        figures=(
            Figure(
                "Replenishment suggestions",
                count_text(suggestions),
                link("procurement:replenishment"),
                sub="below minimum, to order",
                tone="warn" if suggestions else "ok",
            ),
            Figure(
                "Waiting for approval",
                count_text(f["needs_approval"]),
                link("procurement:orders", needs_approval="true"),
                sub=f"drafts over {in_short()}",
                title=f"Approval thresholds: {described()}; a currency without one: every draft",
                tone="warn" if f["needs_approval"] else "",
            ),
            _late_figure(f),
            Figure(
                "Due this week",
                count_text(f["due_week"]),
                link(
                    "procurement:orders",
                    status=OPEN,
                    expected_after=f["today"].isoformat(),
                    expected_before=f["sunday"].isoformat(),
                ),
                sub="open, expected by Sunday",
            ),
        ),
    )


def payables_ageing(today: datetime.date | None = None) -> list[dict[str, Any]]:
    """What is unpaid on bills (open, partly paid, under review), per currency, by days overdue.
    One query."""
    today = today or timezone.localdate()
    balance = F("total") - F("amount_paid")
    aggregates: dict[str, Any] = {}
    for i, (_, low, high) in enumerate(AGEING):
        bucket = ageing_bucket(today, low, high)
        aggregates[f"a{i}"] = Sum(balance, filter=bucket)
        aggregates[f"n{i}"] = Count("pk", filter=bucket)
    return list(
        Bill.objects.filter(status__in=UNPAID_BILL_STATUSES)
        .order_by()
        .values("currency")
        .annotate(**aggregates)
        .order_by("currency")
    )


def _payables(request: HttpRequest) -> FigureGroup:
    today = timezone.localdate()
    return FigureGroup(
        "Payables ageing",
        note="Unpaid on supplier bills, by days past their due date.",
        table=ageing_table(payables_ageing(today), "procurement:bills", {"unpaid": "true"}, today),
        link=("Bills", link("procurement:bills", unpaid="true")),
    )


def _guarded(compute: Any) -> Any:
    def guarded(request: HttpRequest) -> FigureGroup | None:
        return compute(request) if user_can(request.user, "procurement", "read") else None

    return guarded


def register() -> None:
    for provider in (
        FigureProvider("procurement.operations", ("operations",), 30, _guarded(_operations)),
        FigureProvider("procurement.receive", ("warehouse",), 10, _guarded(_warehouse)),
        FigureProvider("procurement.desk", ("purchasing",), 10, _guarded(_purchasing)),
        FigureProvider("procurement.payables", ("accounting",), 20, _guarded(_payables)),
    ):
        register_figures(provider)


register()
