"""The fake HubSpot's webhooks: both signature vectors of the samples, arrays of up to 100 events in
the sample's fields, the app's own writes reported too, and retries with a growing attemptNumber."""

from __future__ import annotations

import datetime
import json

import httpx
import pytest

from integrations.fakes.clock import SimClock
from integrations.hubspot.fake import BASE_URL, PRIVATE_APP_TOKEN, FakeHubSpot
from integrations.hubspot.fake_data import sample, sample_bytes
from integrations.hubspot.fake_webhooks import sign_v1, sign_v3, verify_v3

SAMPLE_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
TARGET = "https://erp.example.com/hooks/hubspot"


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.datetime(2026, 3, 14, 14, 22, 10, tzinfo=datetime.UTC))


@pytest.fixture
def fake(clock: SimClock) -> FakeHubSpot:
    tool = FakeHubSpot(clock=clock, limits=False)
    tool.set_target(TARGET)
    return tool


@pytest.fixture
def api(fake: FakeHubSpot) -> httpx.Client:
    headers = {"Authorization": f"Bearer {PRIVATE_APP_TOKEN}"}
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE_URL, headers=headers)


class Target:
    """The app's endpoint: answers each request with the next status, and keeps what came."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.received.append((url, headers, body))
        return self.statuses.pop(0) if self.statuses else 200


def test_the_known_answer_vector_of_format_md_verifies():
    body = b"{'example_field':'example_value'}"

    signature = sign_v3(SAMPLE_SECRET, "POST", "https://www.example.com/webhook_uri", body, "1693657560000")

    assert signature == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="


def test_the_webhook_headers_sample_verifies_v3_and_v1_for_the_events_samples_bytes():
    headers, body = sample("webhook_headers.json"), sample_bytes("webhook_events.json")
    sent = datetime.datetime.fromtimestamp(int(headers["X-HubSpot-Request-Timestamp"]) / 1000, datetime.UTC)

    v3 = sign_v3(SAMPLE_SECRET, "POST", TARGET, body, headers["X-HubSpot-Request-Timestamp"])

    assert v3 == headers["X-HubSpot-Signature-v3"]
    assert sign_v1(SAMPLE_SECRET, body) == headers["X-HubSpot-Signature"]
    assert verify_v3(SAMPLE_SECRET, "POST", TARGET, headers, body, sent + datetime.timedelta(minutes=4))
    assert not verify_v3(SAMPLE_SECRET, "POST", TARGET, headers, body, sent + datetime.timedelta(minutes=6))
    assert not verify_v3(SAMPLE_SECRET, "POST", TARGET, headers, body.replace(b"phone", b"email"), sent)


def test_writes_and_edits_arrive_as_one_signed_array_in_the_samples_fields(api, fake, clock):
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "jane@example.com"}}).json()[
        "id"
    ]
    fake.rep_edits("contacts", contact, phone="+15025550142")
    target = Target()

    fake.deliver_webhooks(target)

    [(url, headers, body)] = target.received
    events = json.loads(body)
    assert [(e["subscriptionType"], e["changeSource"]) for e in events] == [
        ("contact.creation", "INTEGRATION"),
        ("contact.propertyChange", "INTEGRATION"),  # the email it was created with
        ("contact.propertyChange", "CRM_UI"),
    ]
    samples = {e["subscriptionType"]: e for e in sample("webhook_events.json")}
    for event in (events[0], events[2]):
        assert list(event) == list(samples[event["subscriptionType"]])
    assert (events[0]["sourceId"], events[2]["sourceId"]) == (str(fake.app_id), "userId:45678")
    assert (events[2]["objectId"], events[2]["propertyName"], events[2]["propertyValue"]) == (
        int(contact),
        "phone",
        "+15025550142",
    )
    assert {e["portalId"] for e in events} == {fake.portal_id}
    assert verify_v3(fake.client_secret, "POST", url, headers, body, clock())
    assert headers["X-HubSpot-Signature"] == sign_v1(fake.client_secret, body)


def test_an_unchanged_value_and_an_unsubscribed_property_send_nothing(api, fake):
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "a@example.com"}}).json()[
        "id"
    ]
    fake.take_events()

    fake.rep_edits("contacts", contact, email="a@example.com", jobtitle="Buyer")

    assert fake.take_events() == []


def test_a_request_carries_at_most_100_events(api, fake):
    inputs = [{"idProperty": "email", "id": f"c{n}@example.com", "properties": {}} for n in range(60)]
    api.post("/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs})  # 60 creations, 60 emails
    target = Target()

    fake.deliver_webhooks(target)

    assert [len(json.loads(body)) for _, _, body in target.received] == [100, 20]


def test_a_failed_request_is_retried_with_the_attempt_number_and_signed_anew(api, fake, clock):
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "a@example.com"}}).json()[
        "id"
    ]
    fake.take_events()
    fake.rep_edits("contacts", contact, phone="1")
    target = Target(500, 503)

    fake.deliver_webhooks(target)
    fake.deliver_webhooks(target)  # not due yet: nothing sent
    clock.tick(datetime.timedelta(minutes=1))
    fake.deliver_webhooks(target)
    clock.tick(datetime.timedelta(minutes=5))
    fake.deliver_webhooks(target)
    fake.deliver_webhooks(target)

    assert [json.loads(body)[0]["attemptNumber"] for _, _, body in target.received] == [0, 1, 2]
    assert len({json.loads(body)[0]["eventId"] for _, _, body in target.received}) == 1
    stamps = [int(headers["X-HubSpot-Request-Timestamp"]) for _, headers, _ in target.received]
    assert stamps == sorted(set(stamps))  # each attempt signed when it is sent
    for (url, headers, body), stamp in zip(target.received, stamps, strict=True):
        sent = datetime.datetime.fromtimestamp(stamp / 1000, datetime.UTC)
        assert verify_v3(fake.client_secret, "POST", url, headers, body, sent)
    assert [d.state for d in fake.outbox] == ["delivered"]


def test_hubspot_gives_up_after_ten_retries_and_keeps_sending_new_events(api, fake, clock):
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "a@example.com"}}).json()[
        "id"
    ]
    fake.take_events()
    fake.rep_edits("contacts", contact, phone="1")
    down = Target(*([500] * 11))

    for _ in range(12):
        fake.deliver_webhooks(down)
        clock.tick(datetime.timedelta(hours=8))
    fake.rep_edits("contacts", contact, phone="2")
    fake.deliver_webhooks(down)

    assert [json.loads(body)[0]["attemptNumber"] for _, _, body in down.received] == [*range(11), 0]
    assert [d.state for d in fake.outbox] == ["failed", "delivered"]
