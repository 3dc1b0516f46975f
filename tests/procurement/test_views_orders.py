"""Purchase order pages that write: the actions on the detail page and the create/edit form."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.test import Client, override_settings

from procurement import services
from procurement.models import PurchaseOrder, PurchaseOrderStatus
from tests.inventory.factories import ProductFactory, unit
from tests.procurement.test_views import htmx, login, make_world, sent_order

pytestmark = pytest.mark.django_db
S = PurchaseOrderStatus


@pytest.fixture
def world(db) -> dict:
    return make_world()


@pytest.fixture
def buyer(client: Client) -> Client:
    return login(client, "Purchasing", username="pat")


@pytest.fixture
def manager() -> Client:
    return login(Client(), "Purchasing manager", username="maggie")


def toast_of(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


# --- the actions -----------------------------------------------------------------------------


def test_a_draft_above_the_threshold_says_it_needs_approval_and_cannot_be_sent(buyer: Client, world):
    # given: the fixture's draft is 3 boxes at 60 = 180
    draft = world["draft"]
    with override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100")):
        # when
        page = buyer.get(f"/procurement/orders/{draft.pk}/")
        response = buyer.post(f"/procurement/orders/{draft.pk}/send/", **htmx("po"))

    # then: the banner, no approve button for a buyer, and the send is refused with the reason
    assert "Needs approval by a purchasing manager" in page.content.decode()
    assert [a.key for a in page.context["actions"]] == ["request-approval", "cancel"]  # not "send"
    assert response.status_code == 200
    assert "above the approval threshold" in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    assert toast_of(response)["level"] == "error"
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def test_a_buyer_cannot_approve_even_by_posting(buyer: Client, world):
    draft = world["draft"]
    with override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100")):
        response = buyer.post(f"/procurement/orders/{draft.pk}/approve/", **htmx("po"))
    assert "Only a purchasing manager" in toast_of(response)["message"]
    draft.refresh_from_db()
    assert draft.approved_at is None


def test_a_manager_approves_then_the_order_is_sent(manager: Client, world):
    draft = world["draft"]
    with override_settings(PURCHASE_APPROVAL_THRESHOLD=D("100")):
        page = manager.get(f"/procurement/orders/{draft.pk}/")
        assert [a.key for a in page.context["actions"]] == ["approve", "cancel"]  # no send before it

        approved = manager.post(f"/procurement/orders/{draft.pk}/approve/", **htmx("po"))
        assert approved.status_code == 200
        assert toast_of(approved) == {
            "message": f"{draft.number} is approved: it can be sent.",
            "level": "success",
        }
        assert "Approved by" in approved.content.decode()
        assert "<html" not in approved.content.decode()  # the fragment only

        sent = manager.post(f"/procurement/orders/{draft.pk}/send/", **htmx("po"))
    assert toast_of(sent)["level"] == "success"
    draft.refresh_from_db()
    assert draft.status == S.SENT
    assert draft.approved_at is not None


def test_send_without_htmx_redirects_with_a_message(buyer: Client, world):
    draft = world["draft"]
    response = buyer.post(f"/procurement/orders/{draft.pk}/send/", follow=True)
    assert response.redirect_chain[-1][0] == f"/procurement/orders/{draft.pk}/"
    assert f"{draft.number} is sent to Acme Textiles." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == S.SENT


def test_close_and_cancel_follow_the_lifecycle(buyer: Client, world):
    # given: a partially received order and a sent one
    partial = sent_order(world, 4)
    services.receipt_create(po=partial, lines=[services.ReceiveLine(partial.lines.get(), 1)])
    sent = sent_order(world, 2)

    # when: cancelling the partially received one is refused; closing it works
    refused = buyer.post(f"/procurement/orders/{partial.pk}/cancel/", **htmx("po"))
    closed = buyer.post(f"/procurement/orders/{partial.pk}/close/", **htmx("po"))
    cancelled = buyer.post(f"/procurement/orders/{sent.pk}/cancel/", **htmx("po"))
    closing_a_draft = buyer.post(f"/procurement/orders/{world['draft'].pk}/close/", **htmx("po"))

    # then
    assert "'partially_received' to 'cancelled'" in toast_of(refused)["message"]
    assert toast_of(closed)["level"] == "success"
    assert toast_of(cancelled)["level"] == "success"
    assert "'draft' to 'closed'" in toast_of(closing_a_draft)["message"]
    statuses = dict(PurchaseOrder.objects.values_list("pk", "status"))
    assert statuses[partial.pk] == S.CLOSED
    assert statuses[sent.pk] == S.CANCELLED
    assert statuses[world["draft"].pk] == S.DRAFT


def test_detail_shows_lines_in_purchase_and_stock_units_and_the_bills_issues(buyer: Client, world):
    # given: 3 boxes of 12 ordered, 1 received, billed at a higher price
    po = sent_order(world, 3)
    services.receipt_create(po=po, lines=[services.ReceiveLine(po.lines.get(), 1)])
    services.bill_record(
        po=po, supplier_reference="X-1", lines=[services.BillLineSpec(po.lines.get(), 1, "70.00")]
    )

    # when
    html = buyer.get(f"/procurement/orders/{po.pk}/").content.decode()

    # then
    assert "3 box" in html
    assert "= 36 pcs" in html
    assert "= 24 pcs" in html  # open
    assert "billed at $70.00 per unit, ordered at $60.00" in html
    assert "1 issue" in html
    assert 'href="/procurement/receive/?po=' in html


def test_the_printable_order_has_the_supplier_address_skus_and_totals(buyer: Client, world):
    draft = world["draft"]
    html = buyer.get(f"/procurement/orders/{draft.pk}/print/").content.decode()
    assert "1 Mill Road" in html
    assert "AC-TB-12" in html  # the supplier's SKU
    assert "180.00" in html
    assert "@media print" in html
    assert 'class="sidebar"' not in html  # its own minimal layout


# --- the form --------------------------------------------------------------------------------


def form_data(world: dict, **extra: str) -> dict[str, str]:
    return {"supplier": str(world["supplier"].pk), "warehouse": str(world["warehouse"].pk), **extra}


def test_typing_a_box_barcode_adds_a_line_in_boxes_at_the_suppliers_price(buyer: Client, world):
    # when: the box barcode is typed and Enter pressed (no action: the code decides)
    response = buyer.post("/procurement/orders/new/", form_data(world, code="BOX-TEE-BLK"))
    fragment = buyer.post("/procurement/orders/new/", form_data(world, code="BOX-TEE-BLK"), **htmx("lines"))

    # then: one line in boxes of 12, the supplier's minimum quantity and price; its quantity takes the focus
    assert response.status_code == 200
    (line,) = response.context["lines"]
    assert (line.product.sku, line.unit.code, line.factor_text) == ("TEE-BLK", "box", "12")
    assert line.quantity_text == "2"  # the minimum order quantity
    assert line.cost_text == "60.00"
    assert line.total == D("120.00")
    html = fragment.content.decode()
    assert 'id="line-0-quantity"' in html
    assert "data-focus" in html
    assert "data-clear-code" in html
    assert "<html" not in html
    assert 'id="po-code"' not in html


def test_the_price_break_reached_at_the_typed_quantity_applies(buyer: Client, world):
    product = world["product"]
    base = form_data(
        world,
        **{
            "line-0-product": str(product.pk),
            "line-0-quantity": "12",
            "line-0-unit": "",
            "line-0-factor": "",
            "line-0-unit_cost": "60.00",
            "line-0-cost_auto": "1",
            "line-0-cost_shown": "60.00",
            "line-0-unit_auto": "1",
            "line-0-tax": "20",
        },
    )
    response = buyer.post("/procurement/orders/new/", base)
    (line,) = response.context["lines"]
    assert line.cost_text == "55.00"  # the break from 10 boxes
    assert line.applied_break.min_quantity == 10
    assert response.context["totals"].total == D("792.00")  # 12 x 55 = 660 + 20 %

    # a price typed by hand stays, whatever the quantity
    typed = {**base, "line-0-unit_cost": "52.50", "line-0-cost_shown": "55.00", "line-0-quantity": "60"}
    response = buyer.post("/procurement/orders/new/", typed)
    (line,) = response.context["lines"]
    assert (line.cost_text, line.cost_auto) == ("52.50", False)
    assert line.supplier_price == D("50.0000")


def test_choosing_pieces_converts_the_suppliers_box_price(buyer: Client, world):
    product = world["product"]
    data = form_data(
        world,
        **{
            "line-0-product": str(product.pk),
            "line-0-quantity": "24",
            "line-0-unit": str(unit("pcs").pk),
            "line-0-unit_shown": str(unit("box").pk),
            "line-0-factor": "12",
            "line-0-unit_cost": "60.00",
            "line-0-cost_shown": "60.00",
            "line-0-cost_auto": "1",
            "line-0-unit_auto": "1",
            "line-0-tax": "0",
        },
    )
    response = buyer.post("/procurement/orders/new/", data)
    (line,) = response.context["lines"]
    assert (line.unit.code, line.factor_text) == ("pcs", "1")
    assert line.cost_text == "5.00"  # 60 a box of 12
    assert line.total == D("120.00")


def test_a_name_matching_several_products_offers_a_choice_and_picking_one_adds_it(buyer: Client, world):
    ProductFactory(sku="TEE-WHT", name="T-shirt white")
    several = buyer.post("/procurement/orders/new/", form_data(world, code="T-shirt"))
    assert several.context["lines"] == []
    assert "2 products match" in several.content.decode()
    white = several.context["added"].choices[1]

    picked = buyer.post("/procurement/orders/new/", form_data(world, action=f"pick:{white.pk}"))
    (line,) = picked.context["lines"]
    assert line.product == white
    assert line.errors == {"unit_cost": "No price from this supplier: type one."}


def test_the_type_ahead_lists_matches_with_the_suppliers_price(buyer: Client, world):
    response = buyer.get(
        "/procurement/orders/lookup/", {"code": "TEE", "supplier": world["supplier"].pk}, **htmx()
    )
    html = response.content.decode()
    assert "TEE-BLK" in html
    assert "$60.00 / box" in html
    assert 'value="pick:' in html


def test_an_unknown_code_says_so(buyer: Client, world):
    response = buyer.post("/procurement/orders/new/", form_data(world, code="ZZZ-NOTHING"), **htmx("lines"))
    assert "No product matches “ZZZ-NOTHING”." in response.content.decode()


def test_saving_creates_the_draft_and_redirects_to_it(buyer: Client, world):
    product = world["product"]
    data = form_data(
        world,
        action="save",
        notes="Before the summer",
        **{
            "line-3-product": str(product.pk),
            "line-3-quantity": "10",
            "line-3-unit": str(unit("box").pk),
            "line-3-factor": "12",
            "line-3-unit_cost": "55.00",
            "line-3-cost_auto": "1",
            "line-3-unit_auto": "1",
            "line-3-tax": "10",
        },
    )
    response = buyer.post("/procurement/orders/new/", data, **htmx())
    po = PurchaseOrder.objects.exclude(pk=world["draft"].pk).get()
    assert response["HX-Redirect"] == f"/procurement/orders/{po.pk}/"
    line = po.lines.get()
    assert (line.quantity, line.factor, line.unit_cost, line.tax_rate) == (
        D("10"),
        D("12"),
        D("55"),
        D("0.1"),
    )
    assert po.total == D("605.00")
    assert po.notes == "Before the summer"


def test_saving_without_lines_or_prices_shows_the_errors_and_saves_nothing(buyer: Client, world):
    empty = buyer.post("/procurement/orders/new/", form_data(world, action="save"), **htmx())
    assert empty["HX-Retarget"] == "#po-form"
    assert "Add at least one line" in empty.content.decode()

    unpriced = ProductFactory(sku="NO-PRICE")
    data = form_data(
        world,
        action="save",
        **{
            "line-0-product": str(unpriced.pk),
            "line-0-quantity": "1",
            "line-0-unit_cost": "",
            "line-0-cost_auto": "1",
            "line-0-unit_auto": "1",
            "line-0-tax": "0",
        },
    )
    response = buyer.post("/procurement/orders/new/", data)
    assert response.status_code == 200
    assert "No price from this supplier" in response.content.decode()
    assert PurchaseOrder.objects.count() == 1


def test_editing_a_draft_keeps_its_lines_and_saves_changes(buyer: Client, world):
    draft = world["draft"]
    page = buyer.get(f"/procurement/orders/{draft.pk}/edit/")
    (line,) = page.context["lines"]
    assert (line.quantity_text, line.cost_text, line.cost_auto) == ("3", "60.00", False)

    data = {
        "warehouse": str(world["warehouse"].pk),
        "expected_date": "2030-01-31",
        "action": "save",
        "line-0-product": str(world["product"].pk),
        "line-0-quantity": "4",
        "line-0-unit": str(line.unit.pk),
        "line-0-factor": "12",
        "line-0-unit_cost": "60.00",
        "line-0-cost_auto": "0",
        "line-0-unit_auto": "0",
        "line-0-tax": "0",
    }
    response = buyer.post(f"/procurement/orders/{draft.pk}/edit/", data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.total == D("240.00")
    assert str(draft.expected_date) == "2030-01-31"


def test_only_drafts_can_be_edited(buyer: Client, world):
    po = sent_order(world)
    response = buyer.get(f"/procurement/orders/{po.pk}/edit/", follow=True)
    assert response.redirect_chain[-1][0] == f"/procurement/orders/{po.pk}/"
    assert "only drafts can be edited" in response.content.decode()
