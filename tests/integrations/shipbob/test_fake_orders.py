"""The fake ShipBob over HTTP: its token, its channel header, orders in the samples' shape, a
repeated reference_id, validation, listing, cancelling, its rate limit and its WSGI front."""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.shipbob.fake import ACCESS_TOKEN, CHANNEL_ID, FakeShipBob
from integrations.shipbob.fake_data import DEFAULT_CHANNEL_ID, sample

START = datetime.datetime(2026, 3, 14, 14, 22, 40, tzinfo=datetime.UTC)
API = "https://api.shipbob.com/2026-01"


def make(**options: Any) -> tuple[FakeShipBob, SimClock]:
    clock = SimClock(START)
    return FakeShipBob(clock=clock, **options), clock


def client(
    fake: FakeShipBob, *, token: str | None = ACCESS_TOKEN, channel: int | None = CHANNEL_ID
) -> httpx.Client:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if channel is not None:
        headers["shipbob_channel_id"] = str(channel)
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=API, headers=headers)


def order_request(reference_id: str = "shopify-5834021535987", **changes: Any) -> dict[str, Any]:
    body = sample("order_create_request.json")
    body["reference_id"] = reference_id
    body.update(changes)
    return dict(body)


def shape(value: Any) -> Any:
    """The key structure of a JSON value (dict keys recursively; a list by its first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_a_missing_or_wrong_token_is_401_with_no_body():
    fake, _ = make()

    for token in (None, "not-the-pat"):
        answer = client(fake, token=token).get("/channel")
        assert answer.status_code == 401
        assert answer.content == b""
    assert client(fake, token=ACCESS_TOKEN).get("/channel").status_code == 200
    fake.revoke_token()
    assert client(fake).get("/channel").status_code == 401


def test_channels_list_the_pats_application_and_shipbobs_default():
    fake, _ = make()

    body = client(fake, channel=None).get("/channel").json()

    assert body["next"] is None
    channels = {c["id"]: c for c in body["items"]}
    assert set(channels[CHANNEL_ID]) == {"id", "name", "application_name", "scopes"}
    assert channels[CHANNEL_ID]["name"] == "ERP Connector"
    assert "orders_write" in channels[CHANNEL_ID]["scopes"]
    assert "orders_write" not in channels[DEFAULT_CHANNEL_ID]["scopes"]


def test_writes_need_a_known_channel_header():
    fake, _ = make()

    missing = client(fake, channel=None).post("/order", json=order_request())
    unknown = client(fake, channel=999).post("/order", json=order_request())
    read_only = client(fake, channel=DEFAULT_CHANNEL_ID).post("/order", json=order_request())

    assert missing.status_code == 400
    assert list(missing.json()) == ["shipbob_channel_id"]
    assert isinstance(missing.json()["shipbob_channel_id"], list)
    assert unknown.status_code == 400
    assert read_only.status_code == 403
    assert fake.orders == {}


def test_a_new_order_answers_201_exactly_in_the_samples_shape():
    fake, clock = make()
    clock.now = START.replace(microsecond=117000)

    answer = client(fake).post("/order", json=order_request())

    assert answer.status_code == 201
    order = answer.json()
    expected = sample("order_create_response_201.json")
    assert shape(order) == shape(expected)
    assert list(order) == list(expected)
    # Everything but the moment of the last update is the sample's.
    order["shipments"][0]["last_update_at"] = expected["shipments"][0]["last_update_at"]
    assert order == expected
    assert fake.committed("TENT-2P-GRN", 10) == 1
    assert fake.committed("SLBAG-20F-REG", 10) == 2


def test_a_repeated_reference_id_is_422_naming_it_and_never_a_second_order():
    fake, _ = make()
    api = client(fake)

    first = api.post("/order", json=order_request("ref-1"))
    again = api.post("/order", json=order_request("ref-1"))

    assert first.status_code == 201
    assert again.status_code == 422
    assert list(again.json()) == ["errors"]
    assert "ref-1" in again.json()["errors"][0]
    assert len(fake.orders) == 1
    assert fake.committed("TENT-2P-GRN", 10) == 1
    listed = api.get("/order", params={"ReferenceIds": "ref-1"})
    assert [o["id"] for o in listed.json()] == [first.json()["id"]]


def test_missing_fields_are_400_field_to_messages():
    fake, _ = make()
    body = order_request()
    del body["shipping_method"]
    body["recipient"]["address"]["address1"] = ""
    body["products"][0]["quantity"] = 0

    answer = client(fake).post("/order", json=body)

    assert answer.status_code == 400
    errors = answer.json()
    assert errors["recipient.address.address1"] == ["The address1 field is required."]
    assert errors["shipping_method"] == ["The shipping_method field is required."]
    assert "products[0].quantity" in errors
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in errors.values())
    assert set(sample("error_400_validation.json")["recipient.address.address1"]) <= set(
        errors["recipient.address.address1"]
    )
    bad_type = client(fake).post("/order", json=order_request(type="Retail"))
    assert bad_type.status_code == 400
    assert "type" in bad_type.json()
    assert fake.orders == {}


def test_unknown_skus_need_a_name_and_inactive_products_are_refused_like_the_sample():
    fake, _ = make()
    api = client(fake)
    fake.set_active("TENT-2P-GRN", False)

    inactive = api.post("/order", json=order_request("r-inactive"))
    nameless = api.post(
        "/order", json=order_request("r-nameless", products=[{"reference_id": "NEW-SKU", "quantity": 1}])
    )

    assert inactive.status_code == 422
    assert inactive.json() == sample("error_422.json")
    assert nameless.status_code == 422
    assert "NEW-SKU" in nameless.json()["errors"][0]
    assert fake.orders == {}


def test_an_unknown_sku_with_a_name_becomes_a_product_and_waits_for_stock():
    fake, _ = make()
    products = [{"reference_id": "LANTERN-01", "name": "Camp Lantern", "quantity": 2}]

    order = client(fake).post("/order", json=order_request("r-new", products=products)).json()

    assert order["status"] == "Exception"
    shipment = order["shipments"][0]
    assert shipment["status"] == "Exception"
    assert shipment["status_details"][0]["name"] == "OutOfStock"
    assert fake.committed("LANTERN-01", 10) == 0
    fake.count("LANTERN-01", 24, 5)
    assert fake.order(order["id"])["status"] == "Processing"
    assert fake.order(order["id"])["shipments"][0]["location"] == {"id": 24, "name": "Moreno Valley (CA)"}
    assert fake.committed("LANTERN-01", 24) == 2


def test_orders_are_listed_by_reference_with_paging_headers():
    fake, _ = make()
    api = client(fake)
    ids = [api.post("/order", json=order_request(f"ref-{n}")).json()["id"] for n in range(3)]

    found = api.get("/order", params={"ReferenceIds": "ref-1,ref-2"})
    page = api.get("/order", params={"Page": 1, "Limit": 2, "SortOrder": "Oldest"})
    last = api.get("/order", params={"Page": 2, "Limit": 2, "SortOrder": "Oldest"})

    assert sorted(o["reference_id"] for o in found.json()) == ["ref-1", "ref-2"]
    assert [o["id"] for o in page.json()] == ids[:2]
    assert page.headers["Total-Count"] == "3"
    assert page.headers["Total-Pages"] == "2"
    assert page.headers["Page-Number"] == "1"
    assert "Page=2" in page.headers["Next-Page"]
    assert [o["id"] for o in last.json()] == ids[2:]
    assert "Next-Page" not in last.headers
    assert api.get("/order", params={"Limit": 0}).status_code == 400
    assert api.get(f"/order/{ids[0]}").json()["reference_id"] == "ref-0"
    assert api.get("/order/1").status_code == 404
    shipments = api.get(f"/order/{ids[0]}/shipment").json()
    assert [s["order_id"] for s in shipments] == [ids[0]]
    assert api.get(f"/shipment/{shipments[0]['id']}").json() == shipments[0]


def test_cancel_releases_committed_stock_and_a_shipped_order_cannot_be_cancelled():
    fake, _ = make()
    api = client(fake)
    first = api.post("/order", json=order_request("ref-a")).json()
    second = api.post("/order", json=order_request("ref-b")).json()
    assert fake.committed("TENT-2P-GRN", 10) == 2

    cancelled = api.post(f"/order/{first['id']}:cancel")

    assert cancelled.status_code == 200
    body = cancelled.json()
    assert set(body) == {"canceled_shipment_results", "order", "order_id", "status"}
    assert body["status"] == "Success"
    assert body["order"]["status"] == "Cancelled"
    assert body["order"]["shipments"][0]["status"] == "Cancelled"
    assert body["canceled_shipment_results"][0]["is_success"] is True
    assert fake.committed("TENT-2P-GRN", 10) == 1
    assert api.post(f"/order/{first['id']}:cancel").status_code == 422

    fake.ship(second["id"])
    refused = api.post(f"/order/{second['id']}:cancel")
    assert refused.status_code == 422
    assert refused.json()["errors"]
    assert fake.order(second["id"])["status"] == "Fulfilled"
    assert api.post(f"/order/{second['id']}:cancel", headers={"shipbob_channel_id": ""}).status_code == 400


def test_the_rate_limit_is_150_a_minute_sliding_with_retry_after():
    fake, clock = make()
    api = client(fake)

    answers = []
    for _ in range(150):
        answers.append(api.get("/channel"))
        clock.sleep(0.2)  # 150 requests over 30 s
    over = api.get("/channel")

    assert answers[0].headers["x-remaining-calls"] == "149"
    assert answers[-1].headers["x-remaining-calls"] == "0"
    assert over.status_code == 429
    retry = int(over.headers["x-retry-after"])
    assert over.json() == {
        "statusCode": 429,
        "message": f"Rate limit is exceeded. Try again in {retry} seconds.",
    }
    assert set(over.json()) == set(sample("error_429.json"))
    assert 29 <= retry <= 31
    clock.sleep(retry)
    assert api.get("/channel").status_code == 200  # the oldest requests slid out


def test_a_scaled_limit_and_injected_faults():
    fake, _ = make(rate_limit=2, window_seconds=1)
    api = client(fake)
    assert [api.get("/channel").status_code for _ in range(3)] == [200, 200, 429]

    fake, _ = make(limits=False)
    api = client(fake)
    fake.throttle_next(1, retry_after=7, match="POST order")
    fake.fail_next(1, status=500, match="POST order")
    throttled = api.post("/order", json=order_request())
    failed = api.post("/order", json=order_request())
    created = api.post("/order", json=order_request())
    assert throttled.status_code == 429
    assert throttled.headers["x-retry-after"] == "7"
    assert failed.status_code == 500
    assert created.status_code == 201
    assert len(fake.requests_to("POST order")) == 3
    fake.timeout_next(1, match="POST order", processed=True)
    with pytest.raises(httpx.ReadTimeout):
        api.post("/order", json=order_request("ref-lost"))
    assert fake.order_by_reference("ref-lost") is not None  # processed, only the answer was lost
    assert api.post("/order", json=order_request("ref-lost")).status_code == 422


def test_the_wsgi_front_under_a_prefix_and_the_underscore_header():
    fake, _ = make()
    body = json.dumps(order_request()).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "/fake/shipbob",
        "PATH_INFO": "/2026-01/order",
        "QUERY_STRING": "",
        "HTTP_HOST": "127.0.0.1:8790",
        "HTTP_AUTHORIZATION": f"Bearer {ACCESS_TOKEN}",
        "HTTP_SHIPBOB_CHANNEL_ID": str(CHANNEL_ID),
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []

    content = b"".join(fake(environ, lambda status, headers: statuses.append(status)))

    assert statuses == ["201 Created"]
    assert json.loads(content)["reference_id"] == "shopify-5834021535987"


def test_each_token_has_its_own_window_and_issued_tokens_expire():
    fake, clock = make(rate_limit=1, window_seconds=60)
    other = fake.issue_token(ttl=600)

    assert client(fake).get("/channel").status_code == 200
    assert client(fake).get("/channel").status_code == 429
    assert client(fake, token=other).get("/channel").status_code == 200
    clock.sleep(600)
    assert client(fake, token=other).get("/channel").status_code == 401
