"""The MRP screen: run the plan, read it level by level, convert the chosen suggestions."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from erp.models import Job
from manufacturing.models import ManufacturingOrder, MrpSuggestion
from manufacturing.mrp import mrp_run
from procurement.models import PurchaseOrder
from procurement.services import supplier_item_set
from sales.services import order_confirm
from tests.inventory.factories import unit
from tests.manufacturing.factories import bike_world
from tests.manufacturing.test_views import htmx, login, toast_of
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import order_for

pytestmark = pytest.mark.django_db


def day(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def world(db) -> dict:
    """The bike world, 5 bikes ordered in 10 days; frames bought from Acme in boxes of 2."""
    w = bike_world()
    acme = SupplierFactory(name="Acme Frames", lead_time_days=6)
    supplier_item_set(
        supplier=acme,
        product=w["frame"],
        unit_price="90",
        purchase_unit=unit("box"),
        factor=2,
        is_preferred=True,
    )
    order_confirm(order=order_for((w["bike"], 15), order_date=timezone.now() + datetime.timedelta(days=10)))
    w["acme"] = acme
    return w


@pytest.fixture
def planner(client: Client) -> Client:
    return login(client, "Production", username="pia")


def plan_of(response) -> dict[str, tuple]:
    return {
        r.s.product.sku: (r.s.kind, r.s.quantity, r.s.level, r.purchase_quantity, r.late)
        for r in response.context["rows"]
    }


def test_running_mrp_shows_the_plan_level_by_level(planner: Client, world):
    # when: the run is a background job; htmx goes to its page, which links to the plan
    started = planner.post("/manufacturing/mrp/", {"horizon": day(30).isoformat()}, **htmx("plan"))
    job = Job.objects.get()
    job_page = planner.get(started["HX-Redirect"]).content.decode()
    response = planner.get(job.result_url)

    # then: 15 bikes to make; 30 wheels to make; 15 frames (10 in stock) -> 5 -> 3 boxes of 2 = 6
    assert started.status_code == 204
    assert started["HX-Redirect"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.state) == ("mrp", "done")
    assert f"MRP planned to {day(30):%Y-%m-%d}: 5 suggestions." in job_page
    assert job.result_url == "/manufacturing/mrp/"
    assert response.status_code == 200
    plan = plan_of(response)
    assert plan["BIKE"][:3] == ("make", D(15), 0)
    assert plan["FRAME"][:4] == ("buy", D(6), 1, "3 box")
    assert plan["WHEEL"][:3] == ("make", D(30), 1)
    assert [r.s.level for r in response.context["rows"]] == sorted(
        r.s.level for r in response.context["rows"]
    )
    body = response.content.decode()
    assert "Level 0 · finished goods" in body
    assert "Level 1 · used by level 0" in body
    assert "Acme Frames" in body
    assert "SO-" in body  # the demand each covers


def test_a_horizon_in_the_past_is_refused(planner: Client, world):
    response = planner.post("/manufacturing/mrp/", {"horizon": day(-1).isoformat()}, **htmx("plan"))
    assert toast_of(response) == {"message": "MRP did not run: The horizon is in the past.", "level": "error"}
    assert not MrpSuggestion.objects.exists()
    assert not Job.objects.exists()  # refused before a job is started
    empty = planner.post("/manufacturing/mrp/", {"horizon": ""}, **htmx("plan"))
    assert toast_of(empty)["level"] == "error"


def test_late_releases_are_highlighted(planner: Client, world):
    # given: 12 bikes wanted today (10 frames in stock), the frames take 6 days to come
    order_confirm(order=order_for((world["bike"], 12)))
    mrp_run(horizon=day(30))

    response = planner.get("/manufacturing/mrp/?kind=buy")

    rows = response.context["rows"]
    assert {r.s.kind for r in rows} == {"buy"}
    assert any(r.late for r in rows)
    assert '<tr class="late"' in response.content.decode()
    assert response.context["stats"]["late"] >= 1


def test_converting_makes_draft_orders_and_links_them(planner: Client, world):
    run = mrp_run(horizon=day(30))
    bikes = run.suggestions.get(product=world["bike"])
    frames = run.suggestions.get(product=world["frame"])

    response = planner.post(
        "/manufacturing/mrp/convert/", {"suggestion": [bikes.pk, frames.pk]}, **htmx("rows")
    )

    mo = ManufacturingOrder.objects.get(product=world["bike"])
    po = PurchaseOrder.objects.get()
    assert toast_of(response) == {
        "message": f"Created {mo.number}, {po.number} (drafts).",
        "level": "success",
    }
    assert (mo.status, mo.quantity, po.status) == ("draft", 15, "draft")
    assert po.lines.get().quantity == 3  # boxes
    body = response.content.decode()
    assert f'href="/manufacturing/orders/{mo.pk}/"' in body
    assert po.number in body
    created = dict(response.context["created"])
    assert created[mo.number] == f"/manufacturing/orders/{mo.pk}/"
    converted = {r.s.product.sku: r.converted_url for r in response.context["rows"] if r.s.converted_to}
    assert converted["BIKE"] == f"/manufacturing/orders/{mo.pk}/"


def test_converting_keeps_the_filters_and_open_only_hides_what_was_converted(planner: Client, world):
    run = mrp_run(horizon=day(30))
    wheels = run.suggestions.get(product=world["wheel"])

    response = planner.post(
        "/manufacturing/mrp/convert/?kind=make&open=true", {"suggestion": [wheels.pk]}, **htmx("rows")
    )

    skus = [r.s.product.sku for r in response.context["rows"]]
    assert skus == ["BIKE"]  # make only, and the wheels are converted
    assert MrpSuggestion.objects.get(pk=wheels.pk).converted_to.startswith("MO-")


def test_converting_nothing_or_a_buy_without_supplier_is_refused(planner: Client, world):
    # given: the rims have no supplier; 40 wheels need 40 rims, 20 in stock
    order_confirm(order=order_for((world["wheel"], 40)))
    run = mrp_run(horizon=day(30))
    rims = list(run.suggestions.filter(product=world["rim"]).values_list("pk", flat=True))
    assert rims

    nothing = planner.post("/manufacturing/mrp/convert/", {}, **htmx("rows"))
    no_supplier = planner.post("/manufacturing/mrp/convert/", {"suggestion": rims}, **htmx("rows"))

    assert toast_of(nothing) == {
        "message": "Nothing converted: Tick at least one suggestion.",
        "level": "error",
    }
    assert "No preferred supplier for: RIM" in toast_of(no_supplier)["message"]
    assert "Nothing was converted." in no_supplier.content.decode()
    assert not PurchaseOrder.objects.exists()
    assert not MrpSuggestion.objects.exclude(converted_to="").exists()


def test_without_htmx_run_and_convert_redirect_with_their_message(planner: Client, world):
    ran = planner.post("/manufacturing/mrp/", {"horizon": day(30).isoformat()}, follow=True)
    assert "MRP planned to" in ran.content.decode()
    bikes = MrpSuggestion.objects.get(product=world["bike"])
    converted = planner.post("/manufacturing/mrp/convert/", {"suggestion": [bikes.pk]}, follow=True)
    assert converted.redirect_chain[-1][0].startswith("/manufacturing/mrp/")
    assert "(drafts)" in converted.content.decode()
