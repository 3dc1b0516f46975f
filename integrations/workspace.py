"""The figures the hub gives the role homes (erp.workspace): the health of every connected tool
(ok / failing, dead letters, last sync), the books' sync status for accountants, and the chart of
sync volume and errors per tool.

Reads only: the connections and their health in five queries (integrations.health), the chart in
two grouped queries, whatever the number of events and deliveries.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.utils import timezone

from erp.access import user_can
from erp.charts import Chart, Series
from erp.workspace import (
    Cell,
    Figure,
    FigureGroup,
    FigureProvider,
    Table,
    count_text,
    link,
    per_request,
    register_figures,
)
from integrations import registry
from integrations.contract import Capability
from integrations.health import ConnectionHealth, connections_health
from integrations.models import Connection, Delivery, DeliveryStatus, InboundEvent, InboundStatus

SYNC_DAYS = 14
LEVEL_TEXT = {"ok": "OK", "warning": "Warning", "error": "Failing"}
LEVEL_TONE = {"ok": "ok", "warning": "warn", "error": "bad"}
FAILED_INBOUND = (InboundStatus.FAILED, InboundStatus.DEAD, InboundStatus.QUARANTINED)
FAILED_DELIVERY = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)


def _tool_name(connection: Connection) -> str:
    try:
        return registry.get(connection.connector).name
    except registry.UnknownConnector:
        return connection.connector


def accounting_connectors() -> list[str]:
    """The keys of the connectors that post to the books (invoices out)."""
    return [c.key for c in registry.with_capability(Capability.INVOICES_OUT)]


def tool_health(connectors: list[str] | None = None) -> list[tuple[Connection, ConnectionHealth]]:
    """Every connection (of these connectors) with its health. Five queries."""
    connections = Connection.objects.order_by("name")
    if connectors is not None:
        connections = connections.filter(connector__in=connectors)
    rows = list(connections)
    health = connections_health(rows)
    return [(c, health[c.pk]) for c in rows]


def _health_table(
    rows: list[tuple[Connection, ConnectionHealth]], linked: bool, empty: str = "No tool connected yet."
) -> Table:
    body = []
    for c, h in rows:
        problems = " ".join(h.problems)
        last = timezone.localtime(h.last_success_at) if h.last_success_at else None
        body.append(
            (
                Cell(
                    c.name,
                    link("integrations:connection", c.pk) if linked else "",
                    title=f"{c.name} · {_tool_name(c)}",
                ),
                Cell(LEVEL_TEXT[h.level], tone=LEVEL_TONE[h.level], title=problems or "No problem found."),
                Cell(
                    count_text(h.dead_deliveries),
                    link("integrations:connection-deliveries", c.pk, status=DeliveryStatus.DEAD)
                    if linked and h.dead_deliveries
                    else "",
                    tone="bad" if h.dead_deliveries else "",
                ),
                Cell(
                    count_text(h.failed_events + h.quarantined_events),
                    link("integrations:connection-events", c.pk)
                    if linked and (h.failed_events or h.quarantined_events)
                    else "",
                    tone="bad" if h.failed_events or h.quarantined_events else "",
                    title=f"{h.failed_events} failed, {h.quarantined_events} quarantined",
                ),
                Cell(
                    f"{last:%b} {last.day} {last:%H:%M}" if last else "never",
                    title=last.isoformat() if last else "",
                ),
            )
        )
    return Table(
        headers=("Tool", "Status", "Dead letters", "Inbound errors", "Last sync"),
        rows=tuple(body),
        numeric=(2, 3),
        empty=empty,
    )


def _summary(rows: list[tuple[Connection, ConnectionHealth]], linked: bool) -> tuple[Figure, ...]:
    failing = sum(1 for _, h in rows if h.level == "error")
    dead = sum(h.dead_deliveries for _, h in rows)
    return (
        Figure(
            "Tools failing",
            f"{failing} of {len(rows)}",
            link("integrations:hub-status") if linked else "",
            sub="connections in error",
            tone="bad" if failing else "ok",
        ),
        Figure(
            "Dead letters",
            count_text(dead),
            link("integrations:hub-status") if linked else "",
            sub="deliveries given up",
            tone="bad" if dead else "ok",
        ),
    )


def _tools(request: HttpRequest) -> FigureGroup | None:
    if not user_can(request.user, "integrations", "read"):
        return None
    rows = per_request(request, "integrations.health", tool_health)
    return FigureGroup(
        "Connected tools",
        figures=_summary(rows, True),
        table=_health_table(rows, True),
        link=("Hub status", link("integrations:hub-status")),
    )


def _books(request: HttpRequest) -> FigureGroup:
    """Accountants read no integrations pages: the status is shown without links for them."""
    linked = user_can(request.user, "integrations", "read")
    rows = tool_health(accounting_connectors())
    return FigureGroup(
        "Sync with the books",
        note="The accounting connections: invoices, payments and bills posted to the books.",
        table=_health_table(rows, linked, empty="No accounting tool connected yet."),
    )


def sync_volume(days: int = SYNC_DAYS) -> list[Chart]:
    """Per connection, inbound events and outbound deliveries per day over the last ``days`` days,
    errors (failed, dead, quarantined) apart. Two grouped queries."""
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    inbound = (
        InboundEvent.objects.filter(received_at__gte=start)
        .annotate(day=TruncDate("received_at"))
        .values("connection_id", "day")
        .annotate(n=Count("pk"), errors=Count("pk", filter=Q(status__in=FAILED_INBOUND)))
        .order_by()
    )
    outbound = (
        Delivery.objects.filter(created_at__gte=start, connection__isnull=False)
        .annotate(day=TruncDate("created_at"))
        .values("connection_id", "day")
        .annotate(n=Count("pk"), errors=Count("pk", filter=Q(status__in=FAILED_DELIVERY)))
        .order_by()
    )
    counts: dict[int, dict[str, dict[datetime.date, int]]] = defaultdict(lambda: defaultdict(dict))
    for kind, rows in (("in", inbound), ("out", outbound)):
        for r in rows:
            ok = r["n"] - r["errors"]
            counts[r["connection_id"]][kind][r["day"]] = ok
            counts[r["connection_id"]]["errors"][r["day"]] = (
                counts[r["connection_id"]]["errors"].get(r["day"], 0) + r["errors"]
            )
    names = dict(Connection.objects.filter(pk__in=list(counts)).values_list("pk", "name"))
    dates = [first + datetime.timedelta(days=i) for i in range(days)]
    charts = []
    for pk in sorted(counts, key=lambda k: names.get(k, "")):
        by = counts[pk]
        charts.append(
            Chart(
                key=f"sync-{pk}",
                title=f"{names.get(pk, pk)}: sync per day, last {days} days",
                kind="stacked",
                labels=[f"{d:%b} {d.day}" for d in dates],
                series=[
                    Series("Inbound events", [by["in"].get(d, 0) for d in dates]),
                    Series("Outbound deliveries", [by["out"].get(d, 0) for d in dates]),
                    Series("Errors", [by["errors"].get(d, 0) for d in dates], highlight=True),
                ],
                caption="Errors (cross-hatched): events failed, dead or quarantined, deliveries failing.",
                unit="events",
                fmt=lambda v: count_text(int(v)),
            )
        )
    return charts


def _sync_chart(request: HttpRequest) -> FigureGroup | None:
    if not user_can(request.user, "integrations", "read"):
        return None
    charts = sync_volume()
    return FigureGroup(
        "Sync volume and errors",
        charts=tuple(charts),
        note="" if charts else f"No event in or out over the last {SYNC_DAYS} days.",
    )


def register() -> None:
    for provider in (
        FigureProvider("integrations.tools", ("operations", "integrations"), 50, _tools),
        FigureProvider("integrations.books", ("accounting",), 30, _books),
        FigureProvider("integrations.sync", ("integrations",), 66, _sync_chart),
    ):
        register_figures(provider)


register()
