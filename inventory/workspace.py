"""The figures inventory gives the role homes (erp.workspace): stock value, stock-outs, items below
their reorder point, transfers in transit, open counts, and the chart of the stock's value over time.

Reads only, in aggregate queries whatever the size of the catalogue or the ledger; every figure
links to the list (inventory.filters) that shows exactly what it counts.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Exists, Min, Q, Sum, When
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils import timezone

from erp import formatting
from erp.access import user_can
from erp.charts import Chart, Series
from erp.money import ZERO
from erp.workspace import Figure, FigureGroup, FigureProvider, count_text, link, per_request, register_figures
from inventory import replenishment, valuation
from inventory.filters import stocked_somewhere
from inventory.models import (
    CountSheet,
    CountStatus,
    Location,
    Product,
    ProductKind,
    StockMove,
    Transfer,
    TransferStatus,
)

VALUE_DAYS = 90
OURS = sorted(str(kind) for kind in valuation.OURS)


def stock_value() -> Decimal:
    """On hand x moving-average cost, every warehouse together (the valuation report's total)."""
    return sum((v.value for v in valuation.current_by_warehouse()), ZERO)


def stock_outs() -> int:
    """Active stocked products with nothing on any shelf: what ``?stock=out`` lists. One query."""
    return (
        Product.objects.filter(is_active=True, kind=ProductKind.STOCKED)
        .exclude(Exists(stocked_somewhere()))
        .count()
    )


def below_reorder_point() -> int:
    """Reorder rules whose projected quantity is under their minimum: the replenishment page's list
    (counted without reading the drafts, which never change whether a rule is listed)."""
    return replenishment.below_minimum_count()


def _stock(request: HttpRequest) -> FigureGroup:
    value = per_request(request, "inventory.stock_value", stock_value)
    outs = per_request(request, "inventory.stock_outs", stock_outs)
    below = per_request(request, "inventory.below_reorder_point", below_reorder_point)
    currency = settings.ERP_BASE_CURRENCY
    return FigureGroup(
        "Stock",
        figures=(
            Figure(
                "Stock value",
                formatting.money(value, currency, total=True),
                link("inventory:valuation"),
                sub="on hand × average cost",
            ),
            Figure(
                "Stock-outs",
                count_text(outs),
                link("inventory:products", stock="out"),
                sub="active products, none on hand",
                tone="bad" if outs else "ok",
            ),
            Figure(
                "Below reorder point",
                count_text(below),
                link("inventory:replenishment"),
                sub="projected under the rule's minimum",
                tone="warn" if below else "ok",
            ),
        ),
    )


def stock_work() -> dict[str, Any]:
    """Transfers in transit, and count sheets being counted (with the oldest start). Two queries."""
    transfers = Transfer.objects.filter(status=TransferStatus.IN_TRANSIT).order_by().count()
    counts = (
        CountSheet.objects.filter(status=CountStatus.OPEN)
        .order_by()
        .aggregate(n=Count("pk"), oldest=Min("created_at"))
    )
    return {"in_transit": transfers, "counts": counts["n"], "oldest_count": counts["oldest"]}


def _warehouse_stock(request: HttpRequest) -> FigureGroup:
    work = stock_work()
    oldest = timezone.localtime(work["oldest_count"]) if work["oldest_count"] else None
    return FigureGroup(
        "Transfers and counts",
        figures=(
            Figure(
                "Transfers in transit",
                count_text(work["in_transit"]),
                link("inventory:transfer"),
                sub="shipped, to receive",
                tone="warn" if work["in_transit"] else "",
            ),
            Figure(
                "Counts open",
                count_text(work["counts"]),
                link("inventory:counts", status=CountStatus.OPEN),
                # "Dec 6", as the charts and the other figures write a day (not "Dec 06")
                sub=f"oldest started {oldest:%b} {oldest.day}" if oldest else "none being counted",
            ),
            Figure(
                "Stock-outs",
                count_text(per_request(request, "inventory.stock_outs", stock_outs)),
                link("inventory:products", stock="out"),
                sub="active products, none on hand",
            ),
        ),
    )


def value_over_time(days: int = VALUE_DAYS, today_value: Decimal | None = None) -> Chart:
    """The stock's value at the end of each of the last ``days`` days: today's value (on hand x
    average cost) less the net value that came into our stock (internal and transit locations)
    on each later day, as the ledger's moves carried it. One grouped query over the moves of the
    period (the indexed created_at), plus today's value when not given."""
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(
        datetime.datetime.combine(first + datetime.timedelta(days=1), datetime.time.min)
    )
    # Only the moves that cross the edge of our stock, each signed (+ in, - out) and summed once per
    # day; our locations are a hashed subquery rather than two joins per move. Half the time of two
    # filtered sums over the joined locations, whose grouping spilled its sort to disk (52,000 moves).
    ours = Location.objects.filter(kind__in=OURS).values("pk")
    into, out_of = Q(to_location__in=ours), Q(from_location__in=ours)
    rows = (
        StockMove.objects.filter(created_at__gte=start)
        .filter((into & ~out_of) | (out_of & ~into))
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(net=Sum(Case(When(into, then=valuation.VALUE), default=-valuation.VALUE)))
        .order_by()
    )
    net = {r["day"]: r["net"] or ZERO for r in rows}
    value = stock_value() if today_value is None else today_value
    dates = [first + datetime.timedelta(days=i) for i in range(days)]
    values: list[Decimal] = []
    for day in reversed(dates):  # the end of a day: today's value less what came in on later days
        values.append(value.quantize(Decimal("0.01")))
        value -= net.get(day, ZERO)
    values.reverse()
    currency = settings.ERP_BASE_CURRENCY
    return Chart(
        key="stock-value",
        title=f"Stock value, last {days} days",
        kind="line",
        labels=[f"{d:%b} {d.day}" for d in dates],
        series=[Series("Stock value", values)],
        caption="At each day's end: today's value less what the ledger's moves brought in later, at cost.",
        unit=currency,
        fmt=lambda v: formatting.money(v, currency, total=True),
        label_every=15,
    )


def _value_chart(request: HttpRequest) -> FigureGroup:
    value = per_request(request, "inventory.stock_value", stock_value)
    return FigureGroup("Stock value over time", charts=(value_over_time(today_value=value),))


def _guarded(compute: Any) -> Any:
    def guarded(request: HttpRequest) -> FigureGroup | None:
        return compute(request) if user_can(request.user, "inventory", "read") else None

    return guarded


def register() -> None:
    for provider in (
        FigureProvider("inventory.stock", ("operations",), 20, _guarded(_stock)),
        FigureProvider("inventory.work", ("warehouse",), 20, _guarded(_warehouse_stock)),
        FigureProvider("inventory.value", ("operations", "accounting"), 64, _guarded(_value_chart)),
    ):
        register_figures(provider)


register()
