"""Time to consistency: how long after each change the hub and the tool agree on what it touched.

A change (an order placed, edited, cancelled or refunded in the tool; an order shipped or stock
received here) is watched from the moment it happens until the day's drift check
(``oracle``) finds no difference on the order or SKUs it touched. ``Watcher.check`` reads all
pending ones at once (a fixed number of queries per check), so the day calls it after every step;
the durations are simulated seconds in the embedded mode, real seconds with real workers.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.simulate.oracle import order_differences, stock_differences


@dataclass
class Change:
    tool: str
    kind: str  # ordered, edited, cancelled, refunded, shipped_here, received_here
    at: datetime.datetime
    orders: tuple[str, ...] = ()  # the tool's order ids it touched
    skus: tuple[str, ...] = ()  # the SKUs whose stock it moved
    agreed_at: datetime.datetime | None = None


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Watcher:
    """The changes not yet agreed on, and how long the agreed ones took."""

    now: Callable[[], datetime.datetime]
    pending: list[Change] = field(default_factory=list)
    done: list[Change] = field(default_factory=list)

    def watch(self, change: Change) -> None:
        self.pending.append(change)

    def check(self, tools: Mapping[str, Any]) -> None:
        """Settle every pending change whose orders and SKUs agree now. ``tools``: key -> participant
        (its ``connection``, ``snapshot(order_ids=...)`` and ``location``)."""
        if not self.pending:
            return
        moment = self.now()
        by_tool: dict[str, list[Change]] = defaultdict(list)
        for change in self.pending:
            by_tool[change.tool].append(change)
        still: list[Change] = []
        for key, changes in by_tool.items():
            tool = tools[key]
            order_ids = {o for c in changes for o in c.orders}
            skus = {s for c in changes for s in c.skus}
            snapshot = tool.snapshot(order_ids=order_ids)
            orders = {k: v for k, v in snapshot["orders"].items() if k in order_ids}
            order_ok = {
                k for k, diffs in order_differences(key, tool.connection, orders).items() if not diffs
            }
            stock = {k: v for k, v in snapshot["stock"].items() if k in skus}
            stock_ok = {
                k
                for k, diffs in stock_differences(key, tool.connection, stock, tool.location).items()
                if not diffs
            }
            for change in changes:
                if set(change.orders) <= order_ok and set(change.skus) <= stock_ok:
                    change.agreed_at = moment
                    self.done.append(change)
                else:
                    still.append(change)
        self.pending = still

    def summary(self) -> dict[str, Any]:
        """p50/p95/max seconds per kind of change and overall, and how many never agreed."""

        def stats(changes: list[Change]) -> dict[str, float | int]:
            seconds = [(c.agreed_at - c.at).total_seconds() for c in changes if c.agreed_at is not None]
            return {
                "changes": len(changes),
                "p50_seconds": round(percentile(seconds, 0.5), 1),
                "p95_seconds": round(percentile(seconds, 0.95), 1),
                "max_seconds": round(max(seconds, default=0.0), 1),
            }

        kinds: dict[str, list[Change]] = defaultdict(list)
        for change in self.done:
            kinds[change.kind].append(change)
        return {
            "all": stats(self.done),
            "by_kind": {kind: stats(changes) for kind, changes in sorted(kinds.items())},
            "never_agreed": len(self.pending),
            "never_agreed_kinds": dict(sorted(Counter(c.kind for c in self.pending).items())),
        }
