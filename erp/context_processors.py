from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from erp.access import user_can
from erp.navigation import AREA_PAGES


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_areas": []}
    return {"nav_areas": [page for page in AREA_PAGES if user_can(user, page.key, "read")]}
