from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp.access import ALL_SCOPES
from erp.exceptions import DomainError
from erp.services import api_key_create


class Command(BaseCommand):
    help = "Issue an API key and print it once. Without --scope it gets every scope the user is allowed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="username of the key's owner")
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'ShipStation'")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            metavar="SCOPE",
            help=f"repeatable; one of: {', '.join(ALL_SCOPES)}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["user"]})
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['user']!r}.") from exc
        try:
            issued = api_key_create(user=user, name=options["name"], scopes=options["scopes"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(issued.raw_key)
        self.stderr.write(
            f"Key '{issued.api_key.name}' for {user} with scopes: {', '.join(issued.api_key.scopes)}. "
            "It is shown only now; store it safely."
        )
