"""The home page is made of sections that apps register, as panels are: a template and a function
giving its context for the request (None: nothing to show to this user).

The kernel's own sections (getting started, waiting for you) and each app's figures and charts
register here from their AppConfig.ready(); the dashboard renders those that answer, in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string


@dataclass(frozen=True)
class HomeSection:
    key: str
    order: int  # lower first: getting started 10, waiting for you 20, figures and charts 50 and on
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]


_sections: dict[str, HomeSection] = {}


def register_section(section: HomeSection) -> None:
    _sections[section.key] = section


def sections() -> list[HomeSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def render_sections(request: HttpRequest) -> list[str]:
    """The registered sections that have something for this user, rendered in order."""
    parts = []
    for section in sections():
        context = section.context(request)
        if context is not None:
            parts.append(render_to_string(section.template, context, request=request))
    return parts
