"""The home per role: what each role sees, and a constant number of queries whatever the data."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory

from erp import workspace
from tests.erp.home_data import role_user, seed_home
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

# The queries each role's figures cost (erp.workspace.role_homes: the user's groups, their
# permissions, every figure group and chart), whatever the number of orders, lines, invoices,
# purchase and manufacturing orders, moves, connections, events and deliveries.
FIGURE_QUERIES = {  # with the user's fetch in role_homes_of
    "Operations manager": 22,
    "Warehouse": 12,
    "Sales": 8,
    "Purchasing": 7,
    "Production": 5,
    "Accountant": 10,
    "Integration admin": 12,
}


@pytest.fixture
def world():
    return seed_home("A")


def role_homes_of(user) -> list[workspace.RoleHome]:
    request = RequestFactory().get("/")
    request.user = type(user).objects.get(pk=user.pk)  # no permission cache carried over
    return workspace.role_homes(request)


@pytest.mark.parametrize("role", sorted(FIGURE_QUERIES))
def test_each_role_home_costs_the_same_queries_whatever_the_data(
    client: Client, world, role: str, django_assert_num_queries
) -> None:
    # given: a user with the role
    user = role_user("worker", role)
    role_homes_of(user)  # warm what is cached per process (content types)

    # when / then: the figures cost the same before and after the data doubles, and so does the page
    with django_assert_num_queries(FIGURE_QUERIES[role]):
        role_homes_of(user)
    client.force_login(user)
    assert_constant_queries(lambda: client.get("/"), lambda: seed_home("B"))
    with django_assert_num_queries(FIGURE_QUERIES[role]):
        homes = role_homes_of(user)
    assert homes
    assert homes[0].groups


def test_a_superuser_sees_the_operations_home_and_the_system_health(client: Client, world) -> None:
    client.force_login(role_user("root", is_superuser=True, is_staff=True))

    html = client.get("/").content.decode()

    assert 'id="home-operations"' in html
    assert "Sales and shipping" in html
    assert "Connected tools" in html
    assert 'aria-label="System health"' in html


def test_a_user_with_two_roles_sees_both_blocks_each_figure_once(client: Client, world) -> None:
    client.force_login(role_user("both", "Warehouse", "Sales"))

    html = client.get("/").content.decode()

    assert 'id="home-warehouse"' in html
    assert 'id="home-sales"' in html
    assert 'id="home-operations"' not in html
    assert html.count('id="chart-ontime-shipping"') == 1
    assert 'aria-label="System health"' not in html  # not theirs to run


def test_each_role_sees_its_own_figures(client: Client, world) -> None:
    expected = {
        "Warehouse": ("To receive today", "Ready to ship", "Counts open", "Transfers in transit"),
        "Sales": ("Open orders", "Overdue invoices", "Top customers, last 30 days"),
        "Purchasing": ("Replenishment suggestions", "Waiting for approval", "Late deliveries"),
        "Production": ("MOs in progress", "Short of components"),
        "Accountant": ("Receivables ageing", "Payables ageing", "Sync with the books"),
        "Integration admin": ("Connected tools", "Sync volume and errors"),
    }
    for i, (role, labels) in enumerate(expected.items()):
        client.force_login(role_user(f"u{i}", role))
        html = client.get("/").content.decode()
        for label in labels:
            assert label in html, (role, label)


def test_a_user_without_a_role_is_told_so(client: Client, world) -> None:
    client.force_login(role_user("new"))

    html = client.get("/").content.decode()

    assert "You have no role yet" in html
    assert "home-group" not in html


def test_an_accountant_sees_the_books_status_without_links_to_pages_they_cannot_open(
    client: Client, world
) -> None:
    client.force_login(role_user("acc", "Accountant"))

    html = client.get("/").content.decode()

    home = html[html.index('id="home-accounting"') :]
    assert "Sync with the books" in home
    assert 'href="/integrations/' not in home


def test_every_figure_link_on_the_operations_home_opens(client: Client, world) -> None:
    client.force_login(role_user("root", is_superuser=True, is_staff=True))
    html = client.get("/").content.decode()
    home = html[html.index('id="home-operations"') :]

    links = set(re.findall(r'href="(/[^"]+)"', home))

    assert len(links) > 10
    for url in sorted(links):
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url


def test_sections_render_before_the_role_homes(client: Client, world) -> None:
    # given: a section of the kernel's (as the getting-started checklist registers), here drawn with
    # the system line's template
    health = {"ok": True, "detail": ""}
    workspace.register_section(
        workspace.HomeSection(
            key="test.first",
            order=1,
            template="erp/home/_health.html",
            context=lambda request: {"database": health, "broker": health},
        )
    )
    try:
        client.force_login(role_user("seller", "Sales"))
        html = client.get("/").content.decode()
    finally:
        workspace._sections.pop("test.first")

    assert html.index("Database up") < html.index('id="home-sales"')


def test_the_warehouse_reads_the_oldest_counts_day_as_every_other_day_is_written(
    client: Client, world
) -> None:
    # given: the open count sheet started on a single-digit day
    from django.utils import timezone

    from inventory.models import CountSheet

    started = timezone.make_aware(timezone.datetime(2026, 12, 6, 9, 30))
    CountSheet.objects.update(created_at=started)
    client.force_login(role_user("wendy", "Warehouse"))

    # when
    html = client.get("/").content.decode()

    # then: "Dec 6", as the charts' days and the purchasing figures write it
    assert "oldest started Dec 6<" in html
    assert "Dec 06" not in html
