"""MRP through the manufacturing API: a run's suggestions listed and filtered, then converted to drafts."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from manufacturing.models import ManufacturingOrder, MrpSuggestion
from procurement.models import PurchaseOrder
from procurement.services import supplier_item_set
from sales.services import order_confirm
from tests.manufacturing.api_support import (
    Api,
    api_fixture,  # noqa: F401  (a fixture)
    field_errors,
    issue_all,
    ok,
    parts_fixture,  # noqa: F401  (a fixture)
    wheel_bom_fixture,  # noqa: F401  (a fixture)
)
from tests.procurement.factories import SupplierFactory
from tests.sales.factories import order_for

pytestmark = pytest.mark.django_db


def test_mrp_run_lists_suggestions_and_converts_them_into_draft_orders(api: Api, parts, wheel_bom):
    # given: a sales order for 5 wheels in 10 days, none in stock; rims bought from a preferred supplier
    today = timezone.localdate()
    assert ok(api.get("/mrp/suggestions"))["count"] == 0  # no run yet
    for_rims = SupplierFactory(lead_time_days=4, name="Rim Works")
    supplier_item_set(supplier=for_rims, product=parts["rim"], unit_price="8", is_preferred=True)
    issue_all(parts["rim"])
    order_confirm(
        order=order_for((parts["wheel"], 5), order_date=timezone.now() + datetime.timedelta(days=10))
    )

    # when
    run = ok(api.post("/mrp/run", {"horizon": (today + datetime.timedelta(days=30)).isoformat()}), 201)

    # then: make 5 wheels, due in 10 days, started 2 days earlier; buy 5 rims for then, 4 days ahead
    plan = [
        (s["kind"], s["sku"], s["quantity"], s["due_date"], s["release_date"], s["level"])
        for s in run["suggestions"]
    ]
    day = lambda n: (today + datetime.timedelta(days=n)).isoformat()  # noqa: E731
    assert plan == [
        ("make", "WHEEL", "5.0000", day(10), day(8), 0),
        ("buy", "RIM", "5.0000", day(8), day(4), 1),
    ]
    make, buy = run["suggestions"]
    assert (buy["supplier"], buy["supplier_name"], make["supplier"]) == (for_rims.pk, "Rim Works", None)
    assert make["covers"][0]["demand"].endswith("line 1")
    assert buy["covers"] == [{"demand": "proposed MO for 5 WHEEL", "date": day(8), "quantity": "5.0000"}]
    assert run["horizon"] == day(30)

    listed = ok(api.get("/mrp/suggestions"))
    assert [s["id"] for s in listed["items"]] == [make["id"], buy["id"]]
    assert [s["sku"] for s in ok(api.get("/mrp/suggestions", kind="buy"))["items"]] == ["RIM"]
    assert ok(api.get("/mrp/suggestions", run=run["id"], open=True))["count"] == 2

    # when: both converted
    converted = ok(api.post("/mrp/convert", {"suggestions": [make["id"], buy["id"]]}), 201)

    # then: a draft manufacturing order and a draft purchase order
    mo_number, po_number = converted["documents"]
    mo = ManufacturingOrder.objects.get(number=mo_number)
    assert (mo.product, mo.quantity, mo.status) == (parts["wheel"], 5, "draft")
    po = PurchaseOrder.objects.get(number=po_number)
    assert (po.supplier, po.status, po.lines.get().quantity) == (for_rims, "draft", 5)
    assert {s["converted_to"] for s in ok(api.get("/mrp/suggestions", open=False))["items"]} == {
        mo_number,
        po_number,
    }
    assert ok(api.get("/mrp/suggestions", open=True))["count"] == 0
    assert api.post("/mrp/convert", {"suggestions": [make["id"]]}).status_code == 422  # converted already
    assert not MrpSuggestion.objects.filter(converted_to="").exists()
    unknown_run = api.get("/mrp/suggestions", run=999999)
    assert (unknown_run.status_code, field_errors(unknown_run)) == (
        422,
        {"run": "No MRP run with id 999999."},
    )
    assert api.post("/mrp/run", {"horizon": "2000-01-01"}).status_code == 422
