"""Drive a simulated business day through the hub and report the drift.

    manage.py simulate_day [--orders N] [--tools shopify] [--faults default|none] [--seed S]
                           [--no-safety-poll] [--out PATH]

See ``integrations.simulation``. Prints a summary, writes the whole report as JSON to
``--out`` (default ``settings.INTEGRATIONS_SIMULATION_REPORT``, which the hub's page shows), and
exits with status 1 on any drift, on an inbound event that failed, or on a dead letter; 0
otherwise. Runs on the configured database (``make simulate``: a throwaway
SQLite file) with tasks in process: unset CELERY_BROKER_URL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.simulation import Faults, simulate_day

TOOLS = ("shopify",)


class Command(BaseCommand):
    help = "Simulate a business day with a fake Shopify (faults, beat jobs) and report drift as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=200)
        parser.add_argument("--tools", default="shopify", help="comma-separated; only shopify so far")
        parser.add_argument("--faults", default="default", help="default or none")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-safety-poll", action="store_true", help="skip the periodic and final poll")
        parser.add_argument(
            "--out",
            default=str(settings.INTEGRATIONS_SIMULATION_REPORT),
            help="where the JSON report goes (default: settings.INTEGRATIONS_SIMULATION_REPORT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tools = [t.strip() for t in options["tools"].split(",") if t.strip()]
        unknown = [t for t in tools if t not in TOOLS]
        if unknown or not tools:
            raise CommandError(
                f"Unknown tool(s) {', '.join(unknown) or '(none)'}; known: {', '.join(TOOLS)}."
            )
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("The simulation runs tasks in process: unset CELERY_BROKER_URL.")
        if options["orders"] < 1:
            raise CommandError("--orders must be at least 1.")
        try:
            faults = Faults.named(options["faults"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        report = simulate_day(
            orders=options["orders"],
            seed=options["seed"],
            faults=faults,
            safety_poll=not options["no_safety_poll"],
        )
        out = Path(options["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.to_json() + "\n")
        self.stdout.write(
            f"{report.orders} orders (seed {report.seed}) in {report.seconds} s, "
            f"{report.simulated_minutes} simulated minutes\n"
            f"  actions:      {report.actions}\n"
            f"  webhooks:     {report.webhooks}\n"
            f"  events:       {report.events}\n"
            f"  deliveries:   {report.deliveries}\n"
            f"  retries:      {report.retries}\n"
            f"  dead letters: {report.dead_letters}, quarantined: {report.quarantined}\n"
            f"  drift:        {report.drifts or 'none'}\n"
            f"  report:       {out}"
        )
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"FAIL: {problem}")
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("OK: no drift, no failed event, no dead letter"))
