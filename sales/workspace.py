"""The figures sales gives the role homes (erp.workspace): sales by channel, orders to ship and late,
backorders, what waits to ship today, open orders, overdue invoices, top customers, receivables
ageing, and the charts of sales per day and of on-time shipping.

Reads only, each group in one or two aggregate queries whatever the number of orders; every figure
links to the list (sales.filters) that shows exactly what it counts.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.http import HttpRequest
from django.utils import timezone

from erp import formatting
from erp.access import user_can
from erp.charts import Chart, Series
from erp.workspace import (
    AGEING,
    Cell,
    Figure,
    FigureGroup,
    FigureProvider,
    Table,
    ageing_bucket,
    ageing_table,
    count_text,
    link,
    per_request,
    register_figures,
)
from inventory.models import Product, ProductKind, Reservation, ReservationStatus
from sales import selectors
from sales.filters import (
    NOT_BOOKED,
    OPEN_INVOICE_STATUSES,
    SHIP_WITHIN_DAYS,
    TO_SHIP,
    late_cutoff,
)
from sales.lifecycle import OPEN_STATUSES
from sales.models import FulfilledBy, Invoice, InvoiceKind, OrderLine, OrderStatus, SalesOrder

SALES_DAYS = 30
ONTIME_WEEKS = 8
TOP_CUSTOMERS = 5


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def booked_orders() -> Any:
    return SalesOrder.objects.exclude(status__in=NOT_BOOKED).order_by()


# --- operations: sales by channel, orders to ship ------------------------------------------------


def sales_by_channel(today: datetime.date | None = None) -> list[dict[str, Any]]:
    """Booked orders today and this week (from Monday), per channel and currency: money and count.
    One query."""
    today = today or timezone.localdate()
    day, week = _start_of(today), _start_of(today - datetime.timedelta(days=today.weekday()))
    rows = (
        booked_orders()
        .filter(order_date__gte=week)
        .values("channel_id", "channel__name", "currency")
        .annotate(
            today_total=Sum("total", filter=Q(order_date__gte=day)),
            today_count=Count("pk", filter=Q(order_date__gte=day)),
            week_total=Sum("total"),
            week_count=Count("pk"),
        )
        .order_by("-week_count", "channel__name", "currency")
    )
    return [{**r, "day_start": day, "week_start": week} for r in rows]


def shipping_figures() -> dict[str, int]:
    """Orders to ship and of them late (one query on the orders), then, from their open lines in one
    pass (``open_line_figures``), the orders waiting for stock and what is ready to ship. Two queries
    whatever the number of orders: the home of the operations manager and the warehouse's share them."""
    counts: dict[str, int] = SalesOrder.objects.filter(status__in=TO_SHIP).aggregate(
        to_ship=Count("pk"), late=Count("pk", filter=Q(order_date__lt=late_cutoff()))
    )
    return {**counts, **open_line_figures()}


def open_line_figures() -> dict[str, int]:
    """Over the open lines (not all shipped) of the orders to ship: the orders with a line waiting for
    stock (``sales.filters.backordered_lines``: a line that takes our stock with less held for it than
    is still to ship), and the orders and lines with stock held (``selectors.ready_to_ship``). One
    query: what is held per line is summed once over the active reservations and joined, where a
    subquery per line cost 150 ms at 15,000 orders to ship (bench/scenarios/home_figures.py)."""
    line, order, product = OrderLine._meta, SalesOrder._meta, Product._meta
    reservation = Reservation._meta
    sql = f"""
        SELECT
            COUNT(DISTINCT CASE WHEN p.kind = %s AND l.fulfilled_by = %s
                AND COALESCE(r.held, 0) < l.quantity - l.quantity_shipped THEN l.order_id END),
            COUNT(DISTINCT CASE WHEN r.demand_pk IS NOT NULL THEN l.order_id END),
            COUNT(r.demand_pk)
        FROM {line.db_table} l
        INNER JOIN {order.db_table} o ON o.id = l.order_id
        INNER JOIN {product.db_table} p ON p.id = l.product_id
        LEFT JOIN (
            SELECT demand_pk, SUM(quantity) AS held FROM {reservation.db_table}
            WHERE demand_type = %s AND status = %s GROUP BY demand_pk
        ) r ON r.demand_pk = l.id
        WHERE o.status IN (%s, %s) AND l.quantity > l.quantity_shipped
    """
    params = [
        ProductKind.STOCKED,
        FulfilledBy.MERCHANT,
        line.label_lower,
        ReservationStatus.ACTIVE,
        *TO_SHIP,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        backordered, ready_orders, ready_lines = cursor.fetchone()
    return {"backordered": backordered, "ready_orders": ready_orders, "ready_lines": ready_lines}


def _operations_sales(request: HttpRequest) -> FigureGroup:
    rows = sales_by_channel()
    cells = []
    for r in rows:
        base = {"booked": "true", "channel": r["channel_id"]}
        cells.append(
            (
                Cell(r["channel__name"], title=r["channel__name"]),
                Cell(
                    count_text(r["today_count"]),
                    link("sales:orders", since=_iso(r["day_start"]), **base) if r["today_count"] else "",
                ),
                Cell(formatting.money(r["today_total"] or 0, r["currency"], total=True)),
                Cell(count_text(r["week_count"]), link("sales:orders", since=_iso(r["week_start"]), **base)),
                Cell(formatting.money(r["week_total"] or 0, r["currency"], total=True)),
            )
        )
    ship = per_request(request, "sales.shipping", shipping_figures)
    figures = (
        Figure(
            "Orders to ship",
            count_text(ship["to_ship"]),
            link("sales:orders", to_ship="true"),
            sub="confirmed or partly shipped",
        ),
        Figure(
            "Late to ship",
            count_text(ship["late"]),
            link("sales:orders", late="true"),
            sub=f"waiting over {SHIP_WITHIN_DAYS} days",
            tone="bad" if ship["late"] else "ok",
            title=f"Orders to ship ordered before {late_cutoff():%Y-%m-%d}",
        ),
        Figure(
            "Backorders",
            count_text(ship["backordered"]),
            link("sales:orders", backordered="true"),
            sub="orders with a line waiting for stock",
            tone="warn" if ship["backordered"] else "ok",
        ),
    )
    table = Table(
        headers=("Channel", "Orders today", "Sales today", "Orders this week", "Sales this week"),
        rows=tuple(cells),
        numeric=(1, 2, 3, 4),
        empty="No orders this week yet.",
    )
    return FigureGroup(
        "Sales and shipping", figures=figures, table=table, link=("All orders", link("sales:orders"))
    )


# --- warehouse: pick and ship today ---------------------------------------------------------------


def _warehouse_ship(request: HttpRequest) -> FigureGroup:
    ship = per_request(request, "sales.shipping", shipping_figures)
    orders, lines = ship["ready_orders"], ship["ready_lines"]
    return FigureGroup(
        "Pick and ship",
        figures=(
            Figure(
                "Ready to ship",
                count_text(orders),
                link("sales:fulfilment"),
                sub=f"{_plural(orders, 'order')} · {lines} {_plural(lines, 'line')} with stock held",
            ),
            Figure(
                "Late to ship",
                count_text(ship["late"]),
                link("sales:orders", late="true"),
                sub=f"waiting over {SHIP_WITHIN_DAYS} days",
                tone="bad" if ship["late"] else "ok",
            ),
            Figure(
                "Waiting for stock",
                count_text(ship["backordered"]),
                link("sales:orders", backordered="true"),
                sub="orders with a line backordered",
                tone="warn" if ship["backordered"] else "ok",
            ),
        ),
    )


# --- sales: open orders, overdue invoices, top customers ------------------------------------------


def top_customers(days: int = SALES_DAYS, limit: int = TOP_CUSTOMERS) -> list[dict[str, Any]]:
    """The customers who booked the most over the last ``days`` days, per currency. One query."""
    since = _start_of(timezone.localdate() - datetime.timedelta(days=days - 1))
    rows = (
        booked_orders()
        .filter(order_date__gte=since)
        .values("customer_id", "customer__name", "currency")
        .annotate(total=Sum("total"), orders=Count("pk"))
        .order_by("-total", "customer__name")[:limit]
    )
    return [{**r, "since": since} for r in rows]


def _sales_desk(request: HttpRequest) -> FigureGroup:
    # Only the open and draft orders are read (the status index), never the whole history.
    counts = SalesOrder.objects.filter(status__in=[*OPEN_STATUSES, OrderStatus.DRAFT]).aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        drafts=Count("pk", filter=Q(status=OrderStatus.DRAFT)),
    )
    money = selectors.receivables()
    overdue_count = sum(r["overdue_count"] for r in money)
    overdue_text = " · ".join(
        formatting.money(r["overdue"], r["currency"], total=True) for r in money if r["overdue"]
    )
    customers = top_customers()
    rows = tuple(
        (
            Cell(c["customer__name"], link("sales:customer", c["customer_id"]), title=c["customer__name"]),
            Cell(
                count_text(c["orders"]),
                link("sales:orders", customer=c["customer_id"], booked="true", since=_iso(c["since"])),
            ),
            Cell(formatting.money(c["total"], c["currency"], total=True)),
        )
        for c in customers
    )
    return FigureGroup(
        "Orders and invoices",
        figures=(
            Figure(
                "Open orders",
                count_text(counts["open"]),
                link("sales:orders", status="open"),
                sub="confirmed, part shipped or on hold",
            ),
            Figure("Drafts to confirm", count_text(counts["drafts"]), link("sales:orders", status="draft")),
            Figure(
                "Overdue invoices",
                count_text(overdue_count),
                link("sales:invoices", overdue="true", kind="invoice"),
                sub=overdue_text or "nothing overdue",
                tone="bad" if overdue_count else "ok",
            ),
        ),
        table=Table(
            headers=(f"Top customers, last {SALES_DAYS} days", "Orders", "Booked"),
            rows=rows,
            numeric=(1, 2),
            empty=f"No orders in the last {SALES_DAYS} days.",
        ),
    )


# --- accounting: receivables ageing ---------------------------------------------------------------


def receivables_ageing(today: datetime.date | None = None) -> list[dict[str, Any]]:
    """What is open on issued invoices, per currency, by days overdue: current (not due yet, or no due
    date), 1–30, 31–60, 61–90, 90+. One query."""
    today = today or timezone.localdate()
    balance = F("total") - F("amount_paid")
    aggregates: dict[str, Any] = {}
    for i, (_, low, high) in enumerate(AGEING):
        bucket = ageing_bucket(today, low, high)
        aggregates[f"a{i}"] = Sum(balance, filter=bucket)
        aggregates[f"n{i}"] = Count("pk", filter=bucket)
    rows = (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status__in=OPEN_INVOICE_STATUSES)
        .order_by()
        .values("currency")
        .annotate(**aggregates)
        .order_by("currency")
    )
    return list(rows)


def _receivables(request: HttpRequest) -> FigureGroup:
    today = timezone.localdate()
    table = ageing_table(
        receivables_ageing(today), "sales:invoices", {"open": "true", "kind": "invoice"}, today
    )
    return FigureGroup(
        "Receivables ageing",
        note="Open on issued invoices, by days past their due date.",
        table=table,
        link=("Invoices", link("sales:invoices", open="true", kind="invoice")),
    )


# --- charts ---------------------------------------------------------------------------------------


def _day_labels(days: list[datetime.date]) -> list[str]:
    return [f"{d:%b} {d.day}" for d in days]


def _money_in(currency: str) -> Callable[[int | float | Decimal], str]:
    return lambda value: formatting.money(value, currency, total=True)


def sales_per_day(days: int = SALES_DAYS) -> list[Chart]:
    """Booked orders per day and channel over the last ``days`` days: a stacked bar per day, one
    chart per currency sold in (most sold first; amounts in different currencies are never added
    up). One query. No sales: one empty chart in the base currency."""
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    # Grouped by the channel's id, its name carried as an aggregate: the planner hashes the orders
    # and sorts only the groups, where grouping by the name sorted every order of the month by text.
    # Two channels of one name still make one series (their sums are added below).
    rows = (
        booked_orders()
        .filter(order_date__gte=_start_of(first))
        .annotate(day=TruncDate("order_date"))
        .values("currency", "day", "channel_id")
        .annotate(total=Sum("total"), channel_name=Max("channel__name"))
        .order_by("currency", "channel_name", "day")
    )
    dates = [first + datetime.timedelta(days=i) for i in range(days)]
    per_currency: dict[str, dict[str, dict[datetime.date, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        per_day = per_currency[r["currency"]][r["channel_name"]]
        per_day[r["day"]] = per_day.get(r["day"], Decimal(0)) + (r["total"] or Decimal(0))
    if not per_currency:
        per_currency[settings.ERP_BASE_CURRENCY] = defaultdict(dict)
    sold = {
        c: sum((sum(v.values(), Decimal(0)) for v in ch.values()), Decimal(0))
        for c, ch in per_currency.items()
    }
    several = len(per_currency) > 1
    charts = []
    for currency in sorted(per_currency, key=lambda c: (-sold[c], c)):
        series = [
            Series(name, [values.get(d, Decimal(0)) for d in dates])
            for name, values in per_currency[currency].items()
        ]
        charts.append(
            Chart(
                key=f"sales-per-day-{currency.lower()}",
                title=f"Sales per day by channel, last {days} days" + (f", {currency}" if several else ""),
                kind="stacked",
                labels=_day_labels(dates),
                series=series or [Series("Sales", [Decimal(0)] * days)],
                caption=f"Booked orders (not draft or cancelled), in {currency}"
                + ("; each currency has its own chart." if several else "."),
                unit=currency,
                fmt=_money_in(currency),
            )
        )
    return charts


def ontime_shipping(weeks: int = ONTIME_WEEKS) -> Chart:
    """Per week of confirmation, the share of confirmed orders whose first shipment left within
    SHIP_WITHIN_DAYS days of the confirmation. One query."""
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    first = monday - datetime.timedelta(weeks=weeks - 1)
    # The first shipment left within the promise exactly when some shipment did: the orders of the
    # eight weeks (read from the (confirmed_at; id, status) index alone) joined to their shipments,
    # each order counted once. A join the planner costs low enough to run without JIT compilation,
    # where a subquery per order (41,000 at 100,000 orders) was costed, and compiled, per row.
    within = Q(shipments__shipped_at__lte=F("confirmed_at") + datetime.timedelta(days=SHIP_WITHIN_DAYS))
    rows = (
        SalesOrder.objects.filter(confirmed_at__gte=_start_of(first))
        .exclude(status="cancelled")
        .annotate(week=TruncWeek("confirmed_at"))
        .values("week")
        .annotate(orders=Count("pk", distinct=True), on_time=Count("pk", distinct=True, filter=within))
        .order_by("week")
    )
    found = {(r["week"].date() if isinstance(r["week"], datetime.datetime) else r["week"]): r for r in rows}
    weeks_list = [first + datetime.timedelta(weeks=i) for i in range(weeks)]
    shares = []
    for w in weeks_list:
        r = found.get(w)
        shares.append(Decimal(100 * r["on_time"]) / r["orders"] if r and r["orders"] else Decimal(0))
    return Chart(
        key="ontime-shipping",
        title=f"Shipped on time, per week, last {weeks} weeks",
        kind="bar",
        labels=[f"{w:%b} {w.day}" for w in weeks_list],
        series=[Series("On time", shares)],
        caption=(
            "Orders have no promised date: on time means the first shipment left within "
            f"{SHIP_WITHIN_DAYS} days of confirmation; weeks by confirmation date (this week is still open)."
        ),
        unit="%",
        fmt=lambda v: f"{float(v):.0f}%",
        max_value=100,
    )


def _sales_chart(request: HttpRequest) -> FigureGroup:
    return FigureGroup("Sales per day", charts=tuple(sales_per_day()))


def _shipping_chart(request: HttpRequest) -> FigureGroup:
    return FigureGroup("On-time shipping", charts=(ontime_shipping(),))


def _can_read_sales(request: HttpRequest) -> bool:
    return user_can(request.user, "sales", "read")


def _guarded(compute: Any) -> Any:
    def guarded(request: HttpRequest) -> FigureGroup | None:
        return compute(request) if _can_read_sales(request) else None

    return guarded


def register() -> None:
    for provider in (
        FigureProvider("sales.operations", ("operations",), 10, _guarded(_operations_sales)),
        FigureProvider("sales.per_day", ("operations", "sales"), 60, _guarded(_sales_chart)),
        FigureProvider("sales.ontime", ("operations", "warehouse"), 62, _guarded(_shipping_chart)),
        FigureProvider("sales.ship_today", ("warehouse",), 12, _guarded(_warehouse_ship)),
        FigureProvider("sales.desk", ("sales",), 10, _guarded(_sales_desk)),
        FigureProvider("sales.receivables", ("accounting",), 10, _guarded(_receivables)),
    ):
        register_figures(provider)


register()
