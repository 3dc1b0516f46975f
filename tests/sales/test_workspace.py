"""Sales' figures on the role homes, checked against the database, and the lists they link to."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from erp.workspace import AGEING, ageing_params
from inventory.models import ProductKind, Reservation
from inventory.services import stock_receive
from sales import selectors, workspace
from sales.filters import backordered_lines, late_cutoff
from sales.models import FulfilledBy, Invoice, InvoiceStatus, OrderStatus, SalesOrder, Shipment
from sales.services import LineSpec, ShipLine, order_confirm, order_create, shipment_create
from tests.erp.home_data import role_user, seed_home
from tests.inventory.factories import ProductFactory, bin_of, warehouse
from tests.sales.factories import ChannelFactory, CustomerFactory, order_for, stocked_product

pytestmark = pytest.mark.django_db


def listed(client: Client, url: str) -> int:
    """How many rows the list at ``url`` shows (its paginator's count)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


@pytest.fixture
def world():
    return seed_home("A")


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(role_user("ops", "Operations manager"))
    return client


def test_orders_to_ship_late_and_backordered_match_the_database_and_their_lists(world, staff: Client) -> None:
    figures = workspace.shipping_figures()

    to_ship = SalesOrder.objects.filter(status__in=[OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED])
    assert figures["to_ship"] == to_ship.count() == 3
    assert figures["late"] == to_ship.filter(order_date__lt=late_cutoff()).count() == 1
    assert figures["backordered"] == 1
    assert listed(staff, "/sales/orders/?to_ship=true") == 3
    assert listed(staff, "/sales/orders/?late=true") == 1
    assert listed(staff, "/sales/orders/?backordered=true") == 1
    assert staff.get("/sales/orders/?late=true").context["page"].object_list[0] == world.late


def test_backorders_and_ready_to_ship_are_counted_in_one_query_as_their_lists_define_them(
    world, django_assert_num_queries
) -> None:
    # given: besides the seed, lines held in two bins, part held, none held, fulfilled by the
    # marketplace, a service, partly shipped, and a draft that is not to ship
    wh = warehouse("WH1")
    two_bins = stocked_product(2)
    stock_receive(product=two_bins, location=bin_of(wh, "B2"), quantity=2, unit_cost="4.00")
    short, none_held = stocked_product(1), ProductFactory()
    service = ProductFactory(kind=ProductKind.SERVICE)
    mixed = order_confirm(
        order=order_create(
            channel=world.channel,
            customer=CustomerFactory(),
            lines=[
                LineSpec(product=two_bins, quantity=3),
                LineSpec(product=none_held, quantity=1, fulfilled_by=FulfilledBy.MARKETPLACE),
                LineSpec(product=service, quantity=1),
            ],
        )
    )
    order_confirm(order=order_for((short, 3), (service, 1), channel=world.channel))
    order_confirm(order=order_for((none_held, 2), channel=world.channel))
    four = stocked_product(4)
    partly = order_confirm(order=order_for((four, 4), (none_held, 1), channel=world.channel))
    shipment_create(order=partly, lines=[ShipLine(partly.lines.get(product=four), 2)])
    order_for((none_held, 5), channel=world.channel)  # a draft
    held_twice = mixed.lines.get(product=two_bins)
    assert Reservation.objects.filter(demand_pk=held_twice.pk, status="active").count() == 2

    # when
    with django_assert_num_queries(1):
        figures = workspace.open_line_figures()

    # then: what the lists behind the figures count (sales.filters, sales.selectors)
    ready = selectors.ready_to_ship()
    assert figures == {
        "backordered": backordered_lines().values("order").distinct().count(),
        "ready_orders": ready.values("order").distinct().count(),
        "ready_lines": ready.count(),
    }
    # the seed's backordered order, short, none held, partly shipped; ready: the seed's two, mixed,
    # short (one of three held) and partly shipped (what is left held)
    assert figures == {"backordered": 4, "ready_orders": 5, "ready_lines": 5}


def test_sales_by_channel_counts_booked_orders_today_and_this_week(world, staff: Client) -> None:
    # given: a draft (not booked) in the same channel
    order_for((world.ready.lines.first().product, 1), channel=world.channel)

    rows = workspace.sales_by_channel()

    [row] = rows
    booked = SalesOrder.objects.filter(channel=world.channel).exclude(status__in=["draft", "cancelled"])
    today = booked.filter(order_date__gte=row["day_start"])
    assert row["today_count"] == today.count() == 3
    assert row["today_total"] == sum(o.total for o in today)
    assert row["week_count"] == booked.filter(order_date__gte=row["week_start"]).count()
    url = f"/sales/orders/?booked=true&channel={world.channel.pk}&since={row['day_start'].isoformat()}"
    assert listed(staff, url.replace("+", "%2B")) == 3


def test_top_customers_rank_by_what_they_booked(world) -> None:
    big = CustomerFactory(name="Big spender")
    order_confirm(
        order=order_for((stocked_product(5, price="500.00"), 2), channel=world.channel, customer=big)
    )

    top = workspace.top_customers()

    assert top[0]["customer__name"] == "Big spender"
    assert top[0]["total"] == SalesOrder.objects.get(customer=big).total
    assert top[1]["orders"] == 4  # Acme A's four booked orders


def test_receivables_ageing_puts_an_invoice_in_its_bucket_and_links_to_it(world, staff: Client) -> None:
    today = timezone.localdate()
    invoice = world.overdue
    days_over = (today - invoice.due_date).days

    [row] = workspace.receivables_ageing(today)

    bucket = 1 if days_over <= 30 else 2
    assert row[f"n{bucket}"] == 1
    assert row[f"a{bucket}"] == invoice.total - invoice.amount_paid
    assert row["n0"] == 0
    params = "&".join(f"{k}={v}" for k, v in ageing_params(today, *AGEING[bucket][1:]).items())
    assert listed(staff, f"/sales/invoices/?open=true&kind=invoice&{params}") == 1


def test_an_open_invoice_not_due_is_current_and_a_paid_one_is_not_counted(world) -> None:
    Invoice.objects.filter(pk=world.overdue.pk).update(
        due_date=timezone.localdate() + datetime.timedelta(days=3)
    )

    [row] = workspace.receivables_ageing()
    assert (row["n0"], row["n1"], row["n2"]) == (1, 0, 0)

    Invoice.objects.filter(pk=world.overdue.pk).update(status=InvoiceStatus.PAID)
    assert workspace.receivables_ageing() == []


def test_sales_per_day_stacks_each_channel_in_the_base_currency(world) -> None:
    other = ChannelFactory(code="shop", name="Shop")
    order_confirm(order=order_for((stocked_product(5), 1), channel=other))

    [chart] = workspace.sales_per_day()

    by_name = {s.name: s.values for s in chart.series}
    assert set(by_name) == {world.channel.name, "Shop"}
    today_total = sum(
        o.total
        for o in SalesOrder.objects.filter(channel=world.channel).exclude(status="draft")
        if timezone.localtime(o.order_date).date() == timezone.localdate()
    )
    assert by_name[world.channel.name][-1] == today_total
    assert len(chart.labels) == workspace.SALES_DAYS
    assert 'role="img"' in chart.svg()
    assert chart.table_rows[-1][-1] == chart.fmt(by_name[world.channel.name][-1] + by_name["Shop"][-1])


def test_on_time_shipping_is_the_share_shipped_within_the_promise(world) -> None:
    # given: the seed shipped one order at once; another shipped 3 days after its confirmation
    slow = order_confirm(order=order_for((stocked_product(5), 1), channel=world.channel))
    shipment = shipment_create(order=slow)
    type(shipment).objects.filter(pk=shipment.pk).update(
        shipped_at=slow.confirmed_at + datetime.timedelta(days=3)
    )

    # and one whose first shipment left at once, its second days later: on time by its first
    twice = order_confirm(order=order_for((stocked_product(5), 2), channel=world.channel))
    shipment_create(order=twice, lines=[ShipLine(twice.lines.get(), 1)])
    later = shipment_create(order=twice)
    Shipment.objects.filter(pk=later.pk).update(shipped_at=twice.confirmed_at + datetime.timedelta(days=4))

    chart = workspace.ontime_shipping()

    confirmed_this_week = SalesOrder.objects.exclude(status="cancelled").filter(confirmed_at__isnull=False)
    on_time = 2  # the seed's shipped order, and the order shipped twice
    assert chart.series[0].values[-1] == Decimal(100 * on_time) / confirmed_this_week.count()
    assert chart.max_value == 100


def test_each_currency_sold_in_has_its_own_sales_chart_most_sold_first(world) -> None:
    # given: a euro channel that sells more than the base currency's channels
    euro = ChannelFactory(code="nl", name="Rotterdam", currency="EUR")
    order_confirm(order=order_for((stocked_product(50, price="900.00"), 2), channel=euro))

    # when
    charts = workspace.sales_per_day()

    # then: two charts, never one sum of dollars and euros
    assert [c.unit for c in charts] == ["EUR", settings.ERP_BASE_CURRENCY]
    euros = {s.name: s.values for s in charts[0].series}
    assert set(euros) == {"Rotterdam"}
    assert euros["Rotterdam"][-1] == SalesOrder.objects.get(channel=euro).total
    assert "EUR" in charts[0].title
    assert "€" in charts[0].fmt(euros["Rotterdam"][-1])
    assert world.channel.name in {s.name for s in charts[1].series}
