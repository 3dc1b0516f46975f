"""Drive a simulated business day through the hub and report the drift.

    manage.py simulate_day [--orders N] [--tools all|shopify,...] [--faults default|none] [--seed S]
                           [--no-safety-poll] [--out PATH]

See ``integrations.simulate``. Embedded (CELERY_BROKER_URL unset): tasks in process on a simulated
clock, on the configured database (``make simulate``: a throwaway SQLite file). With
CELERY_BROKER_URL and a PostgreSQL DATABASE_URL it runs with a real Celery worker that it starts,
kills once with SIGKILL mid-task (``--faults default``) and starts again (``make simulate-workers``,
what CI runs). Prints a summary, writes the whole report as JSON to ``--out`` (default
``settings.INTEGRATIONS_SIMULATION_REPORT``, which the hub's page shows), and exits with status 1
on any drift, on an inbound event that failed, on a change never agreed on, or on a dead letter no
injected permanent error explains; 0 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.simulate import Faults, books, shippers, simulate_day
from integrations.simulate.tools import available


def _known() -> list[str]:
    """Every tool that can take part: the sales channels, the shipping tools and the books."""
    return [*available(), *shippers.available(), *books.available()]


class Command(BaseCommand):
    help = "Simulate a business day through every connected tool's fake (faults, beat jobs) and report drift."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=200)
        parser.add_argument(
            "--tools",
            default="all",
            help=f"comma-separated, of: {', '.join(sorted(_known()))}; all (the default): every one",
        )
        parser.add_argument("--faults", default="default", help="default or none")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-safety-poll", action="store_true", help="skip the periodic and final poll")
        parser.add_argument(
            "--out",
            default=str(settings.INTEGRATIONS_SIMULATION_REPORT),
            help="where the JSON report goes (default: settings.INTEGRATIONS_SIMULATION_REPORT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        known = _known()
        tools = [t.strip() for t in options["tools"].split(",") if t.strip()]
        if tools == ["all"]:  # the sales channels, Shopify first, then the shipping tools, the books
            rank = {**dict.fromkeys(shippers.available(), 1), **dict.fromkeys(books.available(), 2)}
            tools = sorted(known, key=lambda key: (rank.get(key, 0), key != "shopify", key))
        unknown = [t for t in tools if t not in known]
        if unknown or not tools:
            raise CommandError(
                f"Unknown tool(s) {', '.join(unknown) or '(none)'}; known: {', '.join(sorted(known))}."
            )
        if options["orders"] < 1:
            raise CommandError("--orders must be at least 1.")
        try:
            faults = Faults.named(options["faults"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        out = Path(options["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        day = {
            "orders": options["orders"],
            "seed": options["seed"],
            "faults": faults,
            "tools": tools,
            "safety_poll": not options["no_safety_poll"],
        }
        if settings.CELERY_TASK_ALWAYS_EAGER:
            report = simulate_day(**day)
        else:
            from integrations.simulate.workers import WorkersUnavailable, run_with_workers

            try:
                report = run_with_workers(day, log=out.with_name(out.stem + "-worker.log"))
            except WorkersUnavailable as exc:
                raise CommandError(str(exc)) from exc
        out.write_text(report.to_json() + "\n")
        self.stdout.write("\n".join([*report.summary_lines(), f"  report:       {out}"]))
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"FAIL: {problem}")
            for item in report.drift_items[:50]:  # what CI's log keeps: the report file is gone with it
                self.stderr.write(f"  drift: {json.dumps(item, default=str)}")
            for item in report.unexplained_dead[:50]:
                self.stderr.write(f"  dead letter: {json.dumps(item, default=str)}")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("OK: no drift, no failed event, no unexplained dead letter"))
