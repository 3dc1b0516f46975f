"""The home page is made of sections that apps register, as panels are: a template and a function
giving its context for the request (None: nothing to show to this user).

The kernel's own sections (getting started, waiting for you) and each app's figures and charts
register here from their AppConfig.ready(); the dashboard renders those that answer, in ``order``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from erp import formatting


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
    parts: list[str] = []
    for section in sections():
        context = section.context(request)
        if context is not None:
            parts.append(render_to_string(section.template, context, request=request))
    return parts


# --- figures per role -----------------------------------------------------------------------------
#
# Each role's home is made of figure groups the apps register (``register_figures``): a function of
# the request answering a ``FigureGroup`` (figures that each link to the list behind them, a table,
# charts) or None (nothing for this user). A group is computed once per request whatever the number
# of roles showing it, with a constant number of queries (aggregates, never a query per row).

# Role (group name, erp.access.ROLES) -> the home it sees; a superuser sees the operations home.
ROLE_HOMES: dict[str, str] = {
    "Operations manager": "operations",
    "Warehouse": "warehouse",
    "Sales": "sales",
    "Purchasing": "purchasing",
    "Purchasing manager": "purchasing",
    "Production": "production",
    "Accountant": "accounting",
    "Integration admin": "integrations",
}
HOME_TITLES: dict[str, str] = {
    "operations": "Operations",
    "warehouse": "Warehouse",
    "sales": "Sales",
    "purchasing": "Purchasing",
    "production": "Production",
    "accounting": "Accounting",
    "integrations": "Integrations",
}
# Who sees the system's health (database, broker, outbox) at the bottom of the page.
HEALTH_HOMES = frozenset({"operations", "integrations"})


@dataclass(frozen=True)
class Figure:
    """One number on a home, linking to the list that shows exactly what it counts."""

    label: str
    value: str
    url: str = ""
    sub: str = ""  # a short line under the value
    tone: str = ""  # "", "ok", "warn" or "bad"
    title: str = ""  # hover text: what exactly is counted


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    tone: str = ""
    title: str = ""


@dataclass(frozen=True)
class LabelledCell:
    """A cell with its column's header: a phone shows each row as a card of "header: value"."""

    header: str
    cell: Cell
    numeric: bool


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: tuple[int, ...] = ()  # columns aligned right
    empty: str = "Nothing yet."

    @property
    def labelled_rows(self) -> list[list[LabelledCell]]:
        return [
            [
                LabelledCell(header, cell, i in self.numeric)
                for i, (header, cell) in enumerate(zip(self.headers, row, strict=True))
            ]
            for row in self.rows
        ]


@dataclass(frozen=True)
class FigureGroup:
    title: str
    figures: tuple[Figure, ...] = ()
    table: Table | None = None
    charts: tuple[Any, ...] = ()  # erp.charts.Chart
    note: str = ""  # one line under the title: what the figures mean
    link: tuple[str, str] | None = None  # (label, url): "all orders →"


@dataclass(frozen=True)
class FigureProvider:
    key: str  # unique: "sales.orders"
    homes: tuple[str, ...]  # the role homes showing it (HOME_TITLES' keys)
    order: int  # lower first within a home
    compute: Callable[[HttpRequest], FigureGroup | None]


@dataclass(frozen=True)
class RoleHome:
    key: str
    title: str
    groups: tuple[FigureGroup, ...]


_providers: dict[str, FigureProvider] = {}


def register_figures(provider: FigureProvider) -> None:
    unknown = set(provider.homes) - set(HOME_TITLES)
    if unknown:
        raise ValueError(f"Unknown home(s) {sorted(unknown)} for {provider.key}: known {sorted(HOME_TITLES)}")
    _providers[provider.key] = provider


def providers_for(home: str) -> list[FigureProvider]:
    return sorted((p for p in _providers.values() if home in p.homes), key=lambda p: (p.order, p.key))


def homes_of(user: Any) -> list[str]:
    """The homes of a user's roles, in HOME_TITLES' order (one query: the user's groups)."""
    if not getattr(user, "is_authenticated", False):
        return []
    names = set(user.groups.values_list("name", flat=True))
    homes = {ROLE_HOMES[name] for name in names if name in ROLE_HOMES}
    if user.is_superuser:
        homes.add("operations")
    return [key for key in HOME_TITLES if key in homes]


def role_homes(request: HttpRequest, homes: list[str] | None = None) -> list[RoleHome]:
    """Each of the user's role homes with its figure groups, each group computed and shown once (in
    the first home that has it: an operations manager who also works the warehouse does not read the
    same figures twice)."""
    shown: set[str] = set()
    result = []
    for home in homes_of(request.user) if homes is None else homes:
        groups = []
        for provider in providers_for(home):
            if provider.key in shown:
                continue
            shown.add(provider.key)
            group = provider.compute(request)
            if group is not None:
                groups.append(group)
        result.append(RoleHome(key=home, title=HOME_TITLES[home], groups=tuple(groups)))
    return result


def link(url_name: str, *args: Any, **params: Any) -> str:
    """A list's URL with its filters: ``link("sales:orders", status="open", late="true")``; None and
    empty values are left out."""
    url = reverse(url_name, args=args or None)
    query = urlencode({k: v for k, v in params.items() if v is not None and v != ""})
    return f"{url}?{query}" if query else url


def count_text(n: int) -> str:
    return f"{n:,}"


# --- ageing (receivables, payables) ---------------------------------------------------------------

# (label, first day overdue, last day overdue): current is not due yet (or has no due date).
AGEING: tuple[tuple[str, int | None, int | None], ...] = (
    ("Current", None, 0),
    ("1–30", 1, 30),
    ("31–60", 31, 60),
    ("61–90", 61, 90),
    ("90+", 91, None),
)


def ageing_bucket(today: datetime.date, low: int | None, high: int | None) -> Q:
    if low is None:  # current: due today or later, or no due date
        return Q(due_date__gte=today) | Q(due_date__isnull=True)
    q = Q(due_date__lte=today - datetime.timedelta(days=low))
    if high is not None:
        q &= Q(due_date__gte=today - datetime.timedelta(days=high))
    return q


def ageing_params(today: datetime.date, low: int | None, high: int | None) -> dict[str, str]:
    """The list filters (due_after / due_before) of one ageing bucket."""
    if low is None:
        return {"due_after": today.isoformat()}
    params = {"due_before": (today - datetime.timedelta(days=low)).isoformat()}
    if high is not None:
        params["due_after"] = (today - datetime.timedelta(days=high)).isoformat()
    return params


def ageing_table(
    rows: list[dict[str, Any]], url_name: str, open_param: dict[str, str], today: datetime.date
) -> Table:
    """Per currency, the open amount of each ageing bucket (``a0``... with ``n0``... documents), each
    linking to the list filtered to that bucket."""
    body = []
    for r in rows:
        cells = [Cell(r["currency"])]
        for i, (_, low, high) in enumerate(AGEING):
            amount, n = r[f"a{i}"] or Decimal(0), r[f"n{i}"]
            tone = "bad" if n and low is not None and low > 30 else ("warn" if n and low is not None else "")
            cells.append(
                Cell(
                    formatting.money(amount, r["currency"], total=True),
                    link(url_name, **open_param, **ageing_params(today, low, high)) if n else "",
                    tone=tone,
                    title=f"{n} document{'s' if n != 1 else ''}",
                )
            )
        body.append(tuple(cells))
    return Table(
        headers=("Currency", *(label for label, _, _ in AGEING)),
        rows=tuple(body),
        numeric=tuple(range(1, len(AGEING) + 1)),
        empty="Nothing open.",
    )


def per_request(request: HttpRequest, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per request: figures two groups share (the stock's value, the orders to
    ship) cost their query once on a page showing both."""
    cache: dict[str, Any] = request.__dict__.setdefault("_workspace_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]
