from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp.demo import seed


class Command(BaseCommand):
    help = "Load realistic demo data. Idempotent: running it twice gives the same data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
        parser.add_argument(
            "--only",
            action="append",
            metavar="APP",
            help="seed just this app's demo (and the users); repeat for more: --only inventory --only sales",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        if not options["quiet"]:
            self.stdout.write(
                "Loading the demo data (a few minutes on a first run; every step is printed) ..."
            )
        try:
            report = seed(only=options["only"], progress=None if options["quiet"] else progress)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["quiet"]:
            return
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        for line in report:
            self.stdout.write(f"  {line}")
