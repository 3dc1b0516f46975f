"""Create a connection from the command line; prints its id.

    manage.py create_connection CONNECTOR --name NAME --settings JSON --secrets JSON
                                [--warehouse CODE] [--channel CODE] [--api-version VERSION]

``--settings`` is Django's option for the settings module, read before any command
is loaded, so manage.py passes this command's ``--settings`` on as
``--connection-settings`` (the name to use with ``call_command``: ``connection_settings``).

Prints the new connection's id and nothing else, so scripts can capture it. Any
error (bad JSON, an unknown connector, warehouse or channel, settings or secrets
the connector's schemas refuse, a name in use) is a message on stderr naming the
field, exit status 1, and nothing written.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp.exceptions import DomainError
from integrations.connections import connection_create
from inventory.models import Warehouse
from sales.models import SalesChannel


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{option} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from None
    if not isinstance(value, dict):
        raise CommandError(f'{option} must be a JSON object, like \'{{"key": "value"}}\'.')
    return value


class Command(BaseCommand):
    help = "Create a connection of a registered connector; prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connector", help="the connector's key, e.g. shopify")
        parser.add_argument("--name", required=True, help="a unique name, e.g. 'EU store'")
        parser.add_argument(
            "--connection-settings",
            dest="connection_settings",
            default="{}",
            metavar="JSON",
            help="the connector's settings as a JSON object (manage.py also takes it as --settings)",
        )
        parser.add_argument("--secrets", default="{}", help="the connector's secrets as a JSON object")
        parser.add_argument(
            "--api-version", default="", help="the tool's API version (default: the connector's)"
        )
        parser.add_argument("--warehouse", default="", help="the code of the warehouse it maps to")
        parser.add_argument("--channel", default="", help="the code of the sales channel it maps to")

    def handle(self, *args: Any, **options: Any) -> None:
        settings = _json_object(options["connection_settings"], "--settings")
        secrets = _json_object(options["secrets"], "--secrets")
        warehouse = None
        if options["warehouse"]:
            warehouse = Warehouse.objects.filter(code__iexact=options["warehouse"]).first()
            if warehouse is None:
                raise CommandError(f"--warehouse: no warehouse with code {options['warehouse']!r}.")
        channel = None
        if options["channel"]:
            channel = SalesChannel.objects.filter(code__iexact=options["channel"]).first()
            if channel is None:
                raise CommandError(f"--channel: no sales channel with code {options['channel']!r}.")
        try:
            connection = connection_create(
                connector=options["connector"],
                name=options["name"],
                settings=settings,
                secrets=secrets,
                api_version=options["api_version"],
                warehouse=warehouse,
                sales_channel=channel,
            )
        except DomainError as exc:
            lines = ["Nothing was created:"] if exc.field_errors else [exc.message]
            for field, messages in exc.field_errors.items():
                lines.extend(f"  {field}: {message}" for message in messages)
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(str(connection.pk))
