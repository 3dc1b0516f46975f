"""Manufacturing pages: who may open them, what htmx gets back, what a page costs in queries.

The helpers here (``login``, ``htmx``, ``toast_of``) are shared by the other
tests/manufacturing/test_views_*.py modules; the world they show is ``bike_world`` (factories.py).
"""

from __future__ import annotations

import datetime
import itertools
import json
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from erp import search as global_search
from manufacturing.models import BillOfMaterials, ManufacturingOrder, MOStatus
from manufacturing.mrp import mrp_run
from manufacturing.services import ComponentSpec, mo_produce, mo_start
from tests.erp.factories import UserFactory
from tests.inventory.factories import ProductFactory
from tests.manufacturing.factories import BomFactory, ManufacturingOrderFactory, bike_world, stock
from tests.queries import assert_constant_queries

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
S = MOStatus
_seq = itertools.count(1)


def htmx(target: str = "", **extra: str) -> dict[str, str]:
    headers = {**HTMX, **extra}
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


def login(client: Client, *roles: str, username: str = "") -> Client:
    name = username or f"u-{'-'.join(roles).lower().replace(' ', '')}-{next(_seq)}"
    client.force_login(UserFactory(username=name, roles=list(roles)))
    return client


def toast_of(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


@pytest.fixture
def world(db) -> dict:
    return bike_world()


@pytest.fixture
def planner(client: Client) -> Client:
    return login(client, "Production", username="pia")


def pages(world: dict) -> list[str]:
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=2)
    return [
        "/manufacturing/",
        "/manufacturing/boms/",
        "/manufacturing/boms/?q=WH&is_active=true",
        f"/manufacturing/boms/{world['bike_bom'].pk}/",
        "/manufacturing/orders/",
        "/manufacturing/orders/?status=open&ordering=-quantity",
        f"/manufacturing/orders/{mo.pk}/",
        "/manufacturing/mrp/",
        "/manufacturing/work-centres/",
    ]


WRITE_PAGES = ("/manufacturing/boms/new/", "/manufacturing/orders/new/")


# --- who may open what -----------------------------------------------------------------------


def test_every_page_opens_for_production(planner: Client, world):
    mrp_run(horizon=timezone.localdate() + datetime.timedelta(days=30))
    for url in [*pages(world), *WRITE_PAGES, f"/manufacturing/boms/new/?product={world['frame'].pk}"]:
        response = planner.get(url)
        assert response.status_code == 200, url
        assert "<html" in response.content.decode(), url


def test_a_sales_user_cannot_read_manufacturing_nor_write(client: Client, world):
    # given: Sales reads inventory and writes sales, nothing of manufacturing
    login(client, "Sales")
    mo = ManufacturingOrderFactory(product=world["wheel"])

    # then: every page and every write answers 403 and says which right is missing
    for url in [*pages(world), *WRITE_PAGES]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Manufacturing (read)" in response.content.decode() or url in WRITE_PAGES
    writes = [
        f"/manufacturing/orders/{mo.pk}/confirm/",
        f"/manufacturing/orders/{mo.pk}/produce/",
        "/manufacturing/orders/new/",
        "/manufacturing/mrp/",
        "/manufacturing/mrp/convert/",
        f"/manufacturing/boms/{world['wheel_bom'].pk}/",
        f"/manufacturing/boms/{world['wheel_bom'].pk}/activate/",
        "/manufacturing/boms/rows/component/",
        "/manufacturing/boms/preview/",
        "/manufacturing/work-centres/",
    ]
    for url in writes:
        assert client.post(url, {"quantity": "1"}, **htmx()).status_code == 403, url
    mo.refresh_from_db()
    assert mo.status == S.DRAFT


def test_a_reader_sees_the_pages_without_a_way_to_change_anything(client: Client, world):
    # given: Warehouse reads manufacturing but does not write it
    login(client, "Warehouse")
    mo = ManufacturingOrderFactory(product=world["wheel"])

    # when
    detail = client.get(f"/manufacturing/orders/{mo.pk}/")
    editor = client.get(f"/manufacturing/boms/{world['wheel_bom'].pk}/")
    posts = [
        client.post(f"/manufacturing/orders/{mo.pk}/confirm/", **htmx("mo")),
        client.post(f"/manufacturing/orders/{mo.pk}/produce/", {"quantity": "1"}, **htmx("mo")),
        client.post(f"/manufacturing/boms/{world['wheel_bom'].pk}/", {"action": "save"}),
        client.post("/manufacturing/boms/rows/component/", {"code": "RIM"}, **htmx()),
        client.post("/manufacturing/boms/rows/remove/", **htmx()),
        client.post("/manufacturing/mrp/", {"horizon": "2099-01-01"}),
        client.post("/manufacturing/work-centres/", {"code": "X", "name": "X", "cost_per_hour": "1"}),
    ]

    # then: 200 to read, without buttons; 403 to write; nothing changed
    assert detail.status_code == 200
    assert detail.context["actions"] == []
    assert 'id="action-confirm"' not in detail.content.decode()
    assert editor.status_code == 200
    assert "disabled" in editor.content.decode()
    assert 'id="save"' not in editor.content.decode()
    assert [r.status_code for r in posts] == [403] * len(posts)
    mo.refresh_from_db()
    assert mo.status == S.DRAFT
    assert client.get("/manufacturing/orders/new/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client: Client, world):
    response = client.get("/manufacturing/orders/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- the landing page ------------------------------------------------------------------------


def test_landing_tiles_count_orders_by_state_and_the_latest_mrp_run(planner: Client, world):
    # given: a draft, an order confirmed with all its components, one confirmed short, one in progress
    ManufacturingOrderFactory(product=world["wheel"])
    ManufacturingOrderFactory(product=world["wheel"], confirmed=True)
    ManufacturingOrderFactory(product=world["bike"], confirmed=True)  # no wheels in stock
    mo_start(mo=ManufacturingOrderFactory(product=world["wheel"], confirmed=True))
    run = mrp_run(horizon=timezone.localdate() + datetime.timedelta(days=30))

    # when
    response = planner.get("/manufacturing/")

    # then
    orders = response.context["orders"]
    assert (orders["drafts"], orders["confirmed"], orders["confirmed_short"], orders["in_progress"]) == (
        1,
        2,
        1,
        1,
    )
    assert response.context["suggestions"]["open"] == run.suggestions.count() > 0
    page = response.content.decode()
    assert "Confirmed, short" in page
    assert "Bills of materials, manufacturing orders and MRP." in page  # the area's summary


# --- lists: fragments, tabs, queries ---------------------------------------------------------


def test_the_order_list_has_status_tabs_with_counts_and_answers_htmx_with_rows(planner: Client, world):
    drafts = [ManufacturingOrderFactory(product=world["wheel"]) for _ in range(2)]
    confirmed = ManufacturingOrderFactory(product=world["wheel"], confirmed=True)

    page = planner.get("/manufacturing/orders/?status=draft")
    fragment = planner.get("/manufacturing/orders/?status=confirmed", **htmx("rows"))

    counts = {t["label"]: t["count"] for t in page.context["tabs"]}
    assert counts == {
        "All": 3,
        "Open": 3,
        "Draft": 2,
        "Confirmed": 1,
        "In progress": 0,
        "Done": 0,
        "Cancelled": 0,
    }
    assert [r.mo for r in page.context["rows"]] == sorted(drafts, key=lambda m: -m.pk)
    body = fragment.content.decode()
    assert "<html" not in body
    assert confirmed.number in body
    assert drafts[0].number not in body


def test_the_order_list_filters_by_text_and_shows_only_short_orders_on_request(planner: Client, world):
    short = ManufacturingOrderFactory(product=world["bike"], confirmed=True)
    full = ManufacturingOrderFactory(product=world["wheel"], confirmed=True)

    by_sku = planner.get("/manufacturing/orders/?q=BIK")
    shorts = planner.get("/manufacturing/orders/?status=confirmed&short=1")

    assert [r.mo for r in by_sku.context["rows"]] == [short]
    assert [(r.mo, r.short) for r in shorts.context["rows"]] == [(short, True)]
    assert full.number not in shorts.content.decode()


def test_the_order_list_costs_the_same_queries_for_5_and_50_orders(planner: Client, world):
    for _ in range(5):
        ManufacturingOrderFactory(product=world["wheel"], confirmed=True)

    def grow():
        for _ in range(45):
            ManufacturingOrderFactory(product=world["bike"])

    assert_constant_queries(lambda: planner.get("/manufacturing/orders/?ordering=number"), grow)


def test_the_bom_list_costs_the_same_queries_for_5_and_50_boms(planner: Client, world):
    parts = [ProductFactory() for _ in range(3)]

    def add(n):
        for _ in range(n):
            BomFactory(components=[ComponentSpec(p, 2) for p in parts])

    add(3)
    assert_constant_queries(lambda: planner.get("/manufacturing/boms/"), lambda: add(45))
    fragment = planner.get("/manufacturing/boms/?q=WHE", **htmx("rows"))
    assert "<html" not in fragment.content.decode()
    assert [b.product.sku for b in fragment.context["page"].object_list] == ["WHEEL"]


def test_the_bom_list_finds_the_boms_using_a_component_by_its_sku(planner: Client, world):
    response = planner.get("/manufacturing/boms/?uses=RIM")
    unknown = planner.get("/manufacturing/boms/?uses=NOPE")
    assert [b.product.sku for b in response.context["page"].object_list] == ["WHEEL"]
    assert list(unknown.context["page"].object_list) == []
    assert "No product has the SKU or barcode" in unknown.content.decode()


def test_the_order_detail_costs_the_same_queries_for_2_and_20_components(planner: Client, world):
    wh = world["warehouse"]
    parts = [ProductFactory() for _ in range(20)]
    for p in parts:
        stock(p, 100, "1.00", wh)
    small_product, big_product = ProductFactory(sku="SMALL"), ProductFactory(sku="BIG")
    BomFactory(product=small_product, components=[ComponentSpec(p, 1) for p in parts[:2]])
    BomFactory(product=big_product, components=[ComponentSpec(p, 1) for p in parts])
    small = ManufacturingOrderFactory(product=small_product, quantity=2, confirmed=True)
    big = ManufacturingOrderFactory(product=big_product, quantity=2, confirmed=True)
    target = {"pk": small.pk}

    def show():
        response = planner.get(f"/manufacturing/orders/{target['pk']}/")
        assert response.status_code == 200

    def grow():
        target["pk"] = big.pk

    assert_constant_queries(show, grow)
    response = planner.get(f"/manufacturing/orders/{big.pk}/")
    assert len(response.context["rows"]) == 20


def test_the_mrp_list_costs_the_same_queries_for_few_and_many_suggestions(planner: Client, world):
    from procurement.services import supplier_item_set
    from sales.services import order_confirm
    from tests.procurement.factories import SupplierFactory
    from tests.sales.factories import order_for

    supplier = SupplierFactory()
    bought = [ProductFactory() for _ in range(30)]
    for p in bought[:20]:
        supplier_item_set(supplier=supplier, product=p, unit_price="2", is_preferred=True)
    order_confirm(order=order_for(*[(p, 1) for p in bought[:3]]))
    horizon = timezone.localdate() + datetime.timedelta(days=30)
    mrp_run(horizon=horizon)

    def grow():
        order_confirm(order=order_for(*[(p, 1) for p in bought[3:]]))
        mrp_run(horizon=horizon)

    assert_constant_queries(lambda: planner.get("/manufacturing/mrp/"), grow)
    assert planner.get("/manufacturing/mrp/").context["stats"]["total"] == 30


# --- search ----------------------------------------------------------------------------------


@pytest.fixture
def search_providers():
    """The providers registered for this test only (registrations.py imports manufacturing.search)."""
    from manufacturing.search import PROVIDERS

    for provider in PROVIDERS:
        global_search.register(provider)
    yield PROVIDERS
    for provider in PROVIDERS:
        global_search._providers.pop(provider.key, None)


def test_search_finds_orders_by_number_and_boms_by_product(world, search_providers):
    mo = ManufacturingOrderFactory(product=world["bike"], quantity=2)
    user = UserFactory(username="searcher", roles=["Production"])
    outsider = UserFactory(username="seller", roles=["Sales"])

    groups = {p.label: r for p, r in global_search.search(mo.number, user)}
    boms = {p.label: r for p, r in global_search.search("wheel", user)}

    assert [r.title for r in groups["Manufacturing orders"]] == [mo.number]
    assert groups["Manufacturing orders"][0].url == f"/manufacturing/orders/{mo.pk}/"
    assert "2 × BIKE" in groups["Manufacturing orders"][0].subtitle
    assert [r.url for r in boms["Bills of materials"]] == [f"/manufacturing/boms/{world['wheel_bom'].pk}/"]
    assert "Bills of materials" not in {p.label: r for p, r in global_search.search("wheel", outsider)}


def test_an_order_in_progress_shows_what_was_produced_and_its_cost(planner: Client, world):
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=4, confirmed=True)
    mo_produce(mo=mo, quantity=1)

    response = planner.get(f"/manufacturing/orders/{mo.pk}/")

    page = response.content.decode()
    assert "1 of 4" in page
    assert response.context["mo"].produced_cost == D("41.60")  # rim 8 + 36 spokes x 0.10 + 30 of operations
    assert response.context["unit_cost"] == D("41.60")
    assert BillOfMaterials.objects.count() == 2
    assert ManufacturingOrder.objects.get().status == S.IN_PROGRESS


def test_work_centres_are_listed_and_added(planner: Client, world):
    added = planner.post(
        "/manufacturing/work-centres/",
        {"code": "PNT", "name": "Paint shop", "cost_per_hour": "45"},
        follow=True,
    )
    twice = planner.post(
        "/manufacturing/work-centres/", {"code": "PNT", "name": "Again", "cost_per_hour": "1"}
    )

    assert added.redirect_chain == [("/manufacturing/work-centres/", 302)]
    assert "Work centre PNT is added." in added.content.decode()
    assert [(c.code, c.operation_count) for c in added.context["centres"]] == [("ASM", 2), ("PNT", 0)]
    assert twice.status_code == 422
    assert twice.context["form"].errors["code"] == ["Already used."]
