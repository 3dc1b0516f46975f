"""The inventory API as a platform: ordering, updated_since, ETag / If-Match, money, the schema.

The helpers here (``PlatformApi``, ``errors_of``, ``patch_while_another_writer_holds_the_row``,
``assert_schemas_documented``, ``assert_one_tag_per_area``) are shared by test_api_bulk.py and by the
other apps' test_api_platform.py; the bulk endpoints are in test_api_bulk.py."""

from __future__ import annotations

import datetime
import json
import threading
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from ninja import Schema

from erp import kernel_api
from erp.api import api as erp_api
from erp.api_helpers import ApiSchema
from erp.concurrency import etag_of, parse_if_match, strong_match
from inventory import schemas as inventory_schemas
from inventory.models import Product
from inventory.services import stock_receive
from manufacturing import schemas as manufacturing_schemas
from procurement import schemas as procurement_schemas
from sales import schemas as sales_schemas
from tests.erp.factories import UserFactory, api_key_for, bearer
from tests.inventory.factories import ProductFactory, bin_of, warehouse

pytestmark = pytest.mark.django_db

BASE = "/api/v1/inventory"


class PlatformApi:
    """One app's API as one key holder calls it, with headers (If-Match) where needed."""

    def __init__(self, raw_key: str, base: str = BASE) -> None:
        self.client = Client()
        self.base = base
        self.headers = bearer(raw_key)

    def get(self, path: str, **params: Any):
        return self.client.get(self.base + path, params, **self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None):
        return self.client.post(self.base + path, body or {}, content_type="application/json", **self.headers)

    def patch(self, path: str, body: dict[str, Any], *, if_match: str | None = None):
        headers = dict(self.headers)
        if if_match is not None:
            headers["HTTP_IF_MATCH"] = if_match
        return self.client.patch(self.base + path, body, content_type="application/json", **headers)


def errors_of(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.fixture
def api() -> PlatformApi:
    return PlatformApi(api_key_for(UserFactory(roles=["Warehouse"])))


def _stamp(obj: Any, moment: datetime.datetime) -> None:
    """Set updated_at directly (auto_now would overwrite it on save)."""
    type(obj).objects.filter(pk=obj.pk).update(updated_at=moment)


def _at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=datetime.UTC)


# --- ordering and updated_since ---------------------------------------------------------------------


def test_products_sort_by_allowed_keys_and_refuse_others_naming_them(api: PlatformApi):
    # given
    for sku, price in (("B-2", "5.00"), ("A-1", "9.00"), ("C-3", "1.00")):
        ProductFactory(sku=sku, sale_price=D(price))

    # when
    by_price = api.get("/products", ordering="-sale_price")
    by_sku = api.get("/products", ordering="sku")
    by_two = api.get("/products", ordering="-updated_at,sku")
    refused = api.get("/products", ordering="colour,-sku")

    # then
    assert [p["sku"] for p in by_price.json()["items"]] == ["A-1", "B-2", "C-3"]
    assert [p["sku"] for p in by_sku.json()["items"]] == ["A-1", "B-2", "C-3"]
    assert by_two.status_code == 200
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert {"sku", "updated_at"} <= set(body["allowed"])
    assert "'colour'" in errors_of(refused)["ordering"]
    assert "updated_at" in errors_of(refused)["ordering"]


def test_updated_since_returns_what_changed_at_or_after_the_moment(api: PlatformApi):
    # given: three products last changed in January, February and March
    old, mid, new = ProductFactory(sku="OLD"), ProductFactory(sku="MID"), ProductFactory(sku="NEW")
    _stamp(old, _at("2030-01-10"))
    _stamp(mid, _at("2030-02-10"))
    _stamp(new, _at("2030-03-10"))

    # when
    since_feb = api.get("/products", updated_since="2030-02-10T12:00:00Z", ordering="updated_at")
    since_later = api.get("/products", updated_since="2030-02-10T12:00:01+00:00")
    bad = api.get("/products", updated_since="last tuesday")

    # then: inclusive, oldest change first
    assert [p["sku"] for p in since_feb.json()["items"]] == ["MID", "NEW"]
    assert since_feb.json()["count"] == 2
    assert [p["sku"] for p in since_later.json()["items"]] == ["NEW"]
    assert bad.status_code == 422


def test_moves_are_synced_by_when_they_were_made_and_locations_sort(api: PlatformApi):
    # given
    product, stock = ProductFactory(), bin_of(warehouse("WH1"))
    first = stock_receive(product=product, location=stock, quantity=1, unit_cost=1)
    cut = timezone.now()  # moves are append-only: the moment between the two is the cut
    second = stock_receive(product=product, location=stock, quantity=2, unit_cost=1)

    # when
    recent = api.get("/moves", updated_since=cut.isoformat(), product=product.pk)
    oldest_first = api.get("/moves", product=product.pk, ordering="created_at")
    locations = api.get("/locations", ordering="-path", warehouse=stock.warehouse_id)
    no_sync_on_locations = api.get("/locations", updated_since="2030-01-01T00:00:00Z")

    # then
    assert [m["id"] for m in recent.json()["items"]] == [second.pk]
    assert [m["id"] for m in oldest_first.json()["items"]] == [first.pk, second.pk]
    paths = [loc["path"] for loc in locations.json()["items"]]
    assert paths == sorted(paths, reverse=True)
    assert no_sync_on_locations.status_code == 422  # not a parameter of this list: refused, not ignored
    assert no_sync_on_locations.json()["errors"][0]["field"] == "updated_since"


def test_every_inventory_list_is_paginated_with_a_total_and_sorts(api: PlatformApi):
    # given
    stock = bin_of(warehouse("WH1"))
    stock_receive(product=ProductFactory(), location=stock, quantity=3, unit_cost=1)

    # then: each list answers {"count", "items"} and accepts its id ordering
    for path in (
        "/products",
        "/warehouses",
        "/locations",
        "/levels",
        "/moves",
        "/transfers",
        "/counts",
        "/reservations",
        "/reorder-rules",
        "/stock-checks",
    ):
        response = api.get(path, ordering="-id")
        assert response.status_code == 200, (path, response.content)
        # the long lists (products, levels, moves) page by cursor too: they say whether the count is exact
        assert set(response.json()) - {"count_exact", "next_cursor"} == {"count", "items"}, path
        assert api.get(path, ordering="nope").status_code == 422, path


# --- ETag / If-Match ----------------------------------------------------------------------------------


def test_a_product_answers_its_etag_and_a_matching_if_match_updates_it(api: PlatformApi):
    # given
    product = ProductFactory(name="Mug")
    read = api.get(f"/products/{product.pk}")
    etag = read["ETag"]

    # when
    updated = api.patch(f"/products/{product.pk}", {"name": "Big mug"}, if_match=etag)

    # then: changed, with a new tag that a new read repeats
    assert read.status_code == 200
    assert etag[0] == etag[-1] == '"'
    assert updated.status_code == 200, updated.content
    assert updated.json()["name"] == "Big mug"
    assert updated["ETag"] != etag
    assert api.get(f"/products/{product.pk}")["ETag"] == updated["ETag"]


def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(api: PlatformApi):
    # given: read, then someone else changes the product
    product = ProductFactory(name="Mug")
    etag = api.get(f"/products/{product.pk}")["ETag"]
    assert api.patch(f"/products/{product.pk}", {"name": "Cup"}).status_code == 200  # no If-Match: allowed

    # when
    stale = api.patch(f"/products/{product.pk}", {"name": "Mine"}, if_match=etag)

    # then
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    body = stale.json()
    assert "changed since you read it" in body["detail"]
    assert body["current_etag"] == api.get(f"/products/{product.pk}")["ETag"]
    product.refresh_from_db()
    assert product.name == "Cup"


def test_if_match_compares_strongly_and_accepts_a_list_and_a_star(api: PlatformApi):
    # given
    wh = warehouse("WH9")
    etag = api.get(f"/warehouses/{wh.pk}")["ETag"]

    # when / then: RFC 9110 asks If-Match for the strong comparison, so a weak tag never matches
    weak = api.patch(f"/warehouses/{wh.pk}", {"name": "Nine"}, if_match=f"W/{etag}")
    assert weak.status_code == 412, weak.content
    wh.refresh_from_db()
    assert wh.name != "Nine"
    listed = api.patch(f"/warehouses/{wh.pk}", {"name": "Nine b"}, if_match=f'"nope", {etag}')
    assert listed.status_code == 200, listed.content
    assert api.patch(f"/warehouses/{wh.pk}", {"name": "X"}, if_match="*").status_code == 200
    assert api.patch(f"/warehouses/{wh.pk}", {"name": "Y"}, if_match=etag).status_code == 412
    assert api.patch(f"/warehouses/{wh.pk}", {"name": "Y"}, if_match="garbage").status_code == 412
    assert api.patch("/warehouses/999999", {"name": "Y"}, if_match="*").status_code == 404


def test_parse_if_match_reads_lists_keeps_weak_tags_and_drops_garbage():
    assert parse_if_match('"a", W/"b" ,"c"') == ['"a"', 'W/"b"', '"c"']
    assert parse_if_match("*") == ["*"]
    assert parse_if_match('garbage, "x"') == ['"x"']  # Django keeps the well-formed tags
    assert parse_if_match('"unterminated') == []
    assert strong_match(['W/"a"', '"b"'], '"b"')
    assert not strong_match(['W/"b"'], '"b"')


def patch_while_another_writer_holds_the_row(
    api: PlatformApi, path: str, model: type[Any], pk: int, body: dict[str, Any], etag: str
) -> Any:
    """PATCH ``path`` with ``If-Match: etag`` while another transaction holds the row's lock; that
    transaction then saves a new version and commits. Returns the PATCH's answer.

    Asserts that the PATCH waited for the lock: a check made before taking it would have compared
    the tag with the old version and let the write through."""
    locked, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        try:
            with transaction.atomic():
                model.objects.select_for_update().get(pk=pk)
                locked.set()
                release.wait(10)
                model.objects.get(pk=pk).save()  # a new version (updated_at)
        finally:
            connection.close()

    answers: list[Any] = []

    def client_patch() -> None:
        try:
            answers.append(api.patch(path, body, if_match=etag))
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert locked.wait(10)
    patcher = threading.Thread(target=client_patch)
    patcher.start()
    patcher.join(0.5)
    assert patcher.is_alive()  # waiting for the lock, not comparing a stale read
    release.set()
    writer.join(10)
    patcher.join(10)
    return answers[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_if_match_check_is_made_under_the_row_lock():
    # given: a client read the product's tag
    api = PlatformApi(api_key_for(UserFactory(roles=["Warehouse"])))
    product = ProductFactory(name="Mug")
    etag = api.get(f"/products/{product.pk}")["ETag"]

    # when: its PATCH arrives while another writer holds the row, which then saves a new version
    answer = patch_while_another_writer_holds_the_row(
        api, f"/products/{product.pk}", Product, product.pk, {"name": "Mine"}, etag
    )

    # then: compared after the other commit, under the lock: refused
    assert answer.status_code == 412, answer.content
    product.refresh_from_db()
    assert product.name == "Mug"


def test_the_etag_follows_the_version_not_the_object():
    product = ProductFactory()
    before = etag_of(product)
    product.save()
    assert etag_of(product) != before
    assert etag_of(Product.objects.get(pk=product.pk)) == etag_of(product)


# --- money format ------------------------------------------------------------------------------------


def test_money_has_the_minor_unit_digits_of_its_currency(api: PlatformApi):
    # given: a USD, a JPY and a KWD product; a sub-cent average cost
    usd = ProductFactory(sale_price=D("705.9100"), currency="USD")
    yen = ProductFactory(sale_price=D("1200.0000"), currency="JPY")
    kwd = ProductFactory(sale_price=D("1.2500"), currency="KWD")
    stock = bin_of(warehouse("WH1"))
    stock_receive(product=usd, location=stock, quantity=3, unit_cost="0.1234")

    # when
    def read(product: Product) -> dict[str, Any]:
        return api.get(f"/products/{product.pk}").json()

    # then
    assert (read(usd)["sale_price"], read(usd)["currency"]) == ("705.91", "USD")
    assert read(yen)["sale_price"] == "1200"
    assert read(kwd)["sale_price"] == "1.250"
    assert read(usd)["average_cost"] == "0.1234"
    assert read(yen)["average_cost"] == "0.00"  # costs are in the base currency, not the price's
    assert read(usd)["on_hand"] == "3.0000"
    listed = {p["sku"]: p["sale_price"] for p in api.get("/products").json()["items"]}
    assert listed[yen.sku] == "1200"
    valuation = api.get("/valuation").json()
    assert valuation["currency"] == "USD"
    assert valuation["total_value"] == "0.37"  # values are rounded to the cent
    moves = api.get("/moves", product=usd.pk).json()["items"]
    assert moves[0]["unit_cost"] == "0.1234"


def test_updated_since_without_offset_is_read_in_the_server_time_zone(api: PlatformApi):
    product = ProductFactory()
    _stamp(product, timezone.make_aware(datetime.datetime.fromisoformat("2030-05-01T08:00:00")))
    assert api.get("/products", updated_since="2030-05-01T08:00:00").json()["count"] == 1
    assert api.get("/products", updated_since="2030-05-01T08:00:01").json()["count"] == 0


# --- the schema: examples on every schema, one tag per area -------------------------------------------


def defined_in(cls: type, module: Any) -> bool:
    """``cls`` is defined in ``module`` or, when it is a package, in one of its modules (not imported
    into it from elsewhere)."""
    return cls.__module__ == module.__name__ or cls.__module__.startswith(f"{module.__name__}.")


def assert_schemas_documented(module: Any) -> int:
    """Every schema of ``module`` has an example of its own shape: an input example validates; an
    output example has exactly the output's fields. Returns how many were checked."""
    schemas = [
        cls
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, ApiSchema) and defined_in(cls, module)
    ]
    problems: list[str] = []
    for cls in schemas:
        extra = cls.model_config.get("json_schema_extra")
        found = extra.get("examples") if isinstance(extra, dict) else None
        if not found:
            problems.append(f"{cls.__name__}: no example")
            continue
        example = found[0]
        if cls.__name__.endswith("In"):
            try:
                cls.model_validate(example)
            except Exception as exc:
                problems.append(f"{cls.__name__}: its example is invalid: {exc}")
        elif set(example) != set(cls.model_fields):
            problems.append(f"{cls.__name__}: example keys differ by {set(example) ^ set(cls.model_fields)}")
    assert problems == []
    return len(schemas)


def assert_one_tag_per_area(prefix: str, tag: str) -> None:
    schema = erp_api.get_openapi_schema()
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        if path.startswith(prefix)
        for method, operation in methods.items()
    ]
    assert operations
    assert [(p, m) for p, m, op in operations if op.get("tags") != [tag]] == []


def test_every_inventory_schema_has_an_example_and_every_operation_its_area_tag():
    assert assert_schemas_documented(inventory_schemas) > 50
    assert_one_tag_per_area("/api/v1/inventory/", "Inventory")


def test_schema_names_are_unique_across_the_apps_so_the_openapi_document_is_right():
    # ninja files every schema under its class name: two schemas of one name would share one entry
    modules = (inventory_schemas, sales_schemas, procurement_schemas, manufacturing_schemas, kernel_api)
    found: dict[str, list[type]] = {}
    for module in modules:
        for name, cls in vars(module).items():
            if isinstance(cls, type) and issubclass(cls, Schema) and defined_in(cls, module):
                found.setdefault(name, []).append(cls)

    def shape(cls: type[Schema]) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema.pop("examples", None)
        return schema

    clashes = [name for name, classes in found.items() if len({json.dumps(shape(c)) for c in classes}) > 1]
    assert clashes == []
