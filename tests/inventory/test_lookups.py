"""Products and units as an API input names them (inventory.lookups), shared by procurement and
manufacturing: by id or SKU (any case), one of the two, and a 422 on the field that is wrong."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from erp.exceptions import ValidationFailed
from inventory.lookups import (
    ProductFound,
    one_product,
    product_of,
    products_by_id_and_sku,
    products_named,
    units_by_code,
)
from tests.inventory.factories import ProductFactory, unit
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


@dataclass
class Line:
    product: int | None = None
    sku: str | None = None


def test_products_are_found_by_id_and_by_sku_in_any_case_in_two_queries():
    # given
    mug, tee = ProductFactory(sku="MUG-1"), ProductFactory(sku="Tee-Blk")
    found: list[tuple[dict, dict]] = []

    # when
    queries = count_queries(lambda: found.append(products_by_id_and_sku({mug.pk}, {"tee-BLK", "NOPE"})))

    # then
    by_id, by_sku = found[0]
    assert (by_id, by_sku) == ({mug.pk: mug}, {"tee-blk": tee})
    assert queries == 2
    assert count_queries(lambda: products_by_id_and_sku(set(), set())) == 0


def test_the_products_lines_name_are_looked_up_at_once():
    mug, tee = ProductFactory(sku="MUG-1"), ProductFactory(sku="TEE-1")

    by_id, by_sku = products_named([Line(product=mug.pk), Line(sku=" tee-1 "), Line(sku="  "), Line()])

    assert (by_id, by_sku) == ({mug.pk: mug}, {"tee-1": tee})


@pytest.mark.parametrize(
    ("product", "sku", "expected"),
    [
        ("mug", None, ("mug", "product", "")),
        (None, " mug-1 ", ("mug", "sku", "")),
        (None, None, (None, "product", "Give the product id or its SKU, one of the two.")),
        (None, "  ", (None, "product", "Give the product id or its SKU, one of the two.")),
        ("mug", "MUG-1", (None, "product", "Give the product id or its SKU, one of the two.")),
        (999999, None, (None, "product", "No product with id 999999.")),
        (None, "NOPE", (None, "sku", "No product with SKU 'NOPE'.")),
    ],
    ids=["by id", "by sku", "neither", "blank sku", "both", "unknown id", "unknown sku"],
)
def test_the_product_of_a_line_or_which_field_is_wrong(product, sku, expected):
    # given
    mug = ProductFactory(sku="MUG-1")
    product_id = mug.pk if product == "mug" else product
    by_id, by_sku = products_by_id_and_sku({mug.pk}, {"mug-1"})

    # when
    found = product_of(product_id, sku, by_id, by_sku)

    # then
    assert isinstance(found, ProductFound)
    assert (found.product and "mug", found.field, found.error) == expected


def test_one_product_is_the_product_named_or_a_422_on_the_wrong_field():
    mug = ProductFactory(sku="MUG-1")

    assert one_product(mug.pk, None) == one_product(None, "mug-1 ") == mug
    with pytest.raises(ValidationFailed) as unknown:
        one_product(None, "NOPE")
    assert (unknown.value.status_code, unknown.value.field_errors) == (
        422,
        {"sku": ["No product with SKU 'NOPE'."]},
    )
    with pytest.raises(ValidationFailed) as neither:
        one_product(None, None)
    assert neither.value.field_errors == {"product": ["Give the product id or its SKU, one of the two."]}


def test_units_are_found_by_code_in_any_case_in_one_query():
    box, pcs = unit("box"), unit("pcs")
    found: list[dict] = []

    queries = count_queries(lambda: found.append(units_by_code({" BOX", "pcs", "nope"})))

    assert found[0] == {"box": box, "pcs": pcs}
    assert queries == 1
    assert units_by_code(set()) == {}
