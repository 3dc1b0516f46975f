"""Reading PostgreSQL's timestamps with Python's own parser.

Django registers its timestamptz loader on each psycopg connection (``BaseTzLoader``: the
value, then its ``tzinfo`` replaced by the connection's time zone, UTC). It extends psycopg's
loader written in Python, not the C one psycopg's binary package brings, which cannot be
extended: every ``created_at`` and ``updated_at`` of every row read was parsed by a regular
expression and a dozen Python calls, about 2 % of an order's CPU placed through the API, and more
of a list page's.

``FastTzLoader`` is Django's loader, with a first try at ``datetime.fromisoformat`` (written in C)
for the text PostgreSQL sends when the session's time zone is UTC, as Django sets it:
``2026-12-07 10:00:00.123456+00``. It gives exactly what Django's gives: such a value is already
in UTC, and its ``tzinfo`` is replaced by the same one. Any other text (another offset, a year
before 1 or after 9999, ``infinity``, a date style other than ISO) goes to Django's loader as it
would have. ``install`` puts it on each new connection (``connection_created``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.backends.signals import connection_created

_ZERO = dt.timedelta(0)
_FAST: dict[type[Any], type[Any]] = {}  # Django's loader class -> its fast subclass


def fast_loader(base: type[Any]) -> type[Any]:
    """A subclass of Django's timestamptz loader (``base``: the class registered on a connection,
    its ``timezone`` set) that parses UTC timestamps with ``datetime.fromisoformat``; one per
    ``base``."""
    found = _FAST.get(base)
    if found is None:
        found = _FAST[base] = _subclass(base)
    return found


def _subclass(base: type[Any]) -> type[Any]:
    class FastTzLoader(base):
        def load(self, data: Any) -> Any:
            try:
                value = dt.datetime.fromisoformat(bytes(data).decode())
            except ValueError:
                return super().load(data)
            if value.utcoffset() != _ZERO:
                return super().load(data)
            return value.replace(tzinfo=self.timezone)

    FastTzLoader.__qualname__ = FastTzLoader.__name__ = f"Fast{base.__name__}"
    return FastTzLoader


def install_on(connection: Any) -> None:
    """Replace Django's timestamptz loader of this (connected) psycopg 3 connection by its fast
    subclass, once."""
    from psycopg.pq import Format

    adapters = getattr(connection.connection, "adapters", None)
    if adapters is None:  # psycopg2
        return
    current = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)
    # Django's loader has its time zone; any other (psycopg's own, ours already) is left alone.
    if current is None or current in _FAST.values() or not hasattr(current, "timezone"):
        return
    adapters.register_loader("timestamptz", fast_loader(current))


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "postgresql":
        install_on(connection)


def install() -> None:
    connection_created.connect(_on_connection, dispatch_uid="erp.timestamps")
