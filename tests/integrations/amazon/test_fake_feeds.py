"""The fake Amazon's Listings Items PATCH / GET and the whole JSON_LISTINGS_FEED lifecycle: the
pre-signed upload, the processing states on the clock, the gzipped report, FATAL feeds."""

from __future__ import annotations

import datetime
import gzip
import json

import httpx
import pytest

from integrations.amazon.fake import MARKETPLACE_ID, SELLER_ID, FakeAmazon
from integrations.fakes.clock import SimClock

START = datetime.datetime(2026, 3, 14, 14, 40, 2, tzinfo=datetime.UTC)
SP = "https://sellingpartnerapi-na.amazon.com"
ITEM = f"/listings/2021-08-01/items/{SELLER_ID}"
CONTENT_TYPE = "application/json; charset=UTF-8"


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def fake(clock: SimClock) -> FakeAmazon:
    return FakeAmazon(clock=clock, limits=False)


def api(fake: FakeAmazon) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(fake.handle),
        base_url=SP,
        headers={"x-amz-access-token": fake.access_token()},
    )


def s3(fake: FakeAmazon) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake.handle))


def availability(quantity) -> list[dict]:
    return [
        {
            "op": "replace",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
        }
    ]


def patch(client: httpx.Client, sku: str, body: dict, **params) -> httpx.Response:
    return client.patch(f"{ITEM}/{sku}", params={"marketplaceIds": MARKETPLACE_ID, **params}, json=body)


def test_a_listings_patch_is_accepted_and_sets_the_mfn_quantity(fake):
    client = api(fake)

    answer = patch(client, "TENT-2P-GRN", {"productType": "TENT", "patches": availability(42)})
    preview = patch(
        client, "TENT-2P-GRN", {"productType": "TENT", "patches": availability(7)}, mode="VALIDATION_PREVIEW"
    )

    assert answer.status_code == 200
    assert set(answer.json()) == {"sku", "status", "submissionId", "issues"}
    assert (answer.json()["sku"], answer.json()["status"], answer.json()["issues"]) == (
        "TENT-2P-GRN",
        "ACCEPTED",
        [],
    )
    assert preview.json()["status"] == "VALID"
    assert fake.quantity("TENT-2P-GRN") == 42
    assert fake.patch_requests == 2
    got = client.get(
        f"{ITEM}/TENT-2P-GRN",
        params={
            "marketplaceIds": MARKETPLACE_ID,
            "includedData": "summaries,attributes,fulfillmentAvailability",
        },
    ).json()
    assert got["summaries"][0]["productType"] == "TENT"
    assert got["summaries"][0]["asin"].startswith("B0")
    assert got["attributes"]["fulfillment_availability"][0]["quantity"] == 42
    assert got["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 42}]
    only_summaries = client.get(f"{ITEM}/TENT-2P-GRN", params={"marketplaceIds": MARKETPLACE_ID}).json()
    assert set(only_summaries) == {"sku", "summaries"}


@pytest.mark.parametrize(
    "body",
    [
        {"productType": "PRODUCT", "patches": availability(5)},
        {"productType": "TENT", "patches": availability(-1)},
        {"productType": "TENT", "patches": availability(2.5)},
        {"productType": "TENT", "patches": [{"op": "replace", "path": "/attributes/item_name", "value": []}]},
        {
            "productType": "TENT",
            "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": 5}],
        },
    ],
)
def test_a_bad_patch_is_200_invalid_with_issues_and_changes_nothing(fake, body):
    fake.set_quantity("TENT-2P-GRN", 3)

    answer = patch(api(fake), "TENT-2P-GRN", body)

    assert answer.status_code == 200
    assert answer.json()["status"] == "INVALID"
    assert set(answer.json()["issues"][0]) == {"code", "message", "severity", "attributeNames", "categories"}
    assert fake.quantity("TENT-2P-GRN") == 3


def test_fba_listings_refused_skus_unknown_skus_and_other_sellers(fake):
    client = api(fake)
    fake.refuse_listing("STOVE-TI-01", "The listing is suppressed.")

    fba = patch(client, "MUG-ENAMEL-FBA", {"productType": "DRINKING_CUP", "patches": availability(5)})
    refused = patch(client, "STOVE-TI-01", {"productType": "CAMPING_STOVE", "patches": availability(5)})
    unknown = patch(client, "NOPE-1", {"productType": "TENT", "patches": availability(5)})
    other = client.patch(
        "/listings/2021-08-01/items/A1OTHERSELLER/TENT-2P-GRN",
        params={"marketplaceIds": MARKETPLACE_ID},
        json={"productType": "TENT", "patches": availability(1)},
    )

    assert fba.json()["status"] == "INVALID"
    assert fake.fba_quantity("MUG-ENAMEL-FBA") == 120
    assert refused.json()["status"] == "INVALID"
    assert refused.json()["issues"][0]["message"] == "The listing is suppressed."
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == "NOT_FOUND"
    assert other.status_code == 403
    fake.clear_refusals()
    accepted = patch(client, "STOVE-TI-01", {"productType": "CAMPING_STOVE", "patches": availability(5)})
    assert accepted.json()["status"] == "ACCEPTED"


def document(*messages: dict, seller: str = SELLER_ID) -> bytes:
    return json.dumps(
        {"header": {"sellerId": seller, "version": "2.0", "issueLocale": "en_US"}, "messages": list(messages)}
    ).encode()


def message(n: int, sku: str, product_type: str, quantity=None) -> dict:
    body = {"messageId": n, "sku": sku, "operationType": "PATCH", "productType": product_type}
    if quantity is not None:
        body["patches"] = availability(quantity)
    return body


def upload(fake: FakeAmazon, content: bytes) -> tuple[str, str]:
    created = api(fake).post("/feeds/2021-06-30/documents", json={"contentType": CONTENT_TYPE})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"feedDocumentId", "url"}
    put = s3(fake).put(body["url"], content=content, headers={"Content-Type": CONTENT_TYPE})
    assert put.status_code == 200
    return body["feedDocumentId"], body["url"]


def test_the_feed_lifecycle_from_upload_to_the_gzipped_report(fake, clock):
    client = api(fake)
    doc_id, url = upload(
        fake,
        document(
            message(1, "TENT-2P-GRN", "TENT", 42),
            message(2, "STOVE-TI-01", "CAMPING_STOVE"),
            message(3, "NOPE-1", "TENT", 1),
        ),
    )
    assert doc_id.startswith("amzn1.tortuga.4.na.")
    assert url.startswith("https://tortuga-prod-na.s3-external-1.amazonaws.com/%2FNinetyDays/")
    for part in (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Expires=300",
        "X-Amz-SignedHeaders=content-type%3Bhost",
    ):
        assert part in url
    created = client.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [MARKETPLACE_ID],
            "inputFeedDocumentId": doc_id,
        },
    )
    assert created.status_code == 202
    feed_id = created.json()["feedId"]
    assert len(feed_id) == 11
    assert feed_id.isdigit()

    queued = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    clock.tick(datetime.timedelta(seconds=30))
    running = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    assert fake.quantity("TENT-2P-GRN") == 0
    clock.tick(datetime.timedelta(seconds=31))
    done = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()

    assert queued["processingStatus"] == "IN_QUEUE"
    assert "processingStartTime" not in queued
    assert running["processingStatus"] == "IN_PROGRESS"
    assert set(done) == {
        "feedId", "feedType", "marketplaceIds", "createdTime", "processingStatus", "processingStartTime",
        "processingEndTime", "resultFeedDocumentId",
    }  # fmt: skip
    assert done["processingStatus"] == "DONE"
    assert (done["createdTime"], done["processingEndTime"]) == (
        "2026-03-14T14:40:02.000Z",
        "2026-03-14T14:41:02.000Z",
    )
    assert fake.quantity("TENT-2P-GRN") == 42
    result = client.get(f"/feeds/2021-06-30/documents/{done['resultFeedDocumentId']}").json()
    assert result["compressionAlgorithm"] == "GZIP"
    download = s3(fake).get(result["url"])
    assert download.status_code == 200
    report = json.loads(gzip.decompress(download.content))
    assert report["header"] == {"sellerId": SELLER_ID, "version": "2.0", "feedId": feed_id}
    assert report["summary"] == {
        "errors": 2, "warnings": 0, "messagesProcessed": 3, "messagesAccepted": 1, "messagesInvalid": 2
    }  # fmt: skip
    assert report["issues"][0] == {
        "messageId": 2,
        "sku": "STOVE-TI-01",
        "code": "90220",
        "severity": "ERROR",
        "message": "'[fulfillment_availability]' is required but not supplied.",
    }
    assert report["issues"][1]["sku"] == "NOPE-1"
    assert fake.uploads == 1
    assert [f["feedId"] for f in fake.feeds.values()] == [feed_id]


def test_the_upload_url_refuses_credentials_alterations_other_content_types_and_late_uploads(fake, clock):
    created = api(fake).post("/feeds/2021-06-30/documents", json={"contentType": CONTENT_TYPE}).json()
    url = created["url"]
    client = s3(fake)
    body = document(message(1, "TENT-2P-GRN", "TENT", 1))

    with_auth = client.put(
        url, content=body, headers={"Content-Type": CONTENT_TYPE, "Authorization": "Bearer x"}
    )
    with_token = client.put(
        url, content=body, headers={"Content-Type": CONTENT_TYPE, "x-amz-access-token": "Atza|x"}
    )
    altered = client.put(
        url.replace("X-Amz-Expires=300", "X-Amz-Expires=900"),
        content=body,
        headers={"Content-Type": CONTENT_TYPE},
    )
    other_type = client.put(url, content=body, headers={"Content-Type": "application/json"})
    clock.tick(datetime.timedelta(seconds=301))
    late = client.put(url, content=body, headers={"Content-Type": CONTENT_TYPE})

    for answer in (with_auth, with_token):
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/xml"
        assert "<Code>InvalidArgument</Code>" in answer.text
        assert "Only one auth mechanism allowed" in answer.text
    for answer in (altered, other_type):
        assert answer.status_code == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in answer.text
    assert late.status_code == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in late.text
    assert fake.uploads == 0
    never = api(fake).post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [MARKETPLACE_ID],
            "inputFeedDocumentId": created["feedDocumentId"],
        },
    )
    assert never.status_code == 400
    assert never.json()["errors"][0]["code"] == "InvalidInput"


def test_an_unknown_feed_type_is_invalid_input(fake):
    doc_id, _ = upload(fake, document())
    answer = api(fake).post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "POST_INVENTORY_AVAILABILITY_DATA",
            "marketplaceIds": [MARKETPLACE_ID],
            "inputFeedDocumentId": doc_id,
        },
    )
    assert answer.status_code == 400


@pytest.mark.parametrize("content", [b"not json", None, "fatal_next"])
def test_a_broken_document_or_fatal_next_feed_makes_the_feed_fatal(fake, content):
    if content is None:
        content = document(message(1, "TENT-2P-GRN", "TENT", 9), seller="A1OTHERSELLER")
    if content == "fatal_next":
        fake.fatal_next_feed()
        content = document(message(1, "TENT-2P-GRN", "TENT", 9))
    doc_id, _ = upload(fake, content)
    client = api(fake)
    feed_id = client.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [MARKETPLACE_ID],
            "inputFeedDocumentId": doc_id,
        },
    ).json()["feedId"]

    assert fake.process_feeds() == 1
    feed = client.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()
    result = client.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}").json()
    report = json.loads(gzip.decompress(s3(fake).get(result["url"]).content))

    assert feed["processingStatus"] == "FATAL"
    assert report["summary"]["errors"] == 1
    assert report["issues"][0]["severity"] == "ERROR"
    assert fake.quantity("TENT-2P-GRN") == 0


def test_a_download_with_credentials_is_the_same_400(fake):
    doc_id, _ = upload(fake, document())
    url = api(fake).get(f"/feeds/2021-06-30/documents/{doc_id}").json()["url"]

    answer = s3(fake).get(url, headers={"x-amz-access-token": "Atza|x"})

    assert answer.status_code == 400
    assert "<Code>InvalidArgument</Code>" in answer.text
    assert s3(fake).get(url).content == document()


def test_documents_are_served_under_the_days_url_too(clock):
    fake = FakeAmazon(clock=clock, limits=False, documents_url="http://127.0.0.1:8123/fake/amazon/tortuga")
    doc_id, url = upload(fake, document())

    assert url.startswith("http://127.0.0.1:8123/fake/amazon/tortuga/%2FNinetyDays/")
    assert fake.documents[doc_id]["content"] == document()
