"""The home's registry (erp.workspace) and the server-drawn charts (erp.charts)."""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal

import pytest

from erp import charts, workspace
from erp.charts import Chart, Series, compact, nice_ticks
from tests.erp.factories import UserFactory


def test_ticks_are_round_and_reach_the_top() -> None:
    assert nice_ticks(95) == [0, 25, 50, 75, 100]
    assert nice_ticks(1234)[-1] >= 1234
    assert nice_ticks(0) == [0.0, 1.0]
    assert [compact(v) for v in (950, 1200, 35_000, 1_500_000, 2.5)] == ["950", "1.2k", "35k", "1.5M", "2.5"]


def chart(kind: str = "stacked") -> Chart:
    return Chart(
        key="t",
        title="Sales <per> day",
        kind=kind,  # type: ignore[arg-type]
        labels=["Dec 1", "Dec 2", "Dec 3"],
        series=[
            Series("Web & co", [Decimal(10), Decimal(0), Decimal(5)]),
            Series("Errors", [1, 2, 0], highlight=True),
        ],
        unit="USD",
    )


@pytest.mark.parametrize("kind", ["bar", "stacked", "line"])
def test_a_chart_is_an_accessible_svg_with_escaped_text(kind: str) -> None:
    svg = str(chart(kind).svg())

    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert 'aria-label="Sales &lt;per&gt; day in USD, Dec 1 to Dec 3; series: Web &amp; co, Errors.' in svg
    assert "Web &amp; co" in svg
    assert "<per>" not in svg
    assert "<title>Dec 1 · Web &amp; co: 10 USD</title>" in svg  # a hover text per bar or point
    assert ">Dec 1<" in svg  # x labels
    assert svg.count("<pattern") == 2  # one per series


def test_bars_are_told_apart_without_colour_each_series_its_own_pattern() -> None:
    svg = str(chart("stacked").svg())

    assert 'fill="url(#t-p0)"' in svg
    assert 'fill="url(#t-p1)"' in svg
    assert 'class="tex" d="M0,0 L6,6 M6,0 L0,6"' in svg  # the highlighted series is cross-hatched
    assert 'class="c-bad"' in svg


def test_the_table_under_a_chart_has_every_number_and_a_total_per_stack() -> None:
    c = chart("stacked")

    assert c.table_headers == ["", "Web & co", "Errors", "Total"]
    assert c.table_rows[0] == ["Dec 1", "10", "1", "11"]
    assert not c.is_empty
    assert Chart(key="e", title="E", kind="bar", labels=["a"], series=[Series("s", [0])]).is_empty


def test_a_line_labels_its_last_value_directly() -> None:
    svg = str(chart("line").svg())

    assert '<text class="end-label"' in svg
    assert ">5</text>" in svg
    assert "<polyline" in svg


def test_a_legend_too_wide_for_one_row_wraps_and_names_every_series() -> None:
    # given: five channels whose names fill more than the chart's width (the demo's euro channels
    # once lost "Wholesale" off the right edge)
    names = ["Amazon marketplace", "Manual orders", "Rotterdam store (POS)", "Wholesale", "Web shop NL"]
    chart = Chart(
        key="wide",
        title="Sales",
        kind="stacked",
        labels=["a", "b"],
        series=[Series(name, [Decimal(1), Decimal(2)]) for name in names],
    )

    # when
    svg = str(chart.svg())

    # then: every name is drawn, inside the width, on more than one row, the plot moved down
    rows = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" class="legend">([^<]+)</text>', svg)
    assert [html.unescape(name) for _, _, name in rows] == names
    assert all(float(x) + 7.4 * len(name) <= charts.WIDTH for x, _, name in rows)
    assert len({y for _, y, _ in rows}) > 1
    height = int(re.search(r'viewBox="0 0 \d+ (\d+)"', svg).group(1))
    assert height > charts.HEIGHT


def x_labels(svg: str) -> list[tuple[float, str, str]]:
    """The x axis' labels: (x, anchor, text), left to right."""
    found = re.findall(r'<text class="tick" x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)">([^<]+)</text>', svg)
    return [(float(x), anchor, text) for x, anchor, text in found if not re.fullmatch(r"[\d.]+[kMG]?", text)]


@pytest.mark.parametrize(("days", "every"), [(14, 0), (30, 0), (90, 15), (8, 0)])
def test_the_last_day_is_always_labelled_and_inside_the_chart(days: int, every: int) -> None:
    # given: a chart per day whose last category is today (the sync chart once labelled Dec 5
    # beside today's bar, and left today without a label)
    first = datetime.date(2026, 9, 8)
    labels = [f"{d:%b} {d.day}" for d in (first + datetime.timedelta(days=i) for i in range(days))]
    c = Chart(
        key="d",
        title="Per day",
        kind="bar",
        labels=labels,
        series=[Series("n", [1] * days)],
        label_every=every,
    )

    # when
    shown = x_labels(str(c.svg()))

    # then: today is labelled, the labels are evenly spaced back from it, none runs off the edge
    assert shown[-1][2] == labels[-1]
    step = every or -(-days // 6)
    assert [text for _, _, text in shown] == labels[(days - 1) % step :: step]
    for x, anchor, text in shown:
        right = x if anchor == "end" else x + charts.CHAR_WIDTH * len(text) / 2
        assert right <= charts.WIDTH, text


@pytest.mark.django_db
def test_homes_follow_the_roles_and_a_superuser_gets_operations() -> None:
    assert workspace.homes_of(UserFactory(roles=["Sales", "Accountant"])) == ["sales", "accounting"]
    assert workspace.homes_of(UserFactory(roles=["Purchasing manager"])) == ["purchasing"]
    assert workspace.homes_of(UserFactory(is_superuser=True)) == ["operations"]
    assert workspace.homes_of(UserFactory()) == []


def test_a_provider_for_an_unknown_home_is_refused() -> None:
    provider = workspace.FigureProvider("x", ("nowhere",), 1, lambda request: None)
    with pytest.raises(ValueError, match="nowhere"):
        workspace.register_figures(provider)


def test_every_role_has_a_home_with_figures() -> None:
    from erp.access import ROLES

    assert {role.name for role in ROLES} <= set(workspace.ROLE_HOMES)
    for home in set(workspace.ROLE_HOMES.values()):
        assert workspace.providers_for(home), home


def test_ageing_buckets_and_their_list_filters_agree() -> None:
    today = datetime.date(2026, 12, 6)
    assert workspace.ageing_params(today, None, 0) == {"due_after": "2026-12-06"}
    assert workspace.ageing_params(today, 1, 30) == {"due_before": "2026-12-05", "due_after": "2026-11-06"}
    assert workspace.ageing_params(today, 91, None) == {"due_before": "2026-09-06"}
    assert workspace.link("sales:orders", status="open", late="true", customer=None) == (
        "/sales/orders/?status=open&late=true"
    )
