"""Panels: what an app shows on another app's page without that app importing it.

A page names a slot (``"inventory.warehouse"``) and renders ``{% panels "inventory.warehouse" obj %}``
(``erp_panels``); an app above it registers a panel for the slot as it loads: a template and a
function giving its context for the page's object (None: nothing to show). So the warehouse page
shows who ships its orders, though inventory knows nothing of the integration hub. A panel is shown
to users who can read its area.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from erp.access import user_can


@dataclass(frozen=True)
class Panel:
    slot: str
    template: str
    context: Callable[[Any], dict[str, Any] | None]  # the page's object -> the panel's context
    area: str


_panels: dict[str, list[Panel]] = {}


def register(panel: Panel) -> None:
    found = _panels.setdefault(panel.slot, [])
    if all(p.template != panel.template for p in found):
        found.append(panel)


def render(slot: str, request: HttpRequest, obj: Any) -> str:
    """The slot's panels for ``obj``, rendered, those the user may read."""
    parts = []
    for panel in _panels.get(slot, []):
        if not user_can(request.user, panel.area, "read"):
            continue
        context = panel.context(obj)
        if context is not None:
            parts.append(render_to_string(panel.template, context, request=request))
    return "".join(parts)
