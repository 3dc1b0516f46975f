"""What the fake Shopify's tests share: a controllable clock, a receiver of its webhooks and a REST
client on the fake (the fixtures are in fakeshop/conftest.py)."""

from __future__ import annotations

import datetime
import json

import httpx

from integrations.shopify.fake import (
    ACCESS_TOKEN,
    SHOP_DOMAIN,
    FakeShopify,
)

HOOK = "https://hub.example/integrations/hooks/1/"
OTHER_HOOK = "https://other.example/hooks/shopify"
START = datetime.datetime(2026, 5, 4, 14, 0, tzinfo=datetime.UTC)
EVERYTHING = [("TENT-2P-GRN", 1), ("SLBAG-20F-REG", 2), ("STOVE-TI-01", 1)]
TENT_ITEM, BAG_ITEM = 46012345678901, 46012345678902


class Clock:
    def __init__(self, start: datetime.datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime.datetime:
        return self.now

    def tick(self, **delta: float) -> datetime.datetime:
        self.now += datetime.timedelta(**delta)
        return self.now


class Receiver:
    """A webhook endpoint for ``deliver_webhooks``: answers the given statuses (or raises), then 200."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.calls.append((url, headers, body))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def topics(self) -> list[str]:
        return [headers["X-Shopify-Topic"] for _, headers, _ in self.calls]

    def bodies(self, topic: str) -> list[dict]:
        return [json.loads(body) for _, headers, body in self.calls if headers["X-Shopify-Topic"] == topic]


def rest(fake: FakeShopify, version: str = "2025-07") -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(fake.handle),
        headers={"X-Shopify-Access-Token": ACCESS_TOKEN},
        base_url=f"https://{SHOP_DOMAIN}/admin/api/{version}",
    )


def subscribe(fake: FakeShopify, *topics: str, address: str = HOOK, **extra) -> list[int]:
    ids = []
    for topic in topics:
        answer = rest(fake).post(
            "/webhooks.json", json={"webhook": {"topic": topic, "address": address, **extra}}
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["webhook"]["id"])
    return ids


def line_ids(order: dict) -> dict[str, int]:
    return {li["sku"]: li["id"] for li in order["line_items"]}
