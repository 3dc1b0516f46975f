"""Timelines of inventory documents (erp.timeline): transfers and count sheets.

Neither records events of its own (their stock moves announce ``inventory.level_changed`` on the
product): what they show comes from the row (created, shipped, received, applied, by whom) and
their comments. Inventory's own topics get their sentences here too.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from erp import actor, timeline
from erp.models import OutboxEvent
from erp.timeline import qty
from inventory.models import CountSheet, CountStatus, Transfer, TransferStatus


def describe(event: OutboxEvent) -> tuple[str, list[str]] | None:
    p = event.payload or {}
    topic = event.topic.split(".", 1)[1]
    if topic == "level_changed":
        return f"Available now {qty(p.get('available', 0))}", []
    if topic == "product_created":
        return "Product created", []
    if topic == "product_updated":
        return "Product edited", []
    return None


def _at(user: Any, at: Any, sentence: str) -> timeline.Entry:
    return timeline.Entry(
        at=at,
        kind="note",
        sentence=sentence,
        actor=actor.user_name(user) if user is not None else actor.SYSTEM,
        actor_kind="person" if user is not None else "system",
        actor_user_id=getattr(user, "pk", None),
    )


def transfer_entries(transfer: Transfer) -> list[timeline.Entry]:
    route = f"from {transfer.from_location} to {transfer.to_location}"
    found = [timeline.created_entry(transfer, f"Shipped into transit {route}", at=transfer.shipped_at)]
    if transfer.status == TransferStatus.DONE and transfer.received_at:
        updater = transfer.updated_by if transfer.updated_by_id else None
        found.append(_at(updater, transfer.received_at, f"Received at {transfer.to_location}"))
    return found


def count_entries(sheet: CountSheet) -> list[timeline.Entry]:
    found = [timeline.created_entry(sheet, f"Count of {sheet.location} started")]
    if sheet.status == CountStatus.APPLIED and sheet.applied_at:
        updater = sheet.updated_by if sheet.updated_by_id else None
        found.append(_at(updater, sheet.applied_at, "Applied: differences booked as adjustments"))
    return found


def register() -> None:
    timeline.register_document(
        Transfer._meta.label_lower,
        area="inventory",
        extra=transfer_entries,
        title=lambda t: f"transfer {t.number}",
        url=lambda t: reverse("inventory:transfer-detail", args=[t.pk]),
    )
    timeline.register_document(
        CountSheet._meta.label_lower,
        area="inventory",
        extra=count_entries,
        title=lambda s: f"count {s.number}",
        url=lambda s: reverse("inventory:count", args=[s.pk]),
    )
    timeline.register_describer("inventory.*", describe)


register()
