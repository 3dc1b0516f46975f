"""The inventory API's bulk endpoints: products upserted by SKU and counted levels, all or nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from inventory.models import MoveKind, Product, StockLevel, StockMove
from inventory.services import stock_receive, warehouse_root
from tests.erp.factories import UserFactory, api_key_for
from tests.inventory.factories import LotFactory, ProductFactory, bin_of, warehouse
from tests.inventory.test_api_platform import PlatformApi, errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> PlatformApi:
    return PlatformApi(api_key_for(UserFactory(roles=["Warehouse"])))


# --- bulk: products by SKU ---------------------------------------------------------------------------


def test_bulk_upsert_creates_updates_and_leaves_unchanged_by_sku(api: PlatformApi):
    # given
    ProductFactory(sku="MUG-1", name="Mug", sale_price=D("5.00"))
    ProductFactory(sku="CUP-1", name="Cup", sale_price=D("3.00"))

    # when
    response = api.post(
        "/products/bulk-upsert",
        {
            "items": [
                {"sku": "mug-1", "sale_price": "6.50", "barcodes": ["111"]},
                {"sku": "NEW-1", "name": "New thing", "currency": "JPY", "sale_price": "1200"},
                {"sku": "CUP-1", "name": "Cup"},
                {"sku": "OLD-1", "name": "Retired", "is_active": False},
            ]
        },
    )

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == ["NEW-1", "OLD-1"]
    assert body["updated"] == ["MUG-1"]
    assert body["unchanged"] == ["CUP-1"]
    assert [(i["index"], i["action"]) for i in body["items"]] == [
        (0, "updated"),
        (1, "created"),
        (2, "unchanged"),
        (3, "created"),
    ]
    mug = Product.objects.get(sku="MUG-1")
    assert (mug.sale_price, [b.code for b in mug.barcodes.all()]) == (D("6.50"), ["111"])
    assert Product.objects.get(sku="NEW-1").currency == "JPY"
    assert Product.objects.get(sku="OLD-1").is_active is False


def test_bulk_upsert_is_all_or_nothing_with_errors_per_item(api: PlatformApi):
    # given
    ProductFactory(sku="MUG-1", name="Mug", sale_price=D("5.00"))
    before = Product.objects.count()

    # when: items 1, 2, 3 and 4 are wrong in different ways; items 0 and 5 are fine
    response = api.post(
        "/products/bulk-upsert",
        {
            "items": [
                {"sku": "MUG-1", "sale_price": "7.00"},
                {"sku": "NEW-1"},
                {"sku": "NEW-2", "name": "Two", "currency": "ZZZ"},
                {"sku": "mug-1", "name": "Again"},
                {"sku": "NEW-4", "name": "Four", "stock_unit": "parsec"},
                {"sku": "NEW-5", "name": "Five"},
            ]
        },
    )

    # then: every refused item is named, and nothing was written
    assert response.status_code == 422, response.content
    errors = errors_of(response)
    assert set(errors) == {"items.1.name", "items.2.currency", "items.3.sku", "items.4.stock_unit"}
    assert "item 0" in errors["items.3.sku"]
    assert "4 of 6" in response.json()["detail"]
    assert Product.objects.count() == before
    assert Product.objects.get(sku="MUG-1").sale_price == D("5.00")


def test_bulk_upsert_validates_items_and_caps_the_batch(api: PlatformApi):
    # when
    typed = api.post("/products/bulk-upsert", {"items": [{"sku": "A", "sale_price": "-1"}, {"name": "x"}]})
    empty = api.post("/products/bulk-upsert", {"items": []})
    too_many = api.post("/products/bulk-upsert", {"items": [{"sku": "S0", "name": "n"}] * 50_001})

    # then
    assert typed.status_code == 422
    assert {"items.0.sale_price", "items.1.sku"} <= set(errors_of(typed))
    assert empty.status_code == 422
    assert too_many.status_code == 422
    assert "50000" in errors_of(too_many)["items"]
    assert not Product.objects.filter(sku="S0").exists()


def test_a_bulk_upsert_over_the_request_limit_is_accepted_as_a_job_to_follow(api: PlatformApi, monkeypatch):
    # given: a limit of 2 items in the request (5,000 in production)
    monkeypatch.setattr("inventory.api.products.MAX_BATCH", 2)

    # when
    accepted = api.post(
        "/products/bulk-upsert", {"items": [{"sku": f"BIG-{i}", "name": f"Big {i}"} for i in range(3)]}
    )

    # then: 202 with the job; JOBS_INLINE in the tests, so it has run when followed
    assert accepted.status_code == 202, accepted.content
    job = accepted.json()
    assert job["kind"] == "products_upsert"
    assert job["url"] == f"/api/v1/jobs/{job['id']}"
    followed = api.client.get(job["url"], **api.headers)
    assert followed.status_code == 200, followed.content
    assert followed.json()["state"] == "done"
    assert followed.json()["result"]["answer"]["created"] == ["BIG-0", "BIG-1", "BIG-2"]
    assert Product.objects.filter(sku__startswith="BIG-").count() == 3


# --- bulk: counted stock levels -----------------------------------------------------------------------


def test_counted_levels_are_set_through_count_moves_that_explain_every_unit(api: PlatformApi):
    # given: 10 mugs in Stock, nothing of cups anywhere, a lot-tracked product
    wh = warehouse("WH1")
    stock, shelf = bin_of(wh), bin_of(wh, "Shelf")
    mug, cup = ProductFactory(sku="MUG"), ProductFactory(sku="CUP")
    ProductFactory(sku="MILK", tracking="lot")
    stock_receive(product=mug, location=stock, quantity=10, unit_cost="2.00")

    # when
    response = api.post(
        "/stock/counted-levels",
        {
            "reference": "CYCLE-1",
            "items": [
                {"sku": "mug", "location": stock.pk, "counted": "7"},
                {"sku": "CUP", "location_path": shelf.path, "counted": "4"},
                {"sku": "MUG", "location_path": shelf.path.lower(), "counted": "10"},
                {"sku": "MILK", "location": stock.pk, "lot": "L-42", "counted": "3"},
                {"sku": "MUG", "location": bin_of(wh, "Empty").pk, "counted": "0"},
            ],
        },
    )

    # then: the levels are what was counted
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reference"] == "CYCLE-1"
    rows = [(i["sku"], i["previous"], i["counted"], i["difference"]) for i in body["items"]]
    assert rows == [
        ("MUG", "10.0000", "7.0000", "-3.0000"),
        ("CUP", "0.0000", "4.0000", "4.0000"),
        ("MUG", "0.0000", "10.0000", "10.0000"),
        ("MILK", "0.0000", "3.0000", "3.0000"),
        ("MUG", "0.0000", "0.0000", "0.0000"),
    ]
    assert body["items"][4]["move"] is None
    assert body["items"][3]["lot"] == "L-42"

    def on_hand(product, location) -> D:
        return StockLevel.objects.get(product=product, location=location, lot=None).on_hand

    assert on_hand(mug, stock) == 7
    assert on_hand(mug, shelf) == 10
    assert on_hand(cup, shelf) == 4
    # and each difference is one count move of the batch, to or from the adjustment location
    moves = StockMove.objects.filter(document_type="inventory.stockcount", document_id=body["batch"])
    assert moves.count() == 4
    assert {m.kind for m in moves} == {MoveKind.COUNT}
    assert {m.reference for m in moves} == {"CYCLE-1"}
    ledger = api.get("/moves", document_type="inventory.stockcount", document_id=body["batch"])
    assert ledger.json()["count"] == 4
    assert api.post("/stock-checks").json()["drift_count"] == 0


def test_counted_levels_are_all_or_nothing_with_errors_per_item(api: PlatformApi):
    # given
    wh = warehouse("WH1")
    stock = bin_of(wh)
    mug = ProductFactory(sku="MUG")
    tracked = LotFactory(code="L-1").product
    stock_receive(product=mug, location=stock, quantity=10, unit_cost="2.00")
    moves_before = StockMove.objects.count()

    # when
    response = api.post(
        "/stock/counted-levels",
        {
            "items": [
                {"sku": "MUG", "location": stock.pk, "counted": "4"},
                {"sku": "NOPE", "location": stock.pk, "counted": "1"},
                {"sku": "MUG", "location_path": "WH1/Nowhere", "counted": "1"},
                {"sku": tracked.sku, "location": stock.pk, "counted": "2"},
                {"sku": "MUG", "location": stock.pk, "counted": "5"},
                {"sku": "MUG", "counted": "5"},
                {"sku": "MUG", "location": warehouse_root(wh).pk, "counted": "1"},
            ]
        },
    )

    # then
    assert response.status_code == 422, response.content
    errors = errors_of(response)
    assert set(errors) == {
        "items.1.sku",
        "items.2.location_path",
        "items.3.lot",
        "items.4",
        "items.5.location",
        "items.6",
    }
    assert "item 0" in errors["items.4"]
    assert StockMove.objects.count() == moves_before
    assert StockLevel.objects.get(product=mug, location=stock).on_hand == 10


def test_counted_levels_refuse_negative_counts_and_cap_the_batch(api: PlatformApi):
    stock = bin_of(warehouse("WH1"))
    negative = api.post(
        "/stock/counted-levels", {"items": [{"sku": "X", "location": stock.pk, "counted": "-1"}]}
    )
    too_many = api.post(
        "/stock/counted-levels",
        {"items": [{"sku": "X", "location": stock.pk, "counted": "1"}] * 50_001},
    )
    assert negative.status_code == 422
    assert "items.0.counted" in errors_of(negative)
    assert too_many.status_code == 422
    assert "50000" in errors_of(too_many)["items"]
