"""Manufacturing order pages that write: the create form and every action of the detail page."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import Lot, StockLevel
from manufacturing.models import ManufacturingOrder, MOStatus
from manufacturing.services import ComponentSpec, mo_produce, mo_start
from tests.inventory.factories import ProductFactory, bin_of
from tests.manufacturing.factories import BomFactory, ManufacturingOrderFactory, bike_world, stock
from tests.manufacturing.test_views import htmx, login, toast_of

pytestmark = pytest.mark.django_db
S = MOStatus


@pytest.fixture
def world(db) -> dict:
    return bike_world()


@pytest.fixture
def planner(client: Client) -> Client:
    return login(client, "Production", username="pia")


def act(client: Client, mo: ManufacturingOrder, action: str, **data):
    return client.post(f"/manufacturing/orders/{mo.pk}/{action}/", data, **htmx("mo"))


def status_of(mo: ManufacturingOrder) -> str:
    return ManufacturingOrder.objects.get(pk=mo.pk).status


# --- create ----------------------------------------------------------------------------------


def test_an_order_is_created_as_a_draft_with_its_components(planner: Client, world):
    today = timezone.localdate()
    response = planner.post(
        "/manufacturing/orders/new/",
        {
            "product": world["wheel"].pk,
            "quantity": "4",
            "warehouse": world["warehouse"].pk,
            "planned_start": today.isoformat(),
        },
    )
    mo = ManufacturingOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/manufacturing/orders/{mo.pk}/"
    assert (mo.status, mo.quantity, mo.planned_finish) == (S.DRAFT, 4, today + datetime.timedelta(days=2))
    lines = {c.product.sku: c.quantity_required for c in mo.components.select_related("product")}
    assert lines == {"RIM": 4, "SPOKE": 141}
    page = planner.get(response["Location"]).content.decode()
    assert f"{mo.number} is created as a draft" in page


def test_the_create_form_offers_only_products_with_an_active_bom_and_checks_the_dates(planner: Client, world):
    page = planner.get(f"/manufacturing/orders/new/?product={world['bike'].pk}")
    choices = [label for value, label in page.context["form"].fields["product"].choices if value]
    assert choices == ["BIKE · City bike", "WHEEL · Wheel 26 inch"]
    assert page.context["form"]["product"].value() == str(world["bike"].pk)
    assert page.context["form"]["warehouse"].value() == world["warehouse"].pk  # the only one

    refused = planner.post(
        "/manufacturing/orders/new/",
        {
            "product": world["frame"].pk,  # bought, no BOM
            "quantity": "0",
            "warehouse": world["warehouse"].pk,
            "planned_start": "2030-01-10",
            "planned_finish": "2030-01-01",
        },
    )
    errors = refused.context["form"].errors
    assert refused.status_code == 422
    assert set(errors) == {"product", "quantity", "planned_finish"}
    assert not ManufacturingOrder.objects.exists()


# --- confirm ---------------------------------------------------------------------------------


def test_confirm_reserves_components_and_says_so(planner: Client, world):
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=2)

    response = act(planner, mo, "confirm")

    assert response.status_code == 200
    assert toast_of(response) == {
        "message": f"{mo.number} is confirmed: every component is reserved.",
        "level": "success",
    }
    assert "<html" not in response.content.decode()
    assert 'id="mo-status">Confirmed<' in response.content.decode()
    rows = {r.line.product.sku: r for r in response.context["rows"]}
    assert (rows["RIM"].reserved, rows["RIM"].shortage) == (2, 0)
    assert status_of(mo) == S.CONFIRMED


def test_confirm_with_shortages_warns_and_highlights_them(planner: Client, world):
    # given: a bike needs 2 wheels; none in stock
    mo = ManufacturingOrderFactory(product=world["bike"])

    response = act(planner, mo, "confirm")

    assert toast_of(response) == {
        "message": f"{mo.number} is confirmed, but short of WHEEL 2.",
        "level": "warning",
    }
    body = response.content.decode()
    assert "Confirmed, but short." in body
    assert '<tr class="short" data-sku="WHEEL">' in body
    rows = {r.line.product.sku: r for r in response.context["rows"]}
    assert (rows["WHEEL"].reserved, rows["WHEEL"].available, rows["WHEEL"].shortage) == (0, 0, 2)
    assert (rows["FRAME"].reserved, rows["FRAME"].available, rows["FRAME"].shortage) == (1, 9, 0)
    assert status_of(mo) == S.CONFIRMED


def test_a_refused_action_changes_nothing_and_says_why(planner: Client, world):
    mo = ManufacturingOrderFactory(product=world["wheel"], confirmed=True)

    response = act(planner, mo, "confirm")

    assert toast_of(response) == {
        "message": "A manufacturing order cannot go from 'confirmed' to 'confirmed'.",
        "level": "error",
    }
    assert "Nothing was changed." in response.content.decode()
    assert status_of(mo) == S.CONFIRMED
    assert act(planner, mo, "explode").status_code == 404


# --- start, produce, finish, cancel ----------------------------------------------------------


def test_start_moves_a_confirmed_order_in_progress_and_refuses_a_draft(planner: Client, world):
    draft = ManufacturingOrderFactory(product=world["wheel"])
    confirmed = ManufacturingOrderFactory(product=world["wheel"], confirmed=True)

    refused = act(planner, draft, "start")
    started = act(planner, confirmed, "start")

    assert "'draft' to 'in_progress'" in toast_of(refused)["message"]
    assert toast_of(started) == {"message": f"{confirmed.number} is started.", "level": "success"}
    assert (status_of(draft), status_of(confirmed)) == (S.DRAFT, S.IN_PROGRESS)
    assert [a.key for a in started.context["actions"]] == ["finish", "cancel"]
    assert started.context["can_produce"] is True


def test_produce_part_then_the_rest_then_finish(planner: Client, world):
    # given: 4 wheels, confirmed
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=4, confirmed=True)

    # when: 1, then 3, then finish
    first = act(planner, mo, "produce", quantity="1")
    rest = act(planner, mo, "produce", quantity="3")
    done = act(planner, mo, "finish")

    # then
    assert toast_of(first) == {"message": "1 WHEEL made: 1 of 4. 3 to go.", "level": "success"}
    assert "1 of 4" in first.content.decode()
    assert first.context["unit_cost"] == D("41.60")
    assert toast_of(rest)["message"] == "3 WHEEL made: 4 of 4. All made: finish the order."
    assert toast_of(done) == {"message": f"{mo.number} is done: 4 made.", "level": "success"}
    mo.refresh_from_db()
    assert (mo.status, mo.quantity_produced, mo.produced_cost) == (S.DONE, 4, D("166.10"))
    assert StockLevel.objects.get(product=world["wheel"], location=bin_of(world["warehouse"])).on_hand == 4
    assert done.context["actions"] == []


def test_producing_too_many_is_refused_on_the_field_and_nothing_changes(planner: Client, world):
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=2, confirmed=True)

    response = act(planner, mo, "produce", quantity="3")
    nonsense = act(planner, mo, "produce", quantity="many")

    assert "at most 2 more" in toast_of(response)["message"]
    assert response.context["produce_form"].errors["quantity"] == ["Too many."]
    assert "Nothing was changed." in response.content.decode()
    assert nonsense.context["produce_form"].errors["quantity"]
    mo.refresh_from_db()
    assert (mo.status, mo.quantity_produced) == (S.CONFIRMED, 0)
    assert StockLevel.objects.filter(product=world["wheel"]).count() == 0


def test_producing_a_draft_is_refused(planner: Client, world):
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=2)
    response = act(planner, mo, "produce", quantity="1")
    assert "'draft' to 'produced'" in toast_of(response)["message"]
    assert ManufacturingOrder.objects.get(pk=mo.pk).quantity_produced == 0


def test_a_lot_tracked_output_needs_its_lot(planner: Client, world):
    # given: jam, tracked by lot, made of fruit
    fruit = ProductFactory(sku="FRUIT")
    stock(fruit, 10)
    jam = ProductFactory(sku="JAM", tracking="lot")
    BomFactory(product=jam, components=[ComponentSpec(fruit, 2)])
    mo = ManufacturingOrderFactory(product=jam, quantity=2, confirmed=True)
    page = planner.get(f"/manufacturing/orders/{mo.pk}/").content.decode()
    assert 'id="produce-lot"' in page

    refused = act(planner, mo, "produce", quantity="1")
    made = act(planner, mo, "produce", quantity="1", lot_code="L-2024-01")

    assert "tracked by lot" in toast_of(refused)["message"]
    assert toast_of(made)["level"] == "success"
    assert Lot.objects.filter(product=jam, code="L-2024-01").exists()


def test_a_serial_tracked_output_takes_one_serial_per_unit(planner: Client, world):
    part = ProductFactory(sku="BOARD")
    stock(part, 10)
    phone = ProductFactory(sku="PHONE", tracking="serial")
    BomFactory(product=phone, components=[ComponentSpec(part, 1)])
    mo = ManufacturingOrderFactory(product=phone, quantity=3, confirmed=True)

    refused = act(planner, mo, "produce", quantity="2", serials="SN-1")
    made = act(planner, mo, "produce", quantity="2", serials="SN-1\nSN-2")

    assert "give 2 serial numbers" in toast_of(refused)["message"]
    assert toast_of(made)["level"] == "success"
    assert sorted(Lot.objects.filter(product=phone).values_list("code", flat=True)) == ["SN-1", "SN-2"]


def test_finish_without_production_is_refused(planner: Client, world):
    mo = mo_start(mo=ManufacturingOrderFactory(product=world["wheel"], confirmed=True))
    response = act(planner, mo, "finish")
    assert "Nothing of" in toast_of(response)["message"]
    assert status_of(mo) == S.IN_PROGRESS


def test_cancel_releases_reservations_and_a_done_order_cannot_be_cancelled(planner: Client, world):
    wh = world["warehouse"]
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=2, confirmed=True)
    finished = ManufacturingOrderFactory(product=world["wheel"], confirmed=True)
    mo_produce(mo=finished, quantity=1)
    act(planner, finished, "finish")

    cancelled = act(planner, mo, "cancel")
    refused = act(planner, finished, "cancel")

    assert toast_of(cancelled)["message"] == f"{mo.number} is cancelled; its reservations are released."
    assert StockLevel.objects.get(product=world["rim"], location=bin_of(wh)).reserved == 0
    assert "'done' to 'cancelled'" in toast_of(refused)["message"]
    assert (status_of(mo), status_of(finished)) == (S.CANCELLED, S.DONE)


def test_without_htmx_an_action_redirects_with_its_message(planner: Client, world):
    mo = ManufacturingOrderFactory(product=world["wheel"])

    response = planner.post(f"/manufacturing/orders/{mo.pk}/confirm/", follow=True)

    assert response.redirect_chain[-1][0] == f"/manufacturing/orders/{mo.pk}/"
    assert f"{mo.number} is confirmed: every component is reserved." in response.content.decode()
    assert planner.get(f"/manufacturing/orders/{mo.pk}/confirm/").status_code == 405


def test_the_detail_offers_the_actions_of_the_lifecycle_with_confirmations(planner: Client, world):
    mo = ManufacturingOrderFactory(product=world["wheel"], quantity=2)

    draft = planner.get(f"/manufacturing/orders/{mo.pk}/")

    assert [a.key for a in draft.context["actions"]] == ["confirm", "cancel"]
    assert draft.context["can_produce"] is False
    body = draft.content.decode()
    assert f'hx-confirm="Confirm {mo.number}? Its components are reserved in WH1."' in body
    assert planner.get("/manufacturing/orders/999999/").status_code == 404
