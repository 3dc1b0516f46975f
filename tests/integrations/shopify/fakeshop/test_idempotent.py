"""The @idempotent directive of inventorySetQuantities, as Shopify enforces it from 2026-04."""

from __future__ import annotations

from integrations import registry
from integrations.connections import connection_create
from integrations.records import InventoryOut
from integrations.shopify.fake import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    LOCATION_ID,
)
from tests.integrations.shopify.conftest import shopify_settings
from tests.integrations.shopify.fakeshop.support import (
    TENT_ITEM,
    rest,
)

# --- @idempotent on inventorySetQuantities ------------------------------------------------------------------

MUTATION = (
    "mutation inventorySetQuantities($input: InventorySetQuantitiesInput!{extra}) {{ "
    "inventorySetQuantities(input: $input){directive} {{ inventoryAdjustmentGroup {{ createdAt "
    "changes {{ name delta quantityAfterChange }} }} userErrors {{ code field message }} }} }}"
)
KEYED = MUTATION.format(extra=", $idempotencyKey: String!", directive=" @idempotent(key: $idempotencyKey)")
UNKEYED = MUTATION.format(extra="", directive="")


def set_quantity(fake, version, quantity, *, key=None, query=None, compare=None):
    entry = {
        "inventoryItemId": f"gid://shopify/InventoryItem/{TENT_ITEM}",
        "locationId": f"gid://shopify/Location/{LOCATION_ID}",
        "quantity": quantity,
        "changeFromQuantity": compare,
    }
    variables = {"input": {"name": "available", "reason": "correction", "quantities": [entry]}}
    if key is not None:
        variables["idempotencyKey"] = key
    body = {"query": query or (KEYED if key is not None else UNKEYED), "variables": variables}
    answer = rest(fake, version).post("/graphql.json", json=body)
    assert answer.status_code == 200
    return answer.json()


def test_from_2026_04_inventory_set_quantities_needs_the_idempotent_directive(fake):
    before = fake.available(TENT_ITEM)

    answer = set_quantity(fake, "2026-04", 5)

    assert answer["errors"] == [
        {
            "message": "The @idempotent directive is required for this mutation but was not provided.",
            "path": ["inventorySetQuantities"],
        }
    ]
    assert answer["data"] == {"inventorySetQuantities": None}
    assert fake.available(TENT_ITEM) == before
    assert "errors" in set_quantity(fake, "2026-10", 5)
    assert "errors" in set_quantity(fake, "unstable", 5)


def test_the_same_key_and_input_answers_the_first_result_and_sets_once(fake):
    first = set_quantity(fake, "2026-04", 5, key="k-1")
    fake.set_available(TENT_ITEM, 7)  # a sale in the shop since

    again = set_quantity(fake, "2026-04", 5, key="k-1")

    assert first["data"]["inventorySetQuantities"]["userErrors"] == []
    assert again["data"] == first["data"]
    assert fake.available(TENT_ITEM) == 7  # not set to 5 a second time
    assert set_quantity(fake, "2026-04", 5, key="k-2")["data"]["inventorySetQuantities"]["userErrors"] == []
    assert fake.available(TENT_ITEM) == 5


def test_the_same_key_with_another_input_is_a_user_error(fake):
    set_quantity(fake, "2026-04", 5, key="k-1")

    answer = set_quantity(fake, "2026-04", 6, key="k-1")

    assert answer["data"]["inventorySetQuantities"] == {
        "inventoryAdjustmentGroup": None,
        "userErrors": [
            {
                "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                "field": None,
                "message": "The same idempotency key cannot be used with different operation parameters.",
            }
        ],
    }
    assert fake.available(TENT_ITEM) == 5


def test_a_stale_attempt_keeps_no_result_so_the_identical_retry_is_evaluated_again(fake):
    fake.set_available(TENT_ITEM, 9)
    stale = set_quantity(fake, "2026-04", 5, key="k-1", compare=8)
    fake.set_available(TENT_ITEM, 8)

    retried = set_quantity(fake, "2026-04", 5, key="k-1", compare=8)

    assert stale["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert retried["data"]["inventorySetQuantities"]["userErrors"] == []
    assert fake.available(TENT_ITEM) == 5


def test_the_directive_is_optional_in_2026_01_and_unknown_before(fake):
    literal = MUTATION.format(extra="", directive=' @idempotent(key: "lit-1")')

    assert set_quantity(fake, "2026-01", 4)["data"]["inventorySetQuantities"]["userErrors"] == []
    assert (
        set_quantity(fake, "2026-01", 5, query=literal)["data"]["inventorySetQuantities"]["userErrors"] == []
    )
    assert "errors" not in set_quantity(fake, "2026-04", 5, query=literal)  # the same key and input: a replay
    old = set_quantity(fake, "2025-10", 6, key="k-old")

    assert old["errors"][0]["message"] == "Directive @idempotent is not defined"
    assert old["errors"][0]["extensions"] == {"code": "undefinedDirective", "directiveName": "idempotent"}
    assert fake.available(TENT_ITEM) == 5
    assert set_quantity(fake, "2025-10", 6)["data"]["inventorySetQuantities"]["userErrors"] == []


def test_the_connectors_graphql_push_works_on_2026_04_and_a_retried_push_applies_once(shop, db):
    from integrations.contract import PushContext  # the hub's push context, new in v2

    connection = connection_create(
        connector="shopify",
        name="GraphQL 2026-04",
        settings=shopify_settings(api_version="2026-04", inventory_api="graphql"),
        secrets={"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
    )
    item = InventoryOut(
        sku="TENT-2P-GRN", external_id="44012345678901", extra={"inventory_item_id": TENT_ITEM}, available=30
    )

    connector = registry.connector_for(connection)
    connector.push(item, PushContext(idempotency_key="erp-delivery-1"))
    assert shop.available(TENT_ITEM) == 30

    # the answer was lost; a shopper buys one; the worker retries the same delivery
    shop.set_available(TENT_ITEM, 29)
    connector.push(item, PushContext(idempotency_key="erp-delivery-1", attempt=2))

    assert shop.available(TENT_ITEM) == 29  # Shopify answered the first result: the sale is kept
