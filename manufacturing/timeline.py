"""What a manufacturing order's timeline says (erp.timeline): its own events (``manufacturing.*``
on the ``manufacturing.manufacturingorder`` aggregate); creation emits none, so "Created" comes from
the row (created_at, created_by)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from erp import timeline
from erp.models import OutboxEvent
from erp.timeline import amount, qty
from manufacturing.models import ManufacturingOrder

LABEL = ManufacturingOrder._meta.label_lower


def describe(event: OutboxEvent) -> tuple[str, list[str]] | None:
    p = event.payload or {}
    topic = event.topic.split(".", 1)[1]
    sku = p.get("sku", "")
    if topic == "mo_confirmed":
        shortages = p.get("shortages") or {}
        facts = (
            [f"short {qty(q)} × {s}" for s, q in list(shortages.items())[:6]]
            if isinstance(shortages, dict)
            else []
        )
        return f"Confirmed: make {qty(p.get('quantity', 0))} × {sku}", facts
    if topic == "mo_produced":
        facts = [f"unit cost {amount(p['unit_cost'], '')}"] if p.get("unit_cost") else []
        return f"Produced {qty(p.get('produced_now', 0))} × {sku}", facts
    if topic == "mo_done":
        facts = [f"cost {amount(p['cost'], '')}"] if p.get("cost") else []
        return f"Done: {qty(p.get('quantity_produced', 0))} × {sku} made", facts
    if topic == "mo_cancelled":
        return "Cancelled", [f"reason: {p['reason']}"] if p.get("reason") else []
    return None


def _created(mo: Any) -> list[timeline.Entry]:
    return [timeline.created_entry(mo)]


def register() -> None:
    timeline.register_document(
        LABEL,
        area="manufacturing",
        extra=_created,
        title=lambda mo: f"manufacturing order {mo.number}",
        url=lambda mo: reverse("manufacturing:order", args=[mo.pk]),
    )
    timeline.register_describer("manufacturing.*", describe)


register()
