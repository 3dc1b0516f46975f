"""The fake Amazon's Orders v0: the samples' shapes, Pending without prices, totals to the cent,
the two-minute rule, NextToken paging, restricted data, confirmShipment and the snapshot."""

from __future__ import annotations

import datetime
from decimal import Decimal

import httpx
import pytest

from integrations.amazon.fake import MARKETPLACE_ID, FakeAmazon, OutOfStock
from integrations.fakes.clock import SimClock

START = datetime.datetime(2026, 3, 14, 15, 0, tzinfo=datetime.UTC)
SP = "https://sellingpartnerapi-na.amazon.com"
SINCE = "2026-03-14T00:00:00Z"

# The keys of the shared samples (get_order_response.json, get_order_items_response.json).
ORDER_KEYS = {
    "AmazonOrderId", "SellerOrderId", "PurchaseDate", "LastUpdateDate", "OrderStatus",
    "FulfillmentChannel", "SalesChannel", "ShipServiceLevel", "OrderTotal", "NumberOfItemsShipped",
    "NumberOfItemsUnshipped", "PaymentMethod", "PaymentMethodDetails", "MarketplaceId",
    "ShipmentServiceLevelCategory", "OrderType", "EarliestShipDate", "LatestShipDate",
    "EarliestDeliveryDate", "LatestDeliveryDate", "IsBusinessOrder", "IsPrime", "IsPremiumOrder",
    "IsGlobalExpressEnabled", "IsReplacementOrder", "IsSoldByAB", "IsIBA", "IsISPU",
    "IsAccessPointOrder", "ShippingAddress", "BuyerInfo", "AutomatedShippingSettings", "HasRegulatedItems",
}  # fmt: skip
ITEM_KEYS = {
    "ASIN", "SellerSKU", "OrderItemId", "Title", "QuantityOrdered", "QuantityShipped", "ProductInfo",
    "ItemPrice", "ItemTax", "ShippingPrice", "ShippingTax", "ShippingDiscount", "ShippingDiscountTax",
    "PromotionDiscount", "PromotionDiscountTax", "PromotionIds", "IsGift", "ConditionId",
    "ConditionSubtypeId", "IsTransparency", "SerialNumberRequired", "TaxCollection", "BuyerRequestedCancel",
}  # fmt: skip
PRICE_KEYS = {
    "ItemPrice", "ItemTax", "ShippingPrice", "ShippingTax", "ShippingDiscount", "ShippingDiscountTax",
    "PromotionDiscount", "PromotionDiscountTax",
}  # fmt: skip


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def fake(clock: SimClock) -> FakeAmazon:
    fake = FakeAmazon(clock=clock, limits=False)
    for sku in ("TENT-2P-GRN", "TENT-2P-ORG", "SLBAG-20F-REG", "STOVE-TI-01"):
        fake.set_quantity(sku, 500)
    return fake


def api(fake: FakeAmazon, token: str | None = None) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(fake.handle),
        base_url=SP,
        headers={"x-amz-access-token": token or fake.access_token()},
    )


def later(clock: SimClock, minutes: float = 3) -> None:
    clock.tick(datetime.timedelta(minutes=minutes))


def test_an_unshipped_order_has_the_samples_keys_and_redacted_pii(fake, clock):
    placed = fake.place_order([("TENT-2P-GRN", 1), ("STOVE-TI-01", 1)], pending=False)
    later(clock)

    listed = api(fake).get(
        "/orders/v0/orders", params={"MarketplaceIds": MARKETPLACE_ID, "CreatedAfter": SINCE}
    )
    order = api(fake).get(f"/orders/v0/orders/{placed['AmazonOrderId']}").json()["payload"]
    items = api(fake).get(f"/orders/v0/orders/{placed['AmazonOrderId']}/orderItems").json()["payload"]

    payload = listed.json()["payload"]
    assert set(payload) == {"Orders", "CreatedBefore"}
    assert payload["CreatedBefore"] == "2026-03-14T15:01:00Z"
    assert payload["Orders"] == [order]
    assert set(order) == ORDER_KEYS
    assert order["ShippingAddress"] == {
        "StateOrRegion": "KY", "PostalCode": "40202-1234", "City": "LOUISVILLE", "CountryCode": "US"
    }  # fmt: skip
    assert set(order["BuyerInfo"]) == {"BuyerEmail"}
    assert order["BuyerInfo"]["BuyerEmail"].endswith("@marketplace.amazon.com")
    assert order["AmazonOrderId"].count("-") == 2
    assert len(order["AmazonOrderId"]) == 19
    assert (order["OrderStatus"], order["FulfillmentChannel"], order["SalesChannel"]) == (
        "Unshipped", "MFN", "Amazon.com"
    )  # fmt: skip
    assert (order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == (0, 2)
    assert set(items) == {"AmazonOrderId", "OrderItems"}
    assert [set(i) for i in items["OrderItems"]] == [ITEM_KEYS, ITEM_KEYS]
    assert len(items["OrderItems"][0]["OrderItemId"]) == 14
    assert items["OrderItems"][0]["TaxCollection"] == {
        "Model": "MarketplaceFacilitator", "ResponsibleParty": "Amazon Services, Inc."
    }  # fmt: skip


def test_pending_has_no_prices_then_authorized_totals_add_up_to_the_cent(fake, clock):
    placed = fake.place_order(
        [("TENT-2P-GRN", 2), ("STOVE-TI-01", 3)], promotion=True, gift_wrap=True, shipping="standard"
    )
    order_id = placed["AmazonOrderId"]
    client = api(fake)

    pending = client.get(f"/orders/v0/orders/{order_id}").json()["payload"]
    pending_items = client.get(f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]["OrderItems"]
    assert pending["OrderStatus"] == "Pending"
    assert "OrderTotal" not in pending
    for item in pending_items:
        assert not (set(item) & (PRICE_KEYS | {"GiftWrapPrice", "GiftWrapTax"}))

    later(clock, 1)
    fake.authorize_payment(order_id)
    order = client.get(f"/orders/v0/orders/{order_id}").json()["payload"]
    items = client.get(f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]["OrderItems"]

    assert order["OrderStatus"] == "Unshipped"
    assert order["LastUpdateDate"] == "2026-03-14T15:01:00Z"
    tent, stove = items
    assert tent["ItemPrice"] == {"CurrencyCode": "USD", "Amount": "498.00"}  # a line total
    assert tent["PromotionDiscount"]["Amount"] == "49.80"
    assert tent["ItemTax"]["Amount"] == "26.89"  # 6 % of 448.20 = 26.892
    assert tent["ShippingPrice"]["Amount"] == "5.99"
    assert tent["ShippingTax"]["Amount"] == "0.36"
    assert tent["GiftWrapPrice"]["Amount"] == "3.99"
    assert tent["GiftWrapTax"]["Amount"] == "0.24"
    assert tent["IsGift"] == "true"
    assert stove["ItemPrice"]["Amount"] == "179.85"
    assert stove["PromotionDiscount"]["Amount"] == "17.99"  # 17.985 half-up
    assert stove["ItemTax"]["Amount"] == "9.71"  # 6 % of 161.86 = 9.7116
    assert stove["ShippingPrice"]["Amount"] == "0.00"
    total = Decimal(0)
    for item in items:
        for key in ("ItemPrice", "ItemTax", "ShippingPrice", "ShippingTax", "GiftWrapPrice", "GiftWrapTax"):
            total += Decimal(item[key]["Amount"])
        for key in ("PromotionDiscount", "PromotionDiscountTax", "ShippingDiscount", "ShippingDiscountTax"):
            total -= Decimal(item[key]["Amount"])
    assert order["OrderTotal"] == {"CurrencyCode": "USD", "Amount": str(total)}
    assert order["OrderTotal"]["Amount"] == "661.47"  # 485.67 + 175.80


def test_the_sample_order_total_is_the_tent_with_tax(fake):
    placed = fake.place_order([("TENT-2P-GRN", 1)], pending=False)

    assert placed["OrderTotal"]["Amount"] == "263.94"
    assert fake.snapshot()["orders"][placed["AmazonOrderId"]]["current_total_price"] == "263.94"


def test_the_two_minute_rule_and_the_date_parameters(fake, clock):
    client = api(fake)
    now = clock().strftime("%Y-%m-%dT%H:%M:%SZ")

    def get(**params):
        return client.get("/orders/v0/orders", params={"MarketplaceIds": MARKETPLACE_ID, **params})

    too_late = get(CreatedAfter=now)
    before_too_late = get(CreatedAfter=SINCE, CreatedBefore=now)
    both = get(CreatedAfter=SINCE, LastUpdatedAfter=SINCE)
    neither = get()
    no_marketplace = client.get("/orders/v0/orders", params={"CreatedAfter": SINCE})
    other_marketplace = client.get(
        "/orders/v0/orders", params={"MarketplaceIds": "A1F83G8C2ARO7P", "CreatedAfter": SINCE}
    )
    bad_token = get(NextToken="not-a-token!")
    ok = get(LastUpdatedAfter=SINCE, LastUpdatedBefore="2026-03-14T14:00:00Z")

    for answer in (too_late, before_too_late, both, neither, no_marketplace, other_marketplace, bad_token):
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["code"] == "InvalidInput"
    assert "two minutes" in too_late.json()["errors"][0]["details"]
    assert "two minutes" in before_too_late.json()["errors"][0]["details"]
    assert "Exactly one" in both.json()["errors"][0]["details"]
    assert ok.status_code == 200
    assert ok.json()["payload"]["LastUpdatedBefore"] == "2026-03-14T14:00:00Z"


def test_next_token_pages_250_orders_in_a_stable_order_without_duplicates(fake, clock):
    placed = []
    for n in range(250):
        at = START - datetime.timedelta(hours=5) + datetime.timedelta(seconds=(n * 37) % 600)
        placed.append(fake.place_order([("STOVE-TI-01", 1)], pending=False, at=at)["AmazonOrderId"])
    client = api(fake)
    params = {"MarketplaceIds": MARKETPLACE_ID, "LastUpdatedAfter": SINCE, "MaxResultsPerPage": "100"}

    first = client.get("/orders/v0/orders", params=params).json()["payload"]
    # an order that changes after the first page moves past the window's end: the next poll sees it
    seen = [o["AmazonOrderId"] for o in first["Orders"]]
    changed = next(o for o in placed if o not in seen)
    later(clock, 1)
    fake.cancel_order(changed)
    pages = [first]
    token = first.get("NextToken")
    while token:
        page = client.get("/orders/v0/orders", params={"MarketplaceIds": MARKETPLACE_ID, "NextToken": token})
        assert page.status_code == 200
        payload = page.json()["payload"]
        pages.append(payload)
        seen += [o["AmazonOrderId"] for o in payload["Orders"]]
        token = payload.get("NextToken")

    assert [len(p["Orders"]) for p in pages] == [100, 100, 49]
    assert "NextToken" not in pages[-1]
    assert len(seen) == len(set(seen)) == 249
    assert set(seen) == set(placed) - {changed}
    assert {p["LastUpdatedBefore"] for p in pages} == {"2026-03-14T14:58:00Z"}
    keys = [(o["LastUpdateDate"], o["AmazonOrderId"]) for p in pages for o in p["Orders"]]
    assert keys == sorted(keys)


def test_order_items_page_twenty_at_a_time(fake):
    order_id = fake.place_order([("STOVE-TI-01", 1)] * 25, pending=False)["AmazonOrderId"]
    client = api(fake)

    first = client.get(f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]
    second = client.get(f"/orders/v0/orders/{order_id}/orderItems", params={"NextToken": first["NextToken"]})

    assert len(first["OrderItems"]) == 20
    assert len(second.json()["payload"]["OrderItems"]) == 5
    assert "NextToken" not in second.json()["payload"]
    assert client.get("/orders/v0/orders/111-0000000-0000000").json() == {
        "errors": [{"code": "NotFound", "message": "Order 111-0000000-0000000 not found."}]
    }


def test_a_restricted_data_token_shows_the_pii_of_the_paths_it_names_only(fake, clock):
    order_id = fake.place_order([("TENT-2P-GRN", 1)], pending=False)["AmazonOrderId"]
    later(clock)
    client = api(fake)
    rdt = client.post(
        "/tokens/2021-03-01/restrictedDataToken",
        json={
            "restrictedResources": [
                {
                    "method": "GET",
                    "path": "/orders/v0/orders/{orderId}",
                    "dataElements": ["buyerInfo", "shippingAddress"],
                }
            ]
        },
    )
    assert rdt.status_code == 200
    token = rdt.json()["restrictedDataToken"]
    assert token.startswith("Atz.sprdt|")
    assert rdt.json()["expiresIn"] == 3600

    full = api(fake, token).get(f"/orders/v0/orders/{order_id}").json()["payload"]
    elsewhere = api(fake, token).get(
        "/orders/v0/orders", params={"MarketplaceIds": MARKETPLACE_ID, "CreatedAfter": SINCE}
    )

    assert full["ShippingAddress"] == {
        "Name": "Jane Doe", "AddressLine1": "1 Main St", "AddressLine2": "Apt 4", "City": "LOUISVILLE",
        "StateOrRegion": "KY", "PostalCode": "40202-1234", "CountryCode": "US", "Phone": "+1 502-555-0101",
        "AddressType": "Residential",
    }  # fmt: skip
    assert set(full["BuyerInfo"]) == {"BuyerEmail", "BuyerName"}
    assert elsewhere.status_code == 403
    assert elsewhere.json()["errors"][0]["code"] == "Unauthorized"


def test_restricted_data_is_refused_when_the_app_may_not_have_pii(clock):
    fake = FakeAmazon(clock=clock, pii_allowed=False)
    answer = api(fake).post(
        "/tokens/2021-03-01/restrictedDataToken",
        json={
            "restrictedResources": [
                {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo"]}
            ]
        },
    )
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "Unauthorized"


def confirm(client: httpx.Client, order_id: str, items: list[dict], **overrides) -> httpx.Response:
    detail = {
        "packageReferenceId": "1",
        "carrierCode": "UPS",
        "trackingNumber": "1Z999AA10123456784",
        "shipDate": "2026-03-14T15:00:00Z",
        "orderItems": items,
        **overrides,
    }
    body = {"marketplaceId": MARKETPLACE_ID, "packageDetail": detail}
    return client.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", json=body)


def test_confirm_shipment_ships_units_and_refuses_what_amazon_refuses(fake, clock):
    fake.set_quantity("MUG-ENAMEL-FBA", 0)
    placed = fake.place_order([("TENT-2P-GRN", 2), ("STOVE-TI-01", 1)], pending=False)
    order_id = placed["AmazonOrderId"]
    tent, stove = (i["OrderItemId"] for i in fake.order_items(order_id))
    afn = fake.place_order([("MUG-ENAMEL-FBA", 1)], fulfillment_channel="AFN", pending=False)["AmazonOrderId"]
    pending = fake.place_order([("STOVE-TI-01", 1)])["AmazonOrderId"]
    client = api(fake)

    def refused(answer: httpx.Response) -> str:
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["code"] == "InvalidInput"
        return answer.json()["errors"][0]["details"]

    assert "trackingNumber" in refused(
        confirm(client, order_id, [{"orderItemId": tent, "quantity": 1}], trackingNumber="")
    )
    assert "fulfilled by Amazon" in refused(confirm(client, afn, [{"orderItemId": "1", "quantity": 1}]))
    assert "Pending" in refused(confirm(client, pending, [{"orderItemId": "1", "quantity": 1}]))
    assert "99999" in refused(confirm(client, order_id, [{"orderItemId": "99999", "quantity": 1}]))
    assert "exceeds" in refused(confirm(client, order_id, [{"orderItemId": tent, "quantity": 3}]))

    later(clock, 1)
    partly = confirm(client, order_id, [{"orderItemId": tent, "quantity": 1}])
    assert (partly.status_code, partly.content) == (204, b"")
    order = fake.order(order_id)
    assert (order["OrderStatus"], order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == (
        "PartiallyShipped", 1, 2
    )  # fmt: skip
    assert order["LastUpdateDate"] == "2026-03-14T15:01:00Z"
    rest = [{"orderItemId": tent, "quantity": 1}, {"orderItemId": stove, "quantity": 1}]
    assert confirm(client, order_id, rest, packageReferenceId="2", trackingNumber="1Z2").status_code == 204
    assert fake.order(order_id)["OrderStatus"] == "Shipped"
    assert [i["QuantityShipped"] for i in fake.order_items(order_id)] == [2, 1]
    fake.cancel_order(pending)
    assert "Canceled" in refused(confirm(client, pending, [{"orderItemId": "1", "quantity": 1}]))
    snap = fake.snapshot([order_id])["orders"][order_id]
    assert snap["tracking_numbers"] == ["1Z999AA10123456784", "1Z2"]
    assert snap["fulfillment_status"] == "fulfilled"


def test_checkout_stock_cancellation_fba_and_the_snapshot(fake, clock):
    fake.set_quantity("TENT-2P-ORG", 2)
    with pytest.raises(OutOfStock):
        fake.place_order([("TENT-2P-ORG", 3)])
    with pytest.raises(OutOfStock):
        fake.place_order([("TENT-2P-ORG", 1)], fulfillment_channel="AFN")
    pending = fake.place_order([("TENT-2P-ORG", 2)])["AmazonOrderId"]
    assert fake.quantity("TENT-2P-ORG") == 0
    fba = fake.place_order([("MUG-ENAMEL-FBA", 4)], fulfillment_channel="AFN", pending=False)["AmazonOrderId"]
    assert fake.fba_quantity("MUG-ENAMEL-FBA") == 116
    manual = fake.place_order([("SLBAG-20F-REG", 1)], pending=False)["AmazonOrderId"]

    later(clock, 1)
    fake.cancel_order(pending)
    fake.ship_fba(fba)
    fake.ship_in_seller_central(manual, tracking="9400TRACK", carrier="USPS")
    with pytest.raises(ValueError, match="cannot be cancelled"):
        fake.cancel_order(manual)

    assert fake.quantity("TENT-2P-ORG") == 2
    snapshot = fake.snapshot()
    assert snapshot["tool"] == "amazon"
    assert snapshot["stock"]["TENT-2P-ORG"] == {"DEFAULT": 2}
    assert "MUG-ENAMEL-FBA" not in snapshot["stock"]
    assert snapshot["orders"][pending] == {
        "name": pending,
        "cancelled": True,
        "financial_status": "voided",
        "fulfillment_status": None,
        "current_total_price": "0.00",
        "status": "Canceled",
        "fulfillment_channel": "MFN",
        "lines": {"TENT-2P-ORG": {"quantity": 2, "current_quantity": 0, "fulfilled": 0, "refunded": 0}},
        "tracking_numbers": [],
        "refunds": [],
    }
    assert snapshot["orders"][fba]["fulfillment_status"] == "fulfilled"
    assert snapshot["orders"][fba]["tracking_numbers"] == []  # Amazon's own parcel: not the seller's to know
    assert snapshot["orders"][manual]["financial_status"] == "paid"
    assert snapshot["orders"][manual]["tracking_numbers"] == ["9400TRACK"]
    assert fake.order(pending)["OrderStatus"] == "Canceled"
