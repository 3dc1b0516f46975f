"""What the hub tells people, and as whom its work is recorded.

- ``acting(connection)``: the hub's work for a connection (inbound processing, polling, pushes,
  reconciliation) is recorded as the connection ("Shopify · Main store", erp.actor), not as the
  person whose request happened to run it.
- ``dead_letter(delivery)`` and ``drifts_found(run, new)``: the integration admins (integrations
  write) are told, once per connection and kind while that notification is unread
  (erp.notifications keys ``dead_letter:<connection>``, ``drift:<connection>``).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.urls import reverse

from erp import actor, notifications
from integrations import registry
from integrations.models import Connection, Delivery, SyncRun


def acting_name(connection: Connection) -> str:
    try:
        tool = registry.get(connection.connector).name
    except registry.UnknownConnector:
        tool = connection.connector
    return f"{tool} · {connection.name}"


def acting(connection: Connection | None) -> Any:
    """``with acting(connection):`` what happens now is the connection's doing (no connection: as is)."""
    return actor.acting_as(acting_name(connection)) if connection is not None else contextlib.nullcontext()


def _admins() -> Any:
    return notifications.users_who_can("integrations", "write")


def dead_letter(delivery: Delivery) -> None:
    """A delivery to a connection gave up (dead): its admins are told, once while unread."""
    if delivery.connection_id is None:
        return
    connection = Connection.objects.only("name", "connector").get(pk=delivery.connection_id)
    notifications.notify(
        _admins(),
        kind="dead_letter",
        title=f"{connection.name}: a delivery failed for good",
        body=(delivery.last_error or "")[:1000],
        url=reverse("integrations:connection-deliveries", args=[connection.pk]) + "?status=dead",
        key=f"dead_letter:{connection.pk}",
    )


def drifts_found(run: SyncRun, new: int) -> None:
    """A reconciliation found ``new`` differences it had not seen before: the admins are told."""
    if new <= 0:
        return
    connection = Connection.objects.only("name", "connector").get(pk=run.connection_id)
    noun = "difference" if new == 1 else "differences"
    notifications.notify(
        _admins(),
        kind="drift",
        title=f"{connection.name}: {new} new {noun} found by reconciliation ({run.object_type})",
        url=reverse("integrations:connection-drifts", args=[connection.pk]),
        key=f"drift:{connection.pk}",
    )
