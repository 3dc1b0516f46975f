#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def _argv(argv: list[str]) -> list[str]:
    """`create_connection --settings JSON` means the connector's settings, not Django's settings module:
    Django reads every --settings before it loads a command, so the option is renamed here."""
    if len(argv) > 1 and argv[1] == "create_connection":
        return [
            "--connection-settings" + arg[len("--settings") :]
            if arg.split("=", 1)[0] == "--settings"
            else arg
            for arg in argv
        ]
    return argv


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(_argv(sys.argv))


if __name__ == "__main__":
    main()
