"""The BOM editor: rows added and removed in place, the live cost roll-up, save, versions, cycles."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.test import Client

from inventory.services import product_unit_set, product_update
from manufacturing.boms import rollup
from manufacturing.models import BillOfMaterials
from manufacturing.services import ComponentSpec, bom_create
from tests.inventory.factories import ProductFactory, unit
from tests.manufacturing.factories import bike_world
from tests.manufacturing.test_views import htmx, login, toast_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> dict:
    return bike_world()


@pytest.fixture
def planner(client: Client) -> Client:
    return login(client, "Production", username="pia")


def form_of(bom: BillOfMaterials, **head) -> dict:
    """The editor's form as the browser posts it for a saved BOM."""
    data: dict = {
        "bom_product": str(bom.product_id),
        "output_quantity": str(bom.output_quantity),
        "lead_time_days": str(bom.lead_time_days),
        "notes": bom.notes,
        "component_product": [],
        "component_quantity": [],
        "component_unit": [],
        "component_scrap": [],
        "operation_name": [],
        "operation_centre": [],
        "operation_minutes": [],
        "operation_cost": [],
    }
    for c in bom.components.all():
        data["component_product"].append(str(c.product_id))
        data["component_quantity"].append(str(c.quantity))
        data["component_unit"].append(str(c.unit_id))
        data["component_scrap"].append(str(c.scrap_percent))
    for op in bom.operations.all():
        data["operation_name"].append(op.name)
        data["operation_centre"].append(str(op.work_centre_id))
        data["operation_minutes"].append(str(op.minutes_per_unit))
        data["operation_cost"].append(str(op.cost_per_hour))
    data.update(head)
    return data


def costed(result) -> list[tuple]:
    return [(c.product.sku, c.quantity, c.unit_cost, c.source) for c in result.components]


def after_settle(response) -> dict:
    return json.loads(response["HX-Trigger-After-Settle"])


# --- the live roll-up ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["wheel_bom", "bike_bom"])
def test_the_preview_of_a_saved_bom_equals_its_rollup(planner: Client, world, which):
    # given: a saved BOM (the bike's wheels are a sub-assembly, rolled up)
    bom = world[which]
    expected = rollup(bom)

    # when: the editor posts the BOM as it is to the preview
    response = planner.post("/manufacturing/boms/preview/", form_of(bom), **htmx("rollup"))

    # then: the same figures, line by line, and the unit cost on the page
    preview = response.context["preview"]
    assert response.status_code == 200
    assert costed(preview.rollup) == costed(expected)
    assert preview.rollup.material_cost == expected.material_cost
    assert preview.rollup.operations_cost == expected.operations_cost
    assert preview.rollup.unit_cost == expected.unit_cost
    assert f'id="rollup-unit">{preview.unit_cost_text}<' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_editor_page_shows_the_same_rollup_with_sub_assembly_links(planner: Client, world):
    response = planner.get(f"/manufacturing/boms/{world['bike_bom'].pk}/")
    preview = response.context["preview"]
    assert preview.rollup.unit_cost == rollup(world["bike_bom"]).unit_cost == D("193.04")
    page = response.content.decode()
    assert f"/manufacturing/boms/{world['wheel_bom'].pk}/" in page  # the wheel's own BOM
    assert "rolled up from its BOM v1" in page
    assert [r.product.sku for r in response.context["sub_assemblies"]] == ["WHEEL"]


def test_the_preview_of_an_edited_bom_is_what_its_rollup_becomes_once_saved(planner: Client, world):
    # given: the wheel edited: 36 spokes in boxes of 12 (3 boxes), 5 % scrap, output 2, a 45-minute operation
    wheel_bom, spoke = world["wheel_bom"], world["spoke"]
    product_unit_set(product=spoke, unit=unit("box"), factor=12)
    data = form_of(wheel_bom, output_quantity="2")
    data["component_quantity"][1] = "3"
    data["component_unit"][1] = str(unit("box").pk)
    data["component_scrap"][1] = "5"
    data["operation_minutes"][0] = "45"
    data["operation_cost"][0] = ""  # the work centre's rate

    # when: previewed, then saved
    preview = planner.post("/manufacturing/boms/preview/", data, **htmx("rollup")).context["preview"]
    saved = planner.post(
        f"/manufacturing/boms/{wheel_bom.pk}/", {**data, "action": "save"}, **htmx("bom-editor")
    )

    # then: the preview was right before anything was written
    assert saved.status_code == 200
    expected = rollup(BillOfMaterials.objects.get(pk=wheel_bom.pk))
    assert costed(preview.rollup) == costed(expected)
    assert preview.rollup.unit_cost == expected.unit_cost
    # rim 8 / 2 = 4; spokes 3 x 12 x 1.05 / 2 = 18.9 at 0.10 = 1.89; 45 min at 60/h = 45
    assert expected.unit_cost == D("50.89")


def test_the_preview_writes_nothing_and_leaves_out_rows_with_errors(planner: Client, world):
    bom = world["wheel_bom"]
    data = form_of(bom)
    data["component_quantity"][1] = "lots"

    response = planner.post("/manufacturing/boms/preview/", data, **htmx("rollup"))

    preview = response.context["preview"]
    assert [c.product.sku for c in preview.rollup.components] == ["RIM"]
    assert preview.left_out == 1
    assert "1 row with errors is left out" in response.content.decode()
    assert bom.components.get(product=world["spoke"]).quantity == 32


def test_the_preview_warns_of_a_cycle_before_saving(planner: Client, world):
    data = form_of(world["wheel_bom"])
    data["component_product"].append(str(world["bike"].pk))
    data["component_quantity"].append("1")
    data["component_unit"].append(str(world["bike"].stock_unit_id))
    data["component_scrap"].append("0")

    response = planner.post("/manufacturing/boms/preview/", data, **htmx("rollup"))

    assert "That makes a cycle: WHEEL → BIKE → WHEEL." in response.content.decode()


# --- rows added and removed in place ---------------------------------------------------------


def test_typing_a_sku_answers_a_new_row_with_its_quantity_focused(planner: Client, world):
    data = {
        "code": "frame",
        "bom_product": str(world["wheel"].pk),
        "component_product": [str(world["rim"].pk)],
    }

    response = planner.post("/manufacturing/boms/rows/component/", data, **htmx())

    body = response.content.decode()
    assert body.strip().startswith("<tr")
    assert f'name="component_product" value="{world["frame"].pk}"' in body
    assert "data-focus" in body
    events = after_settle(response)
    assert events["bom-changed"] is True
    assert events["component-added"]["message"] == "Added FRAME: type the quantity."
    assert "HX-Retarget" not in response


def test_a_scanned_box_barcode_adds_the_component_counted_in_boxes(planner: Client, world):
    glue = ProductFactory(sku="GLUE", stock_unit=unit("g"))
    product_unit_set(product=glue, unit=unit("kg"), factor=1000, barcode="GLUE-KG")

    response = planner.post(
        "/manufacturing/boms/rows/component/",
        {"code": "GLUE-KG", "bom_product": str(world["wheel"].pk)},
        **htmx(),
    )

    body = response.content.decode()
    assert f'<option value="{unit("kg").pk}" selected>kg (= 1000 g)</option>' in body


def test_picking_from_the_type_ahead_adds_that_product(planner: Client, world):
    lookup = planner.get("/manufacturing/boms/lookup/?code=sp", **htmx())
    assert 'data-product="{}"'.format(world["spoke"].pk) in lookup.content.decode()
    assert 'data-query="sp"' in lookup.content.decode()

    response = planner.post(
        "/manufacturing/boms/rows/component/",
        {"code": "sp", "pick": str(world["spoke"].pk), "bom_product": str(world["bike"].pk)},
        **htmx(),
    )
    assert f'value="{world["spoke"].pk}"' in response.content.decode()


@pytest.mark.parametrize(
    ("code", "target", "says"),
    [
        ("NOTHING-LIKE-IT", "#c-msg", "No product matches “NOTHING-LIKE-IT”."),
        ("Rim", "#c-msg", "RIM is in the BOM already: change its quantity."),
        ("WHEEL", "#c-msg", "A BOM cannot use its own product (WHEEL)."),
        ("Product SKU-", "#c-suggest", "products match “Product SKU-”: pick one, or type more."),
    ],
)
def test_what_cannot_become_a_row_is_said_where_the_person_looks(planner: Client, world, code, target, says):
    ProductFactory.create_batch(3)
    data = {"code": code, "bom_product": str(world["wheel"].pk), "component_product": [str(world["rim"].pk)]}

    response = planner.post("/manufacturing/boms/rows/component/", data, **htmx())

    assert response.status_code == 200
    assert response["HX-Retarget"] == target
    assert response["HX-Reswap"] == "innerHTML"
    assert says in response.content.decode()
    assert "<tr" not in response.content.decode()


def test_a_component_already_listed_gets_the_focus_back(planner: Client, world):
    data = {"code": "RIM", "bom_product": str(world["wheel"].pk), "component_product": [str(world["rim"].pk)]}
    response = planner.post("/manufacturing/boms/rows/component/", data, **htmx())
    assert json.loads(response["HX-Trigger"])["component-exists"] == {"product": world["rim"].pk}


def test_a_service_is_no_component(planner: Client, world):
    ProductFactory(sku="INSTALL", kind="service")
    response = planner.post(
        "/manufacturing/boms/rows/component/",
        {"code": "INSTALL", "bom_product": str(world["wheel"].pk)},
        **htmx(),
    )
    assert "INSTALL is a service: it is not a component." in response.content.decode()


def test_an_operation_row_comes_with_its_work_centre_and_rate(planner: Client, world):
    response = planner.post(
        "/manufacturing/boms/rows/operation/", {"add_centre": world["centre"].pk}, **htmx()
    )
    body = response.content.decode()
    assert 'name="operation_name" value="Assembly"' in body
    assert f'<option value="{world["centre"].pk}" data-rate="60.0000" selected>' in body
    assert 'name="operation_cost" value="60.00"' in body
    assert "data-focus" in body
    assert after_settle(response)["bom-changed"] is True


def test_removing_a_row_answers_nothing_and_refreshes_the_rollup(planner: Client, world):
    response = planner.post("/manufacturing/boms/rows/remove/", **htmx())
    assert response.status_code == 200
    assert response.content == b""
    assert after_settle(response) == {"bom-changed": True, "row-removed": True}
    assert planner.get("/manufacturing/boms/rows/remove/").status_code == 405


def test_without_javascript_the_form_adds_and_removes_rows_itself(planner: Client, world):
    data = {**form_of(world["wheel_bom"]), "code": "FRAME"}  # Enter in the product box: the first button
    added = planner.post(f"/manufacturing/boms/{world['wheel_bom'].pk}/", {**data, "action": "refresh"})
    skus = [r.product.sku for r in added.context["rows"]]
    removed = planner.post(
        f"/manufacturing/boms/{world['wheel_bom'].pk}/", {**form_of(world["wheel_bom"]), "action": "remove:0"}
    )

    op_added = planner.post(
        f"/manufacturing/boms/{world['wheel_bom'].pk}/",
        {**form_of(world["wheel_bom"]), "action": "op-add", "add_centre": world["centre"].pk},
    )

    assert skus == ["RIM", "SPOKE", "FRAME"]
    assert [r.product.sku for r in removed.context["rows"]] == ["SPOKE"]
    assert [op.name for op in op_added.context["operations"]] == ["Lace and true", "Assembly"]
    assert world["wheel_bom"].components.count() == 2  # nothing saved
    assert world["wheel_bom"].operations.count() == 1


# --- save, versions, activation --------------------------------------------------------------


def test_saving_changes_the_bom_in_place_and_answers_the_editor_with_a_toast(planner: Client, world):
    bom = world["wheel_bom"]
    data = form_of(bom, lead_time_days="4", action="save")
    data["component_quantity"][1] = "36"

    response = planner.post(f"/manufacturing/boms/{bom.pk}/", data, **htmx("bom-editor"))

    assert response.status_code == 200
    assert toast_of(response) == {"message": "WHEEL BOM v1 is saved.", "level": "success"}
    assert "<html" not in response.content.decode()
    bom.refresh_from_db()
    assert bom.lead_time_days == 4
    assert bom.components.get(product=world["spoke"]).quantity == 36


def test_save_as_new_version_keeps_the_old_one_active_until_the_new_one_is_activated(planner: Client, world):
    bom = world["wheel_bom"]
    data = form_of(bom, action="new_version")
    data["component_quantity"][0] = "2"

    response = planner.post(f"/manufacturing/boms/{bom.pk}/", data, **htmx("bom-editor"))

    v2 = BillOfMaterials.objects.get(product=world["wheel"], version=2)
    assert response["HX-Redirect"] == f"/manufacturing/boms/{v2.pk}/"
    assert not v2.is_active
    assert BillOfMaterials.objects.get(pk=bom.pk).is_active

    # when: v2 is saved and activated from its editor
    activated = planner.post(
        f"/manufacturing/boms/{v2.pk}/", form_of(v2, action="activate"), **htmx("bom-editor")
    )

    assert toast_of(activated)["message"] == "WHEEL BOM v2 is saved and active: new orders use it."
    assert BillOfMaterials.objects.get(pk=v2.pk).is_active
    assert not BillOfMaterials.objects.get(pk=bom.pk).is_active

    # and v1 comes back with the versions panel's button
    back = planner.post(f"/manufacturing/boms/{bom.pk}/activate/", **htmx())
    assert back["HX-Redirect"] == f"/manufacturing/boms/{bom.pk}/"
    assert BillOfMaterials.objects.get(pk=bom.pk).is_active


def test_a_new_bom_is_created_from_the_new_page_and_made_active(planner: Client, world):
    # given: a saddle made of leather and rivets
    saddle, leather, rivet = (
        ProductFactory(sku="SADDLE"),
        ProductFactory(sku="LEATHER"),
        ProductFactory(sku="RIVET"),
    )
    page = planner.get(f"/manufacturing/boms/new/?product={saddle.pk}")
    assert page.context["head"]["activate"].value() is True
    data = {
        "bom_product": str(saddle.pk),
        "output_quantity": "1",
        "lead_time_days": "2",
        "notes": "",
        "activate": "on",
        "component_product": [str(leather.pk), str(rivet.pk)],
        "component_quantity": ["0.5", "8"],
        "component_unit": [str(leather.stock_unit_id), str(rivet.stock_unit_id)],
        "component_scrap": ["0", "0"],
        "operation_name": ["Stitch"],
        "operation_centre": [str(world["centre"].pk)],
        "operation_minutes": ["20"],
        "operation_cost": [""],
        "action": "save",
    }

    # when
    response = planner.post(f"/manufacturing/boms/new/?product={saddle.pk}", data, **htmx("bom-editor"))

    # then
    bom = BillOfMaterials.objects.get(product=saddle)
    assert response["HX-Redirect"] == f"/manufacturing/boms/{bom.pk}/"
    assert bom.is_active
    assert [(c.product.sku, c.quantity) for c in bom.components.select_related("product")] == [
        ("LEATHER", D("0.5")),
        ("RIVET", D("8")),
    ]
    assert bom.operations.get().cost_per_hour == D("60.00")
    assert "SADDLE BOM v1 is saved (active)." in planner.get(response["HX-Redirect"]).content.decode()


def test_the_new_page_without_a_product_asks_for_one_and_takes_a_sku(planner: Client, world):
    ask = planner.get("/manufacturing/boms/new/")
    found = planner.get("/manufacturing/boms/new/?sku=frame")
    many = planner.get("/manufacturing/boms/new/?sku=e")  # frame, wheel, bike, spoke...
    assert "Which product does it make?" in ask.content.decode()
    assert found.status_code == 302
    assert found["Location"] == f"/manufacturing/boms/new/?product={world['frame'].pk}"
    assert "pick one" in many.content.decode()


def test_a_cycle_is_refused_with_its_path_and_nothing_changes(planner: Client, world):
    # given: the wheel (active) edited to use a bike, which uses wheels
    bom = world["wheel_bom"]
    data = form_of(bom, action="save")
    data["component_product"].append(str(world["bike"].pk))
    data["component_quantity"].append("1")
    data["component_unit"].append(str(world["bike"].stock_unit_id))
    data["component_scrap"].append("0")

    # when
    response = planner.post(f"/manufacturing/boms/{bom.pk}/", data, **htmx("bom-editor"))
    plain = planner.post(f"/manufacturing/boms/{bom.pk}/", data)

    # then: the path is named, the edits stay on screen, nothing is saved
    body = response.content.decode()
    assert "Nothing was saved.</strong> That makes a cycle: WHEEL → BIKE → WHEEL." in body
    assert toast_of(response)["level"] == "error"
    assert [r.product.sku for r in response.context["rows"]] == ["RIM", "SPOKE", "BIKE"]
    assert plain.status_code == 422
    assert sorted(bom.components.values_list("product__sku", flat=True)) == ["RIM", "SPOKE"]


def test_activating_a_draft_into_a_cycle_is_refused_and_nothing_changes(planner: Client, world):
    draft = bom_create(product=world["spoke"], components=[ComponentSpec(world["bike"], 1)], activate=False)
    data = form_of(draft, action="activate", notes="try it")

    response = planner.post(f"/manufacturing/boms/{draft.pk}/", data, **htmx("bom-editor"))

    assert "SPOKE → BIKE → WHEEL → SPOKE" in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_active
    assert draft.notes == ""  # the save was rolled back with the activation


def test_rows_with_errors_are_marked_and_nothing_is_saved(planner: Client, world):
    bom = world["wheel_bom"]
    data = form_of(bom, action="save", output_quantity="0")
    data["component_quantity"][0] = "-1"
    data["component_scrap"][1] = "100"
    data["operation_name"][0] = ""

    response = planner.post(f"/manufacturing/boms/{bom.pk}/", data, **htmx("bom-editor"))

    rows = response.context["rows"]
    assert rows[0].errors == {"quantity": "A positive number."}
    assert rows[1].errors == {"scrap": "From 0 to under 100."}
    assert response.context["operations"][0].errors == {"name": "Name the operation."}
    assert response.context["head"].errors["output_quantity"]
    assert "Some rows need attention" in response.content.decode()
    assert bom.components.get(product=world["rim"]).quantity == 1


def test_a_bom_without_components_is_refused(planner: Client, world):
    product = ProductFactory(sku="EMPTY")
    data = {"bom_product": str(product.pk), "output_quantity": "1", "lead_time_days": "1", "action": "save"}
    response = planner.post(f"/manufacturing/boms/new/?product={product.pk}", data, **htmx("bom-editor"))
    assert "Add at least one component" in response.content.decode()
    assert not BillOfMaterials.objects.filter(product=product).exists()


def test_the_editor_shows_where_the_product_is_used(planner: Client, world):
    product_update(product=world["spoke"], barcodes=["SPK-1"])
    spoke_bom = bom_create(product=world["spoke"], components=[ComponentSpec(ProductFactory(sku="WIRE"), 1)])

    response = planner.get(f"/manufacturing/boms/{spoke_bom.pk}/")

    used = [(depth, bom.product.sku) for depth, bom in response.context["where_used"]]
    assert used == [(1, "WHEEL"), (2, "BIKE")]
    assert "level 2" in response.content.decode()
