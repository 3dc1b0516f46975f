"""The report of a simulated day: what happened, what drifted, how long agreement took; as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Report:
    orders: int
    seed: int
    faults: dict[str, Any]
    mode: str = "embedded"  # embedded (SQLite or any database, tasks in process) or workers
    tools: list[str] = field(default_factory=list)
    database: str = ""
    simulated_minutes: int = 0
    seconds: float = 0.0
    actions: dict[str, int] = field(default_factory=dict)
    webhooks: dict[str, int] = field(default_factory=dict)
    api_faults: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)
    dead_letters_explained: int = 0
    injected_permanent: list[dict[str, Any]] = field(default_factory=list)
    quarantined: int = 0
    # units the channels sold that we could not reserve at the end of the day (sold twice)
    oversold: dict[str, int] = field(default_factory=dict)
    token_refreshes: int = 0
    worker: dict[str, Any] = field(default_factory=dict)
    consistency: dict[str, Any] = field(default_factory=dict)
    # the day's own check of every tool's state against ours, by "tool data kind"
    drifts: dict[str, int] = field(default_factory=dict)
    # what the hub's own reconciliation found at the end, by kind
    reconcile_drifts: dict[str, int] = field(default_factory=dict)
    drift_items: list[dict[str, str]] = field(default_factory=list)
    # each dead letter no injected error explains: its tool, topic, object, attempts and last error
    unexplained_dead: list[dict[str, Any]] = field(default_factory=list)
    # per accounting tool, what its end check counted (documents, open receivables on both sides)
    books: dict[str, dict[str, Any]] = field(default_factory=dict)
    stock: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def drift_count(self) -> int:
        return sum(self.drifts.values()) + sum(self.reconcile_drifts.values())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok, "drift_count": self.drift_count}, indent=2)

    def summary_lines(self) -> list[str]:
        timing = self.consistency.get("all", {})
        return [
            f"{self.orders} orders (seed {self.seed}, {self.mode}, {', '.join(self.tools)}) in "
            f"{self.seconds} s, {self.simulated_minutes} simulated minutes",
            f"  actions:      {self.actions}",
            f"  webhooks:     {self.webhooks}",
            f"  API faults:   {self.api_faults}",
            f"  events:       {self.events}",
            f"  deliveries:   {self.deliveries}",
            f"  retries:      {self.retries}, token refreshes: {self.token_refreshes}",
            f"  dead letters: {self.dead_letters} ({self.dead_letters_explained} explained by "
            f"{len(self.injected_permanent)} injected permanent error(s)), quarantined: {self.quarantined}",
            f"  oversold:     {self.oversold or 'nothing'}",
            f"  worker:       {self.worker or 'in process'}",
            f"  consistency:  p50 {timing.get('p50_seconds', 0)} s, p95 {timing.get('p95_seconds', 0)} s, "
            f"max {timing.get('max_seconds', 0)} s over {timing.get('changes', 0)} changes; "
            f"never agreed: {self.consistency.get('never_agreed', 0)}",
            f"  books:        {self.books or 'none'}",
            f"  drift:        {self.drifts or 'none'}; reconciliation: {self.reconcile_drifts or 'none'}",
        ]


def dead_letter(delivery: Any, tool: str) -> dict[str, Any]:
    """A dead letter as the report lists it (what CI's log prints of a failed day)."""
    return {
        "tool": tool,
        "delivery": delivery.pk,
        "topic": delivery.topic,
        "object": delivery.coalesce_key,
        "attempts": delivery.attempts,
        "status_code": delivery.last_status_code,
        "error": delivery.last_error[:500],
    }
