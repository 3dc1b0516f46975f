"""The manufacturing admin: every changelist and change page opens for a superuser with data, and the
"confirm" action confirms draft orders through the service."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import Client

from inventory.models import Reservation
from manufacturing.models import ManufacturingOrder, MOStatus
from manufacturing.mrp import mrp_run
from manufacturing.services import (
    ComponentSpec,
    OperationSpec,
    mo_cancel,
    mo_finish,
    mo_produce,
)
from tests.inventory.factories import ProductFactory
from tests.manufacturing.factories import BomFactory, ManufacturingOrderFactory, WorkCentreFactory, stock

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (m for m in admin.site._registry if m._meta.app_label == "manufacturing"),
    key=lambda m: m._meta.model_name,
)


def url_of(model_name: str, suffix: str = "") -> str:
    return f"/admin/manufacturing/{model_name}/{suffix}"


@pytest.fixture
def boss(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def plant() -> dict[str, ManufacturingOrder]:
    """A wheel (rim + spokes, 2 versions), orders in every state, and an MRP run with suggestions."""
    rim, spoke, wheel = ProductFactory(sku="RIM"), ProductFactory(sku="SPOKE"), ProductFactory(sku="WHEEL")
    stock(rim, 4, "8.00")
    stock(spoke, 500, "0.10")
    centre = WorkCentreFactory(code="ASM", name="Assembly", cost_per_hour="60")
    BomFactory(product=wheel, components=[ComponentSpec(rim, 1), ComponentSpec(spoke, 36)])
    BomFactory(
        product=wheel,
        components=[ComponentSpec(rim, 1), ComponentSpec(spoke, 32, scrap_percent=10)],
        operations=[OperationSpec("Lace and true", centre, 30)],
    )
    done = ManufacturingOrderFactory(product=wheel, confirmed=True)
    mo_finish(mo=mo_produce(mo=done, quantity=1))
    cancelled = ManufacturingOrderFactory(product=wheel, confirmed=True)
    mo_cancel(mo=cancelled, reason="not needed")
    in_progress = ManufacturingOrderFactory(product=wheel, quantity=2, confirmed=True)
    mo_produce(mo=in_progress, quantity=1)
    draft = ManufacturingOrderFactory(product=wheel, quantity=5)
    mrp_run()
    return {"draft": draft, "in_progress": in_progress}


def test_the_manufacturing_models_are_registered():
    assert [m._meta.model_name for m in REGISTERED] == [
        "billofmaterials",
        "manufacturingorder",
        "mrprun",
        "workcentre",
    ]


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.model_name)
def test_each_changelist_and_change_page_opens_with_data(boss: Client, plant, model):
    changelist = boss.get(url_of(model._meta.model_name))

    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == model.objects.count() > 0
    assert boss.get(url_of(model._meta.model_name), {"q": "W"}).status_code == 200
    for obj in model.objects.order_by("pk"):
        change = boss.get(url_of(model._meta.model_name, f"{obj.pk}/change/"))
        assert change.status_code == 200, (obj, change.status_code)


def test_an_order_page_shows_its_components_and_is_read_only(boss: Client, plant):
    mo = plant["in_progress"]

    page = boss.get(url_of("manufacturingorder", f"{mo.pk}/change/"))

    assert mo.number in page.content.decode()
    assert "SPOKE · " in page.content.decode()  # the component lines, inline
    assert not page.context["has_change_permission"]
    assert boss.get(url_of("manufacturingorder", "add/")).status_code == 403


def test_the_confirm_action_confirms_a_draft_order_and_reports_its_shortages(boss: Client, plant):
    # given: a draft for 5 wheels; 1 rim is left in stock
    draft = plant["draft"]

    # when
    response = boss.post(
        url_of("manufacturingorder"),
        {"action": "confirm", "_selected_action": [draft.pk, plant["in_progress"].pk], "index": 0},
    )

    # then: the draft is confirmed with what there is reserved; the order in progress is refused
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == MOStatus.CONFIRMED
    assert Reservation.objects.filter(reference=draft.number, status="active").exists()
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert f"{draft.number}: short of RIM 4" in messages
    assert any(
        m.startswith(plant["in_progress"].number) and "'in_progress' to 'confirmed'" in m for m in messages
    )
    assert ManufacturingOrder.objects.get(pk=plant["in_progress"].pk).status == MOStatus.IN_PROGRESS
