"""Safety of the hub's edges: credentials reach only a connector's declared hosts; a stored webhook
keeps only the headers its connector reads (a tool's custom auth header or a cookie is never written
to the database); a record type the hub cannot apply waits for a person instead of being dropped."""

from __future__ import annotations

import httpx
import pytest

from integrations import registry
from integrations.contract import WebhookRequest
from integrations.errors import UndeclaredHost
from integrations.http import HubHttp, mounted
from integrations.inbound import webhook_receive
from integrations.models import RequestLog
from integrations.shopify.fake import sample_webhook
from tests.integrations.shopify.scenario import shopify_connection, stocked_store


@pytest.fixture
def connection(db):
    return shopify_connection(stocked_store())


def test_a_request_to_a_host_the_connector_does_not_declare_is_never_sent(connection):
    seen: list[httpx.Request] = []
    http = HubHttp(connection, registry.get("shopify"))
    assert http.connector.hosts() == {"acme-outdoors.myshopify.com"}
    trap = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))

    with (
        mounted("https://attacker.example", trap),
        pytest.raises(UndeclaredHost, match=r"attacker\.example is not a host of Shopify"),
    ):
        http.request("GET", "https://attacker.example/admin/api/2025-07/orders.json")

    assert seen == []  # the access token went nowhere
    assert not RequestLog.objects.exists()


def test_a_stored_webhook_keeps_the_tools_headers_and_drops_the_rest(connection):
    headers, body = sample_webhook()
    headers = {
        **headers,
        "Cookie": "session=s3cr3t",
        "X-Custom-Auth": "token-abc",
        "Authorization": "Bearer x",
    }

    [(event, created)] = webhook_receive(connection=connection, request=WebhookRequest.of(headers, body))

    assert created
    kept = {k.lower() for k in event.headers}
    assert {"x-shopify-topic", "x-shopify-webhook-id", "x-shopify-shop-domain", "content-type"} <= kept
    assert not kept & {"cookie", "x-custom-auth", "authorization"}
    assert "token-abc" not in str(event.headers)
    assert "s3cr3t" not in str(event.headers)
    # and what is kept is enough to process (and replay) the event
    assert registry.connector_for(connection).parse_webhook(event.topic, httpx.Headers(event.headers), body)


def test_a_record_type_the_hub_cannot_apply_is_quarantined_for_a_person_never_skipped(connection):
    from integrations import appliers
    from integrations.contract import InboundItem
    from integrations.errors import MissingDependency
    from integrations.models import SyncRun

    run = SyncRun.objects.create(connection=connection, job="webhook")

    with pytest.raises(MissingDependency) as raised:
        appliers.apply(connection, InboundItem("refund", "R-1"), run)

    assert (raised.value.kind, raised.value.value) == ("record type", "refund")
    assert "no applier for 'refund' records (R-1)" in str(raised.value)
