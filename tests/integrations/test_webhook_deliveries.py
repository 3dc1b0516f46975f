"""Webhook deliveries as the tools really send them (Hub v2, inbound):

* verification sees the whole request: a HubSpot-v3-style signature over method, URL, body and
  a timestamp, refused outside five minutes of when the delivery arrived;
* one delivery may carry many events: each is stored and de-duplicated on its own id;
* a tool that sends every account's events to one address posts to
  /integrations/hooks/app/<connector>/, and each event goes to the connection of its account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from django.urls import reverse
from pydantic import BaseModel

from integrations import registry
from integrations.connections import connection_create
from integrations.contract import Capability, Connector, InboundItem, WebhookEnvelope, WebhookRequest
from integrations.models import Connection, InboundEvent

SECRET = "batch-app-secret"
HOST = "testserver"


class BatchSettings(BaseModel):
    portal_id: str
    base_url: str = "https://api.batch.test"


class BatchSecrets(BaseModel):
    client_secret: str


class BatchConnector(Connector):
    """A CRM that batches events, HubSpot style: one app address, an array of events, each naming
    its portal; X-Batch-Signature-V3 = base64(HMAC-SHA256(app secret, method + URI + body + timestamp))."""

    key = "batch"
    name = "Batch CRM (test tool)"
    capabilities = frozenset({Capability.CUSTOMERS_OUT})
    settings_schema = BatchSettings
    secrets_schema = BatchSecrets
    app_webhooks: ClassVar[bool] = True
    webhook_headers = frozenset({"x-batch-signature-v3", "x-batch-request-timestamp"})

    settings: BatchSettings

    def base_url(self) -> str:
        return self.settings.base_url

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {}

    def verify_webhook(self, request: WebhookRequest) -> bool:
        secret = str(self.connection.get_secrets().get("client_secret") or "")
        stamp = request.headers.get("X-Batch-Request-Timestamp", "")
        given = request.headers.get("X-Batch-Signature-V3", "")
        if not (secret and stamp.isdigit() and given):
            return False
        if abs(request.received_at.timestamp() * 1000 - int(stamp)) > 5 * 60 * 1000:
            return False
        expected = batch_signature(secret, request.method, request.url, request.body, stamp)
        return hmac.compare_digest(expected, given)

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        events = json.loads(request.body)
        if not isinstance(events, list):
            raise ValueError("a Batch delivery is a JSON array of events")
        return [
            WebhookEnvelope(
                event_id=str(event["eventId"]),
                topic=str(event["subscriptionType"]),
                account=str(event["portalId"]),
                body=json.dumps(event, separators=(",", ":")).encode(),
            )
            for event in events
        ]

    def account_id(self) -> str:
        return self.settings.portal_id

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        return [InboundItem("contact", str(json.loads(body)["objectId"]))]

    def test(self) -> str:
        return "Batch CRM"


def batch_signature(secret: str, method: str, url: str, body: bytes, stamp: str) -> str:
    message = method.encode() + url.encode() + body + stamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def event(event_id: int, portal: str, object_id: int = 7) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "subscriptionType": "contact.propertyChange",
        "portalId": int(portal),
        "objectId": object_id,
        "occurredAt": 1764900000000,
    }


def post(
    client,
    path: str,
    events: list[dict[str, Any]],
    *,
    age_seconds: float = 0,
    sign: dict[str, str] | None = None,
):
    """POST a delivery signed over the URL it is posted to (``sign`` overrides what is signed)."""
    body = json.dumps(events).encode()
    stamp = str(int((time.time() - age_seconds) * 1000))
    sign = sign or {}
    url = f"http://{HOST}{path}"
    signature = batch_signature(
        sign.get("secret", SECRET), sign.get("method", "POST"), sign.get("url", url), body, stamp
    )
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={"X-Batch-Signature-V3": signature, "X-Batch-Request-Timestamp": stamp},
    )


@pytest.fixture
def batch(db) -> Iterator[None]:
    registry.register(BatchConnector)
    yield
    registry.unregister(BatchConnector.key)


def batch_connection(portal: str) -> Connection:
    return connection_create(
        connector="batch",
        name=f"CRM portal {portal}",
        settings={"portal_id": portal},
        secrets={"client_secret": SECRET},
    )


def stored(connection: Connection) -> list[str]:
    return sorted(InboundEvent.objects.filter(connection=connection).values_list("external_id", flat=True))


def test_a_batch_is_split_into_events_each_deduplicated_on_its_own_id(client, batch):
    crm = batch_connection("111")
    path = reverse("integrations:hook", args=[crm.pk])

    first = post(client, path, [event(1, "111"), event(2, "111"), event(3, "111")])

    assert first.status_code == 200, first.content
    assert (first.json()["received"], first.json()["duplicates"]) == (3, 0)
    assert stored(crm) == ["1", "2", "3"]
    one = InboundEvent.objects.get(external_id="2")
    assert json.loads(bytes(one.body))["eventId"] == 2  # each event keeps its own bytes

    # the tool redelivers the batch with one more event
    again = post(client, path, [event(1, "111"), event(2, "111"), event(3, "111"), event(4, "111")])

    assert (again.json()["received"], again.json()["duplicates"]) == (1, 3)
    assert stored(crm) == ["1", "2", "3", "4"]


def test_the_signature_covers_method_url_and_a_five_minute_window(client, batch):
    crm = batch_connection("111")
    path = reverse("integrations:hook", args=[crm.pk])

    moved = post(client, path, [event(1, "111")], sign={"url": f"http://{HOST}{path}?other=1"})
    stale = post(client, path, [event(2, "111")], age_seconds=6 * 60)
    forged = post(client, path, [event(3, "111")], sign={"secret": "not-the-secret"})
    fresh = post(client, path, [event(4, "111")], age_seconds=4 * 60)

    assert (moved.status_code, stale.status_code, forged.status_code) == (401, 401, 401)
    assert fresh.status_code == 200
    assert stored(crm) == ["4"]


def test_an_event_for_another_account_at_a_connections_address_stores_nothing(client, batch):
    crm = batch_connection("111")

    response = post(client, reverse("integrations:hook", args=[crm.pk]), [event(1, "111"), event(2, "222")])

    assert response.status_code == 401
    assert "for 222, not for CRM portal 111" in response.json()["detail"]
    assert not InboundEvent.objects.exists()


def test_the_app_address_routes_each_event_to_the_connection_of_its_account(client, batch):
    north, south = batch_connection("111"), batch_connection("222")
    path = reverse("integrations:hook-app", args=["batch"])

    response = post(client, path, [event(1, "111"), event(2, "222"), event(3, "333"), event(4, "222")])

    assert response.status_code == 200, response.content
    assert response.json()["unrouted"] == ["333"]
    assert response.json()["received"] == 3
    assert (stored(north), stored(south)) == (["1"], ["2", "4"])


def test_the_app_address_refuses_a_bad_signature_and_tools_without_one(client, batch):
    batch_connection("111")

    forged = post(
        client, reverse("integrations:hook-app", args=["batch"]), [event(1, "111")], sign={"secret": "x"}
    )
    shopify = client.post(
        reverse("integrations:hook-app", args=["shopify"]), data=b"{}", content_type="application/json"
    )
    unknown = client.post(
        reverse("integrations:hook-app", args=["nope"]), data=b"{}", content_type="application/json"
    )

    assert forged.status_code == 401
    assert (shopify.status_code, unknown.status_code) == (404, 404)
    assert "sends its webhooks to each connection's own address" in shopify.json()["detail"]
    assert not InboundEvent.objects.exists()
