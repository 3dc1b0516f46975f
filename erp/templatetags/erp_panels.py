"""``{% panels "slot" obj %}``: what other apps show on this page (``erp.panels``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from erp import panels as registry

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context: template.Context, slot: str, obj: Any) -> SafeString:
    request = context.get("request")
    if request is None:
        return mark_safe("")
    return mark_safe(registry.render(slot, request, obj))
