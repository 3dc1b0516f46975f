from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp.openapi import render_schema

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "docs" / "openapi.json"


class Command(BaseCommand):
    help = (
        "Write the API's OpenAPI schema to docs/openapi.json (sorted keys, indent 2). "
        "With --check, write nothing and fail when the file differs from the code's schema."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="file to write; '-' for stdout")
        parser.add_argument("--check", action="store_true", help="fail if the file is not up to date")

    def handle(self, *args: Any, **options: Any) -> None:
        from erp.api import api

        rendered = render_schema(api)
        output = options["output"]
        if output == "-":
            self.stdout.write(rendered, ending="")
            return
        path = Path(output)
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != rendered:
                diff = difflib.unified_diff(
                    current.splitlines(), rendered.splitlines(), str(path), "the code's schema", lineterm=""
                )
                self.stderr.write("\n".join(list(diff)[:80]))
                raise CommandError(f"{path} is out of date: run `make openapi`.")
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(rendered, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
