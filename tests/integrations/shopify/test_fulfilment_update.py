"""A voided label reprinted: the Shopify connector replaces the tracking of the fulfilment Shopify has
(``POST fulfillments/{id}/update_tracking.json``) instead of making a second one."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from integrations.contract import PushContext
from integrations.errors import PermanentError, TransientError
from integrations.records import FulfilmentLineOut, FulfilmentOut

SAMPLE_ORDER = "5834021535987"
CONTEXT = PushContext(idempotency_key="erp-delivery-7")
TRACKING = ("tracking_company", "tracking_number", "tracking_numbers", "tracking_url", "tracking_urls")

FIRST_LABEL = FulfilmentOut(
    order_external_id=SAMPLE_ORDER,
    shipment_number="SH-0007",
    lines=(FulfilmentLineOut(external_line_id="13950000000001", quantity=1),),
    carrier="UPS",
    tracking_number="1ZVOIDED0000000001",
    tracking_url="https://www.ups.com/track?tracknum=1ZVOIDED0000000001",
)


def without(record: dict, *keys: str) -> dict:
    return {k: v for k, v in record.items() if k not in keys}


def test_a_new_label_replaces_the_tracking_of_the_fulfilment_shopify_has(connector, shop):
    created = connector.push(FIRST_LABEL, CONTEXT)
    before = shop.order(int(SAMPLE_ORDER))
    fulfilment_orders_before = copy.deepcopy(shop.fulfillment_orders)
    new_label = dataclasses.replace(
        FIRST_LABEL,
        carrier="FedEx",
        tracking_number="794600000000001",
        tracking_url="https://www.fedex.com/fedextrack/?trknbr=794600000000001",
        external_id=created.external_id,
    )

    result = connector.push(new_label, CONTEXT)

    [post] = shop.requests_to(f"fulfillments/{created.external_id}/update_tracking.json", "POST")
    assert post.json == {
        "fulfillment": {
            "notify_customer": True,
            "tracking_info": {
                "number": "794600000000001",
                "company": "FedEx",
                "url": "https://www.fedex.com/fedextrack/?trknbr=794600000000001",
            },
        }
    }
    assert result.external_id == created.external_id
    after = shop.order(int(SAMPLE_ORDER))
    [fulfilment] = after["fulfillments"]  # no second fulfilment
    assert str(fulfilment["id"]) == created.external_id
    assert (
        fulfilment["tracking_company"],
        fulfilment["tracking_number"],
        fulfilment["tracking_numbers"],
    ) == (
        "FedEx",
        "794600000000001",
        ["794600000000001"],
    )
    assert fulfilment["tracking_urls"] == ["https://www.fedex.com/fedextrack/?trknbr=794600000000001"]
    [old] = before["fulfillments"]
    assert without(fulfilment, *TRACKING, "updated_at") == without(old, *TRACKING, "updated_at")
    assert without(after, "fulfillments") == without(before, "fulfillments")
    assert shop.fulfillment_orders == fulfilment_orders_before
    assert len(shop.requests_to("fulfillments.json", "POST")) == 1  # only the first label's


def test_the_update_sends_only_the_tracking_it_has(connector, shop):
    created = connector.push(FIRST_LABEL, CONTEXT)

    connector.push(
        dataclasses.replace(
            FIRST_LABEL,
            tracking_number="1ZNEW0000000000002",
            tracking_url="",
            external_id=created.external_id,
        ),
        CONTEXT,
    )

    [post] = shop.requests_to(f"fulfillments/{created.external_id}/update_tracking.json", "POST")
    assert post.json["fulfillment"]["tracking_info"] == {"number": "1ZNEW0000000000002", "company": "UPS"}
    [fulfilment] = shop.order(int(SAMPLE_ORDER))["fulfillments"]
    assert fulfilment["tracking_number"] == "1ZNEW0000000000002"
    # Shopify makes a known carrier's URL from the number (the voided label's URL is gone)
    assert fulfilment["tracking_url"] == (
        "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1ZNEW0000000000002"
    )


def test_an_unknown_fulfilment_is_a_clear_permanent_error(connector, shop):
    unknown = dataclasses.replace(FIRST_LABEL, external_id="999")

    expected = r"Shopify has no fulfilment 999 \(order 5834021535987\)"
    with pytest.raises(PermanentError, match=expected) as caught:
        connector.push(unknown, CONTEXT)

    assert caught.value.status == 404
    assert shop.order(int(SAMPLE_ORDER))["fulfillments"] == []
    assert shop.requests_to("fulfillments.json", "POST") == []


def new_label_for(created) -> FulfilmentOut:
    return dataclasses.replace(
        FIRST_LABEL,
        carrier="FedEx",
        tracking_number="794600000000001",
        tracking_url="https://www.fedex.com/fedextrack/?trknbr=794600000000001",
        external_id=created.external_id,
    )


def test_a_retry_after_a_lost_answer_does_not_email_the_customer_twice(connector, shop):
    # given: a fulfilment, and its new label's update made by Shopify, whose answer was lost
    created = connector.push(FIRST_LABEL, CONTEXT)
    new_label = new_label_for(created)
    shop.timeout_next(match="update_tracking", processed=True)
    with pytest.raises(TransientError):
        connector.push(new_label, CONTEXT)
    assert [n["template"] for n in shop.customer_notifications] == [
        "shipping_confirmation",
        "shipping_update",
    ]

    # when: the delivery is retried
    result = connector.push(new_label, dataclasses.replace(CONTEXT, attempt=2))

    # then: Shopify shows the new tracking, so nothing is sent again and the customer got one update
    assert result.external_id == created.external_id
    assert "already" in result.detail
    assert len(shop.requests_to(f"fulfillments/{created.external_id}/update_tracking.json", "POST")) == 1
    assert [n["template"] for n in shop.customer_notifications] == [
        "shipping_confirmation",
        "shipping_update",
    ]
    [fulfilment] = shop.order(int(SAMPLE_ORDER))["fulfillments"]
    assert fulfilment["tracking_number"] == "794600000000001"


def test_a_label_entered_in_shopify_already_is_not_sent_again_but_another_one_is(connector, shop):
    # given: the merchant typed the new label into Shopify's admin ("Edit tracking", no email)
    created = connector.push(FIRST_LABEL, CONTEXT)
    shop.update_tracking(
        int(created.external_id), tracking_number="794600000000001", tracking_company="FedEx"
    )
    same = dataclasses.replace(new_label_for(created), tracking_url="")

    # when: the same label comes from here, then a third one
    connector.push(same, CONTEXT)
    third = dataclasses.replace(same, tracking_number="794600000000002")
    connector.push(third, CONTEXT)

    # then: only the third is posted, and the customer is told of it once
    [post] = shop.requests_to(f"fulfillments/{created.external_id}/update_tracking.json", "POST")
    assert post.json["fulfillment"]["tracking_info"]["number"] == "794600000000002"
    assert [
        n["tracking_number"] for n in shop.customer_notifications if n["template"] == "shipping_update"
    ] == ["794600000000002"]
