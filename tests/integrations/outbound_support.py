"""A tiny connector and a fake of its tool, for the tests of the hub's HTTP client and outbound path.

The fake speaks HTTP through ``httpx.MockTransport``: bearer tokens it can expire and
refresh, a call-limit header, and a script of canned answers (429, 5xx, 401, ...)
served before its normal routes. Test modules import the fixtures
(``tiny_fixture``, ``fake_fixture``) to use them.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest
from django.utils import timezone
from pydantic import BaseModel

from integrations import http, registry
from integrations.contract import (
    Capability,
    Connector,
    InboundItem,
    PushContext,
    PushResult,
    RateLimitHint,
    TokenGrant,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.models import Connection, ExternalRef
from integrations.records import FulfilmentOut, InventoryOut, OutboundItem
from tests.integrations.factories import ConnectionFactory, ExternalRefFactory

BASE = "https://tiny.test"


class TinySettings(BaseModel):
    base_url: str = BASE


class TinySecrets(BaseModel):
    access_token: str
    refresh_token: str = ""


class TinyConnector(Connector):
    key = "tiny-outbound"
    name = "Tiny"
    capabilities = frozenset({Capability.INVENTORY_OUT, Capability.FULFILMENT_OUT})
    settings_schema = TinySettings
    secrets_schema = TinySecrets
    topics = ("inventory.level_changed", "sales.shipment_shipped", "sales.shipment_updated")
    rate_limit_per_second = 1000.0
    rate_limit_burst = 1000
    secret_header_names = frozenset({"x-tiny-session"})

    def base_url(self) -> str:
        return str(self.settings.base_url)

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets['access_token']}"}

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        if not secrets.get("refresh_token"):
            return None
        body = self.http.request(
            "POST", "/oauth/token", json={"refresh_token": secrets["refresh_token"]}
        ).json()
        return TokenGrant(
            secrets={"access_token": body["access_token"]},
            expires_at=timezone.now() + datetime.timedelta(hours=1),
        )

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        used, _, limit = response.headers.get("x-tiny-calls", "").partition("/")
        if not used or not limit:
            return None
        near_full = int(used) >= int(limit) - 1
        return RateLimitHint(wait_seconds=1.0 if near_full else 0.0, used=int(used), limit=int(limit))

    def verify_webhook(self, request: WebhookRequest) -> bool:
        return False

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        raise ValueError("Tiny sends no webhooks.")

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        raise ValueError("Tiny sends no webhooks.")

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, InventoryOut):
            self.http.request(
                "POST",
                "/inventory",
                json={
                    "variant": item.external_id,
                    "available": item.available,
                    "previous": item.previous,
                    **dict(item.extra),
                },
                headers={"Idempotency-Key": context.idempotency_key, "X-Attempt": str(context.attempt)},
            )
            return PushResult(detail=f"{item.sku} = {item.available}")
        if isinstance(item, FulfilmentOut) and item.external_id:  # new tracking of one it has
            self.http.request(
                "PUT",
                f"/orders/{item.order_external_id}/fulfilments/{item.external_id}",
                json={"carrier": item.carrier, "tracking_number": item.tracking_number},
            )
            return PushResult(external_id=item.external_id)
        if isinstance(item, FulfilmentOut):
            answer = self.http.request(
                "POST",
                f"/orders/{item.order_external_id}/fulfilments",
                json={
                    "lines": [[line.external_line_id, line.quantity] for line in item.lines],
                    "carrier": item.carrier,
                    "tracking_number": item.tracking_number,
                },
            )
            return PushResult(external_id=str(answer.json()["id"]))
        raise NotImplementedError(type(item).__name__)

    def test(self) -> str:
        return str(self.http.request("GET", "/shop").json()["name"])


Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeTiny:
    """The tool: inventory levels, fulfilments, a token endpoint, and scripted answers served first."""

    def __init__(self) -> None:
        self.tokens = {"tok-1"}
        self.refreshes = 0
        self.levels: dict[str, int] = {}
        self.pushes: list[dict[str, Any]] = []
        self.fulfilments: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.script: list[Answer] = []
        self.lock = threading.Lock()
        self.transport = httpx.MockTransport(self.handle)

    def then(self, *answers: Answer) -> FakeTiny:
        self.script.extend(answers)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            if request.url.path == "/oauth/token":
                self.refreshes += 1
                token = f"tok-{self.refreshes + 1}"
                self.tokens = {token}
                return httpx.Response(200, json={"access_token": token})
            scripted = self.script.pop(0) if self.script else None
        if scripted is not None:
            return scripted(request) if callable(scripted) else scripted
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return httpx.Response(401, json={"errors": "Invalid API key or access token"})
        body = json.loads(request.content or b"null")
        path = request.url.path
        if path == "/inventory":
            with self.lock:
                self.pushes.append(body)
                self.levels[body["variant"]] = body["available"]
            return httpx.Response(200, json={"level": body}, headers={"x-tiny-calls": "1/40"})
        if path.startswith("/orders/") and "/fulfilments/" in path and request.method == "PUT":
            number = int(path.rsplit("/", 1)[1]) - 9000
            with self.lock:
                if not 0 < number <= len(self.fulfilments):
                    return httpx.Response(404, json={"errors": "Not Found"})
                self.fulfilments[number - 1].update(body)
            return httpx.Response(200, json={"id": 9000 + number})
        if path.startswith("/orders/") and path.endswith("/fulfilments"):
            with self.lock:
                self.fulfilments.append({"order": path.split("/")[2], **body})
                number = len(self.fulfilments)
            return httpx.Response(201, json={"id": 9000 + number})
        if path == "/shop":
            return httpx.Response(200, json={"name": "Tiny shop"})
        return httpx.Response(404, json={"errors": "Not Found"})


@pytest.fixture(name="tiny")
def tiny_fixture() -> Iterator[type[TinyConnector]]:
    registry.register(TinyConnector)
    yield TinyConnector
    registry.unregister(TinyConnector.key)


@pytest.fixture(name="fake")
def fake_fixture() -> Iterator[FakeTiny]:
    tool = FakeTiny()
    with http.mounted(BASE, tool.transport):
        yield tool


def make_connection(
    name: str = "Tiny store", *, secrets: dict[str, Any] | None = None, **fields: Any
) -> Connection:
    return ConnectionFactory.create(
        connector=TinyConnector.key,
        name=name,
        settings={"base_url": BASE},
        secrets=secrets or {"access_token": "tok-1", "refresh_token": "refresh-1"},
        **fields,
    )


def map_variant(connection: Connection, product: Any, external_id: str, **extra: Any) -> ExternalRef:
    return ExternalRefFactory.create(
        connection=connection, external_id=external_id, internal=product, extra=extra
    )


def run_due_deliveries(capture: Any, rounds: int = 1) -> None:
    """Attempt every open delivery now, as the beat would once their wait (a backoff, a coalescing
    window) is over; ``rounds`` more than one for deliveries released by another's success."""
    from integrations import outbound
    from integrations.models import Delivery, DeliveryStatus

    for _ in range(rounds):
        Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]).update(
            next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        with capture(execute=True):
            outbound.deliveries_enqueue_due()
