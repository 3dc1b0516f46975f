"""The hub page: the backend in the middle, every connection around it, live.

The diagram and the table below it are drawn once; every few seconds htmx asks
``hub_status`` for the live parts (each node's status, the edges, the totals,
the table's rows) and swaps them in place by id, so focus and scroll stay put.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from integrations import registry, selectors
from integrations.jobs import simulation_allowed
from integrations.models import Connection, ConnectionStatus
from integrations.views.common import ConnectorInfo, read, render_page

RING = 12  # nodes on one ring; more go on a second ring
POLL_SECONDS = 5


@dataclass(frozen=True)
class Node:
    connection: Any  # a connection_list() row, with its counters
    x: float  # percent of the diagram's width
    y: float  # percent of its height
    health: str  # ok, warn, bad, off
    connector_name: str


def health_of(connection: Any) -> str:
    """One word for a node's colour: bad needs a person now, warn soon, off is paused."""
    if connection.status == ConnectionStatus.PAUSED:
        return "off"
    if connection.status in (ConnectionStatus.FAILING, ConnectionStatus.NEEDS_REAUTH):
        return "bad"
    if connection.dead_letters or connection.failed_events:
        return "bad"
    if connection.quarantined or connection.open_drifts or connection.last_sync_status == "failed":
        return "warn"
    return "ok"


def _connector_names() -> dict[str, str]:
    return {c.key: c.name for c in registry.all_connectors()}


def layout(connections: Sequence[Connection]) -> list[Node]:
    """Nodes on an ellipse around the centre, the first at the top, clockwise; two rings past RING."""
    names = _connector_names()
    count = len(connections)
    nodes = []
    for index, connection in enumerate(connections):
        if count <= RING:
            ring_count, position, rx, ry = count, index, 39.0, 38.0
        else:
            outer = index % 2 == 0
            ring_count = (count + 1) // 2 if outer else count // 2
            position = index // 2
            rx, ry = (42.0, 41.0) if outer else (26.0, 24.0)
        offset = 0.0 if count <= RING or index % 2 == 0 else math.pi / max(ring_count, 1)
        angle = -math.pi / 2 + 2 * math.pi * position / max(ring_count, 1) + offset
        nodes.append(
            Node(
                connection=connection,
                x=round(50 + rx * math.cos(angle), 2),
                y=round(50 + ry * math.sin(angle), 2),
                health=health_of(connection),
                connector_name=names.get(connection.connector, connection.connector),
            )
        )
    return nodes


@dataclass(frozen=True)
class SimulationSummary:
    """The last ``simulate_day`` report, as the hub's page shows it."""

    ran_at: datetime.datetime
    orders: int
    seed: int
    ok: bool
    drifts: dict[str, int]  # by kind (the day's own check, then the reconciliation's)
    dead_letters: int
    quarantined: int
    mode: str = "embedded"
    tools: tuple[str, ...] = ()
    dead_letters_explained: int = 0  # by a permanent error the day injected on purpose
    p50_seconds: float | None = None  # time to consistency after a change
    p95_seconds: float | None = None


def _count(value: Any) -> int:
    """A count in the report: an int, or a dict of ints (dead letters by side) summed."""
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values())
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not a count: {value!r}")
    return value


def last_simulation(path: Path | str | None = None) -> SimulationSummary | None:
    """The report at ``settings.INTEGRATIONS_SIMULATION_REPORT``; None when missing or unreadable.

    Reads one small file, no database; when it ran is the file's modification time.
    """
    path = Path(path if path is not None else settings.INTEGRATIONS_SIMULATION_REPORT)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        drifts = data.get("drifts") or {}
        reconciled = data.get("reconcile_drifts") or {}
        if not isinstance(drifts, dict) or not isinstance(reconciled, dict):
            raise TypeError("drifts")
        drifts = {str(k): _count(n) for k, n in sorted(drifts.items())} | {
            f"reconciliation {k}": _count(n) for k, n in sorted(reconciled.items())
        }
        timing = (data.get("consistency") or {}).get("all") or {}
        return SimulationSummary(
            ran_at=datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC),
            orders=_count(data["orders"]),
            seed=_count(data["seed"]),
            ok=bool(data["ok"]) if "ok" in data else not data.get("problems"),
            drifts=drifts,
            dead_letters=_count(data.get("dead_letters", 0)),
            quarantined=_count(data.get("quarantined", 0)),
            mode=str(data.get("mode") or "embedded"),
            dead_letters_explained=_count(data.get("dead_letters_explained", 0)),
            tools=tuple(str(t) for t in data.get("tools") or ()),
            p50_seconds=float(timing["p50_seconds"]) if "p50_seconds" in timing else None,
            p95_seconds=float(timing["p95_seconds"]) if "p95_seconds" in timing else None,
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _context() -> dict[str, Any]:
    connections = list(selectors.connection_list())
    return {
        "nodes": layout(connections),
        "totals": selectors.hub_totals(connections),
        "poll_seconds": POLL_SECONDS,
    }


@read
def index(request: HttpRequest) -> HttpResponse:
    context = _context()
    context["connector_count"] = len(registry.all_connectors())
    context["simulation"] = last_simulation()
    context["can_simulate"] = simulation_allowed(request.user)  # the demo fakes on, every area's write
    return render_page(request, "integrations/hub.html", context, fragments=())


@read
def hub_status(request: HttpRequest) -> HttpResponse:
    """The live parts of the hub page, each swapped in by its id (hx-swap-oob)."""
    return render_page(request, "integrations/hub.html#status", _context(), fragments=())


@read
def catalogue(request: HttpRequest) -> HttpResponse:
    """Every registered connector: what it does and what it needs, with an 'add' link."""
    connectors: list[dict[str, Any]] = [{"info": ConnectorInfo.of(cls)} for cls in registry.all_connectors()]
    counts: dict[str, int] = {}
    for key in Connection.objects.values_list("connector", flat=True):
        counts[key] = counts.get(key, 0) + 1
    for item in connectors:
        item["connections"] = counts.get(item["info"].key, 0)
    return render_page(request, "integrations/catalogue.html", {"connectors": connectors}, fragments=())
