"""The fake Shopify's ``POST fulfillments/{id}/update_tracking.json`` (and the admin's "Edit tracking"):
Shopify's request and answer, only the tracking and updated_at change, fulfillments/update."""

from __future__ import annotations

import pytest

from integrations.shopify.fake_data import sample
from tests.integrations.shopify.fakeshop.support import Receiver, line_ids, rest, subscribe

TRACKING = ("tracking_company", "tracking_number", "tracking_numbers", "tracking_url", "tracking_urls")


def without(record: dict, *keys: str) -> dict:
    return {k: v for k, v in record.items() if k not in keys}


@pytest.fixture
def shipped(fake, order, clock):
    """The tent shipped with UPS; a minute later."""
    fulfilment = fake.fulfil_order(
        order["id"], {line_ids(order)["TENT-2P-GRN"]: 1}, tracking_number="1ZVOID", tracking_company="UPS"
    )
    clock.tick(minutes=1)
    return fulfilment


def test_update_tracking_answers_the_fulfilment_with_only_its_tracking_changed(fake, order, shipped):
    order_before = fake.order(order["id"])
    body = {
        "fulfillment": {
            "notify_customer": True,
            "tracking_info": {
                "number": "794600000001",
                "company": "FedEx",
                "url": "https://www.fedex.com/fedextrack/?trknbr=794600000001",
            },
        }
    }

    answer = rest(fake).post(f"/fulfillments/{shipped['id']}/update_tracking.json", json=body)

    assert answer.status_code == 200
    fulfilment = answer.json()["fulfillment"]
    assert (
        fulfilment["tracking_company"],
        fulfilment["tracking_number"],
        fulfilment["tracking_numbers"],
    ) == (
        "FedEx",
        "794600000001",
        ["794600000001"],
    )
    assert fulfilment["tracking_url"] == "https://www.fedex.com/fedextrack/?trknbr=794600000001"
    assert fulfilment["tracking_urls"] == [fulfilment["tracking_url"]]
    assert fulfilment["updated_at"] == "2026-05-04T10:06:00-04:00"
    assert fulfilment["created_at"] == shipped["created_at"] == "2026-05-04T10:05:00-04:00"
    assert without(fulfilment, *TRACKING, "updated_at") == without(shipped, *TRACKING, "updated_at")
    order_after = fake.order(order["id"])
    assert order_after["fulfillments"] == [fulfilment]
    assert without(order_after, "fulfillments") == without(order_before, "fulfillments")
    assert (
        rest(fake).get(f"/orders/{order['id']}/fulfillments/{shipped['id']}.json").json()["fulfillment"]
        == fulfilment
    )


def test_a_known_carrier_without_a_url_gets_shopifys_tracking_url(fake, shipped):
    body = {"fulfillment": {"tracking_info": {"number": "1ZNEW", "company": "UPS"}}}

    fulfilment = (
        rest(fake)
        .post(f"/fulfillments/{shipped['id']}/update_tracking.json", json=body)
        .json()["fulfillment"]
    )

    assert fulfilment["tracking_number"] == "1ZNEW"
    assert (
        fulfilment["tracking_url"] == "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1ZNEW"
    )


def test_an_unknown_fulfilment_is_shopifys_404(fake, shipped):
    body = {"fulfillment": {"tracking_info": {"number": "1ZNEW"}}}

    answer = rest(fake).post("/fulfillments/999/update_tracking.json", json=body)

    assert answer.status_code == 404
    assert answer.json() == sample("rest_error_404.json")
    with pytest.raises(KeyError):
        fake.update_tracking(999, tracking_number="1ZNEW")


@pytest.mark.parametrize("body", [{}, {"fulfillment": {"notify_customer": True}}, {"tracking_info": {}}])
def test_a_request_without_the_fulfillment_and_its_tracking_info_is_a_400(fake, shipped, body):
    answer = rest(fake).post(f"/fulfillments/{shipped['id']}/update_tracking.json", json=body)

    assert answer.status_code == 400
    assert answer.json() == {"errors": {"fulfillment": "Required parameter missing or invalid"}}
    assert fake.order(shipped["order_id"])["fulfillments"] == [shipped]


def test_a_tracking_update_sends_fulfillments_update_and_no_order_webhook(fake, shipped):
    subscribe(fake, "fulfillments/create", "fulfillments/update", "orders/updated")
    receiver = Receiver()
    body = {"fulfillment": {"tracking_info": {"number": "1ZAPI", "company": "UPS"}}}

    rest(fake).post(f"/fulfillments/{shipped['id']}/update_tracking.json", json=body)
    fake.update_tracking(shipped["id"], tracking_number="1ZADMIN", tracking_company="UPS")
    fake.deliver_webhooks(receiver)

    assert receiver.topics == ["fulfillments/update", "fulfillments/update"]
    assert [b["tracking_number"] for b in receiver.bodies("fulfillments/update")] == ["1ZAPI", "1ZADMIN"]
    assert {b["id"] for b in receiver.bodies("fulfillments/update")} == {shipped["id"]}
