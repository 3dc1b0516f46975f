"""Getting started: the checklist a new company works through, shown on the home page until it is done.

Each step says whether it is done, one line on what it means, and where it is done. The apps
contribute their steps (``register(ChecklistStep(...))`` from their AppConfig.ready(): inventory's
warehouses, products and opening stock; the hub's connected tools); the kernel owns the company
details and the users.

Who sees it: superusers and Operations managers see every step; a step with an ``area`` is also
shown to those who may write that area (the tool step to Integration admins). The section shows
until every step the user sees is done, then disappears. Each step's ``done`` is one query at most,
so the section costs the same whatever the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import reverse

from erp import company
from erp.access import ROLES, user_can
from erp.workspace import HomeSection, register_section


@dataclass(frozen=True)
class ChecklistStep:
    key: str
    order: int
    title: str
    detail: str  # one line: what "done" means and how to get there
    url_name: str
    done: Callable[[HttpRequest], bool]
    area: str | None = None  # writers of this area see the step too (besides the managers)
    url_query: str = ""  # appended to the link: "?tab=..."
    # Whether this user may open the link (None: whoever sees the step); when not, the step says who.
    may_open: Callable[[HttpRequest], bool] | None = None
    who_does_it: str = ""  # "A superuser invites users."


@dataclass(frozen=True)
class StepState:
    step: ChecklistStep
    done: bool
    url: str  # "" when this user may not open it (then step.who_does_it says who does)


_steps: dict[str, ChecklistStep] = {}


def register(step: ChecklistStep) -> None:
    _steps[step.key] = step


def steps() -> list[ChecklistStep]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.key))


def sees_everything(request: HttpRequest) -> bool:
    """Superusers and Operations managers run the setup: they see every step."""
    return company.may_edit(request.user)


def visible_steps(request: HttpRequest) -> list[ChecklistStep]:
    user = request.user
    if not user.is_authenticated:
        return []
    if sees_everything(request):
        return steps()
    return [s for s in steps() if s.area is not None and user_can(user, s.area, "write")]


def checklist(request: HttpRequest) -> list[StepState]:
    """The steps this user sees, each with whether it is done and its link."""
    states = []
    for step in visible_steps(request):
        opens = step.may_open is None or step.may_open(request)
        url = reverse(step.url_name) + step.url_query if opens else ""
        states.append(StepState(step, bool(step.done(request)), url))
    return states


def section_context(request: HttpRequest) -> dict[str, Any] | None:
    """The home section: None (not shown) for users who see no step, and once all are done."""
    states = checklist(request)
    if not states or all(s.done for s in states):
        return None
    done = sum(s.done for s in states)
    return {
        "states": states,
        "done": done,
        "total": len(states),
        "percent": round(100 * done / len(states)),
    }


# --- the kernel's own steps ------------------------------------------------------------------------


def company_done(request: HttpRequest) -> bool:
    """The company's details are saved (name and base currency: the row requires both)."""
    return company.profile().saved


def users_done(request: HttpRequest) -> bool:
    """Someone besides the person looking is active and holds a role."""
    users = get_user_model().objects.filter(is_active=True, groups__name__in=[r.name for r in ROLES])
    if request.user.pk is not None:
        users = users.exclude(pk=request.user.pk)
    return users.exists()


def install() -> None:
    """Register the kernel's steps and the home section (erp's AppConfig.ready())."""
    register(
        ChecklistStep(
            key="company",
            order=10,
            title="Company details and currency",
            detail="Name, address and tax id for letterheads, and the base currency amounts are kept in.",
            url_name="settings-company",
            done=company_done,
        )
    )
    register(
        ChecklistStep(
            key="users",
            order=90,
            title="Users invited with their roles",
            detail="Invite the team and give each person a role: it decides what they see and may do.",
            url_name="settings-users",
            done=users_done,
            may_open=lambda request: bool(request.user.is_superuser),
            who_does_it="A superuser invites users and sets their roles.",
        )
    )
    register_section(
        HomeSection(
            key="getting-started",
            order=10,
            template="erp/home/_getting_started.html",
            context=section_context,
        )
    )
