"""The sentence of an emailed purchase order on its timeline (erp.timeline)."""

from __future__ import annotations

from erp import timeline
from erp.models import OutboxEvent
from erp.timeline import as_dict


def describe_emailed(event: OutboxEvent) -> tuple[str, list[str]] | None:
    p = as_dict(event.payload)
    email = as_dict(p.get("email"))
    to = email.get("to") or []
    cc = email.get("cc") or []
    facts = [f"cc {', '.join(str(a) for a in cc)}"] if isinstance(cc, list) and cc else []
    if email.get("attachment"):
        facts.append(str(email["attachment"]))
    to_text = ", ".join(str(a) for a in to) if isinstance(to, list) else str(to)
    return f"{p.get('number', 'Purchase order')} emailed to {to_text}", facts


timeline.register_describer("procurement.po_emailed", describe_emailed)
