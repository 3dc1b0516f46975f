"""The connector registry: key -> Connector class.

Connectors register themselves from ``integrations.apps.IntegrationsConfig.ready``
(every ``integrations/<key>/connector.py`` that declares a class). Tests
register their own connectors with ``register(...)`` and remove them with
``unregister(...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.contract import Capability, Connector

if TYPE_CHECKING:
    from integrations.models import Connection

_registry: dict[str, type[Connector]] = {}


class UnknownConnector(LookupError):
    """No connector is registered under that key."""


def register(connector: type[Connector]) -> type[Connector]:
    """Register a connector class (usable as a decorator)."""
    _registry[connector.key] = connector
    return connector


def unregister(key: str) -> None:
    _registry.pop(key, None)


def get(key: str) -> type[Connector]:
    try:
        return _registry[key]
    except KeyError:
        raise UnknownConnector(f"No connector {key!r}; known: {', '.join(sorted(_registry))}.") from None


def all_connectors() -> list[type[Connector]]:
    return [_registry[k] for k in sorted(_registry)]


def with_capability(capability: Capability) -> list[type[Connector]]:
    return [c for c in all_connectors() if capability in c.capabilities]


def connector_for(
    connection: Connection, *, sync_run_id: int | None = None, delivery_id: int | None = None
) -> Connector:
    """An instance of the connection's connector, talking through the hub's HTTP client."""
    from integrations.http import HubHttp

    cls = get(connection.connector)
    return cls(connection, HubHttp(connection, cls, sync_run_id=sync_run_id, delivery_id=delivery_id))
