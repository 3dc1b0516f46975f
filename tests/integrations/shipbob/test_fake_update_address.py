"""The fake ShipBob's ``PUT /shipment/{id}:updateAddress``: the shipment's recipient changes (the
order's stays as created), missing required fields are 400 naming them, an unknown shipment 404,
and a shipment that shipped or was cancelled 422."""

from __future__ import annotations

from typing import Any

from tests.integrations.shipbob.test_fake_orders import client, make, order_request

NEW_ADDRESS: dict[str, Any] = {
    "recipient_name": "Jane Q. Buyer",
    "company_name": "Buyer & Co",
    "street_address1": "200 Oak St",
    "street_address2": None,
    "city": "Lexington",
    "state": "KY",
    "zip_code": "40507",
    "country_code": "us",
    "email": "jane@example.com",
    "phone_number": "859-555-0100",
}


def placed(fake) -> tuple[dict[str, Any], int]:
    order = client(fake).post("/order", json=order_request()).json()
    return order, order["shipments"][0]["id"]


def test_an_open_shipment_takes_the_new_address_and_the_order_keeps_its_own():
    fake, clock = make()
    order, shipment_id = placed(fake)
    clock.sleep(60)

    answer = client(fake).put(f"/shipment/{shipment_id}:updateAddress", json=NEW_ADDRESS)

    assert answer.status_code == 200
    assert answer.json() == {"error": None, "id": shipment_id, "is_success": True}
    shipment = fake.shipment(shipment_id)
    assert shipment["recipient"]["address"] == {
        "address1": "200 Oak St",
        "address2": None,
        "city": "Lexington",
        "company_name": "Buyer & Co",
        "country": "US",
        "state": "KY",
        "zip_code": "40507",
    }
    assert (shipment["recipient"]["name"], shipment["recipient"]["full_name"]) == ("Jane Q. Buyer",) * 2
    assert (shipment["recipient"]["email"], shipment["recipient"]["phone_number"]) == (
        "jane@example.com",
        "859-555-0100",
    )
    assert shipment["last_update_at"] > order["shipments"][0]["last_update_at"]
    there = client(fake).get(f"/order/{order['id']}").json()
    assert there["recipient"] == order["recipient"]  # as it was created
    assert there["shipments"][0]["recipient"]["address"]["city"] == "Lexington"


def test_a_held_shipment_can_be_moved_too():
    fake, _ = make()
    _, shipment_id = placed(fake)
    fake.hold(shipment_id)

    answer = client(fake).put(f"/shipment/{shipment_id}:updateAddress", json=NEW_ADDRESS)

    assert answer.status_code == 200
    assert fake.shipment(shipment_id)["status"] == "OnHold"
    assert fake.shipment(shipment_id)["recipient"]["address"]["city"] == "Lexington"


def test_missing_required_fields_are_400_naming_them():
    fake, _ = make()
    _, shipment_id = placed(fake)
    before = fake.shipment(shipment_id)["recipient"]

    answer = client(fake).put(
        f"/shipment/{shipment_id}:updateAddress", json={**NEW_ADDRESS, "city": " ", "street_address1": None}
    )

    assert answer.status_code == 400
    assert answer.json() == {
        "code": "INVALID_PARAMETER",
        "message": "Request body is invalid or missing required fields: city, street_address1 required",
    }
    assert client(fake).put(f"/shipment/{shipment_id}:updateAddress").status_code == 400
    assert fake.shipment(shipment_id)["recipient"] == before


def test_an_unknown_shipment_is_404_and_the_channel_header_is_needed():
    fake, _ = make()
    _, shipment_id = placed(fake)

    missing = client(fake).put("/shipment/999:updateAddress", json=NEW_ADDRESS)
    assert (missing.status_code, missing.content) == (404, b"")
    no_channel = client(fake, channel=None).put(f"/shipment/{shipment_id}:updateAddress", json=NEW_ADDRESS)
    assert no_channel.status_code == 400
    assert "shipbob_channel_id" in no_channel.json()
    assert client(fake).post(f"/shipment/{shipment_id}:updateAddress", json=NEW_ADDRESS).status_code == 405


def test_a_shipped_or_cancelled_shipment_is_422_and_keeps_its_address():
    fake, _ = make()
    shipped_order, shipped = placed(fake)
    fake.ship(shipped_order["id"])
    cancelled_order = client(fake).post("/order", json=order_request("other")).json()
    cancelled = cancelled_order["shipments"][0]["id"]
    fake.cancel_order(cancelled_order["id"])

    for shipment_id, why in ((shipped, "has already shipped"), (cancelled, "is cancelled")):
        answer = client(fake).put(f"/shipment/{shipment_id}:updateAddress", json=NEW_ADDRESS)
        assert answer.status_code == 422
        assert answer.json() == {"errors": [f"Shipment {shipment_id} {why}: its address cannot be updated"]}
        assert fake.shipment(shipment_id)["recipient"]["address"]["city"] == "Louisville"
