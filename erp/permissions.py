"""Role enforcement for pages: one decorator, the same rules as the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from erp.access import AREAS, Level, user_can


def area_required(area: str, level: Level = "read") -> Callable[..., Any]:
    """Log in first; then 403 with a page that says which right is missing."""
    if area not in AREAS:
        raise ValueError(f"Unknown area {area!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_can(request.user, area, level):
                return render(
                    request,
                    "403.html",
                    {"missing": f"{AREAS[area]} ({level})"},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
