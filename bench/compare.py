#!/usr/bin/env python
"""Two runs of the bench side by side, as a Markdown table: every figure of either run, its target,
the value and load average of each run, the result of the second, and how many times better the
second is (above 1: better, whichever way the figure goes).

    .venv/bin/python bench/compare.py BEFORE.json AFTER.json [--labels before after]

The JSON files are what ``bench/run.py --json`` writes (``artifacts/bench.json`` by default); run
the same harness on both checkouts (README: "Before and after"). Each run's pgbench rate heads the
table: read the others against it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# Figures where less is better without a target to say so.
LOWER_IS_BETTER = ("ms", "queries/op", "/order", "seconds", " s", "MB", "CPU")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if value == float("inf"):
        return "inf"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _load_average(row: dict[str, Any] | None) -> str:
    return "/".join(f"{x:.2f}" for x in row["load"]) if row and row.get("load") else "-"


def _lower_is_better(row: dict[str, Any]) -> bool:
    target = str(row.get("target") or "")
    if target.startswith("<="):
        return True
    if target.startswith(">="):
        return False
    return any(unit in row["figure"] for unit in LOWER_IS_BETTER)


def _gain(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if not before or not after:
        return "-"
    old, new = before.get("value"), after.get("value")
    if not isinstance(old, int | float) or not isinstance(new, int | float) or old <= 0 or new <= 0:
        return "-"
    if old == float("inf") or new == float("inf"):
        return "-"
    factor = old / new if _lower_is_better(after) else new / old
    return f"{factor:.2f}x"


def _heading(label: str, run: dict[str, Any]) -> str:
    """A run's line above the table: its pgbench rate, when it ended, and the Python it ran on."""
    parts = (run.get("pgbench", "pgbench not measured"), run.get("finished_at"), run.get("python"))
    return f"{label}: {', '.join(part for part in parts if part)}"


def table(before: dict[str, Any], after: dict[str, Any], labels: tuple[str, str]) -> str:
    # A figure may have several targets (orders/s: an absolute one, and a share of pgbench whose
    # value differs between runs): rows are matched by scenario, figure and rank among its rows.
    keys: list[tuple[str, str, int]] = []
    rows: dict[int, dict[tuple[str, str, int], dict[str, Any]]] = {0: {}, 1: {}}
    for n, run in enumerate((before, after)):
        seen: dict[tuple[str, str], int] = {}
        for row in run["rows"]:
            rank = seen[row["scenario"], row["figure"]] = seen.get((row["scenario"], row["figure"]), -1) + 1
            key = (row["scenario"], row["figure"], rank)
            rows[n][key] = row
            if key not in keys:
                keys.append(key)
    a, b = labels
    lines = [
        _heading(a, before),
        _heading(b, after),
        "",
        f"| scenario | figure | target | {a} | load | {b} | load | result | gain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in keys:
        old, new = rows[0].get(key), rows[1].get(key)
        scenario, figure, _ = key
        target = str(((new or old) or {}).get("target") or "-")
        lines.append(
            f"| {scenario} | {figure} | {target} | {_number(old['value']) if old else '-'} | "
            f"{_load_average(old)} | {_number(new['value']) if new else '-'} | {_load_average(new)} | "
            f"{new['result'] if new else '-'} | {_gain(old, new)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--labels", nargs=2, default=("before", "after"), metavar=("BEFORE", "AFTER"))
    args = parser.parse_args(argv)
    print(table(_load(args.before), _load(args.after), tuple(args.labels)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
