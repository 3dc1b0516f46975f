"""HubSpot's v3 webhook signature: the known-answer vectors verify (FORMAT.md's, and the real one
over the sample delivery, each checked at the moment it was signed), while a delivery signed more
than five minutes before it arrived, a forged one and a tampered body are refused. The URI is
signed as HubSpot signs it, with the escapes it decodes decoded."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from integrations.contract import WebhookRequest
from integrations.hubspot.auth import signature_v3, signed_uri, verify_v3
from integrations.hubspot.connector import HubSpotConnector
from tests.integrations.hubspot.test_connector import SAMPLES, Api, connect, sample, serving

pytestmark = pytest.mark.django_db

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
HOOK_URL = "https://erp.example.com/hooks/hubspot"  # where webhook_headers.json's delivery was sent


def at(millis: str, delta: datetime.timedelta = datetime.timedelta(0)) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(millis) / 1000, tz=datetime.UTC) + delta


@pytest.fixture
def api() -> Iterator[Api]:
    with serving() as tool:
        yield tool


@pytest.fixture
def connector(api: Api) -> HubSpotConnector:
    return connect(secrets={"access_token": "t", "client_secret": SECRET})


def sample_delivery(
    delta: datetime.timedelta = datetime.timedelta(0), body: bytes | None = None
) -> WebhookRequest:
    headers = {k: v for k, v in sample("webhook_headers.json").items() if not k.startswith("_")}
    return WebhookRequest.of(
        headers,
        body if body is not None else (SAMPLES / "webhook_events.json").read_bytes(),
        url=HOOK_URL,
        received_at=at(headers["X-HubSpot-Request-Timestamp"], delta),
    )


def test_the_format_notes_known_answer_vector():
    timestamp = "1693657560000"
    body = b"{'example_field':'example_value'}"

    signed = signature_v3(SECRET, "POST", "https://www.example.com/webhook_uri", body, timestamp)

    assert signed == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    assert verify_v3(
        SECRET,
        method="POST",
        url="https://www.example.com/webhook_uri",
        body=body,
        timestamp=timestamp,
        signature=signed,
        received_at=at(timestamp, datetime.timedelta(minutes=4)),
    )


def test_the_sample_delivery_verifies_when_it_arrives(connector):
    assert connector.verify_webhook(sample_delivery())
    assert connector.verify_webhook(sample_delivery(datetime.timedelta(minutes=4, seconds=59)))


def test_a_delivery_signed_more_than_five_minutes_before_is_refused(connector):
    assert not connector.verify_webhook(sample_delivery(datetime.timedelta(minutes=5, seconds=1)))
    assert not connector.verify_webhook(sample_delivery(-datetime.timedelta(minutes=6)))


def test_a_forged_or_tampered_delivery_is_refused(api):
    body = (SAMPLES / "webhook_events.json").read_bytes()
    forger = connect(secrets={"access_token": "t", "client_secret": "not-the-apps-secret"}, name="Forger")
    honest = connect(secrets={"access_token": "t", "client_secret": SECRET})

    assert not forger.verify_webhook(sample_delivery())
    assert not honest.verify_webhook(sample_delivery(body=body.replace(b"+15025550142", b"+15025550143")))


def test_the_legacy_signature_alone_is_not_enough(connector):
    legacy = sample_delivery()
    headers = {k: v for k, v in legacy.headers.items() if k.lower() != "x-hubspot-signature-v3"}

    assert not connector.verify_webhook(
        WebhookRequest.of(headers, legacy.body, url=legacy.url, received_at=legacy.received_at)
    )


def test_the_uri_is_signed_with_the_escapes_hubspot_decodes_decoded():
    called = "https://erp.example.com/integrations/hooks/app/hubspot/?portal=33%3A1&name=a%20b%2Fc"
    timestamp = "1693657560000"
    as_hubspot_signs = "https://erp.example.com/integrations/hooks/app/hubspot/?portal=33:1&name=a%20b/c"

    assert signed_uri(called) == as_hubspot_signs
    assert signature_v3(SECRET, "POST", called, b"[]", timestamp) == signature_v3(
        SECRET, "POST", as_hubspot_signs, b"[]", timestamp
    )
