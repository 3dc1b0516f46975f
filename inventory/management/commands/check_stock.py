from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from inventory.integrity import run_check


class Command(BaseCommand):
    help = "Recompute every stock level from the ledger; list any drift and exit 1 if there is some."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair", action="store_true", help="set drifting levels to what the ledger says"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = run_check(repair_drift=options["repair"])
        self.stdout.write(f"Checked {run.levels_checked} levels: {run.drift_count} drift(s).")
        for drift in run.drifts:
            self.stdout.write(
                f"  product {drift['product_id']} at location {drift['location_id']}"
                f"{' lot ' + str(drift['lot_id']) if drift['lot_id'] else ''}: "
                f"{drift['field']} is {drift['cached']}, the ledger says {drift['ledger']}"
            )
        if run.drift_count and run.repaired:
            self.stdout.write(self.style.SUCCESS(f"Repaired {run.drift_count} drift(s)."))
        elif run.drift_count:
            sys.exit(1)
