"""Helpers of the fake QuickBooks' tests: a fake on a simulated clock and an API client."""

from __future__ import annotations

import datetime
from typing import Any

import httpx

from integrations.fakes.clock import SimClock
from integrations.quickbooks.fake import ACCESS_TOKEN, BASE_URL, REALM_ID, FakeQuickBooks
from integrations.quickbooks.fake_data import sample

# 07:25:13 in Louisville's books (the samples' MetaData times are Pacific: -07:00 on this day).
START = datetime.datetime(2026, 3, 14, 14, 25, 13, tzinfo=datetime.UTC)


def make(**options: Any) -> tuple[FakeQuickBooks, SimClock]:
    clock = SimClock(START)
    return FakeQuickBooks(clock=clock, **options), clock


def client(fake: FakeQuickBooks, token: str = ACCESS_TOKEN, realm: str = REALM_ID) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(fake.handle),
        base_url=f"{BASE_URL}/company/{realm}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        params={"minorversion": "75"},
    )


def without(obj: Any, *keys: str) -> Any:
    """A copy without ``keys`` (ids and times the fake picks itself)."""
    return {k: v for k, v in obj.items() if k not in keys}


def seeded_sale(fake: FakeQuickBooks) -> dict[str, Any]:
    """The samples' customer (58), items (31, 32) and invoice (1207), through the API."""
    api = client(fake)
    assert api.post("/customer", json=sample("customer_create_request.json")).status_code == 200
    item = sample("item_inventory_create_request.json")
    assert api.post("/item", json=item).status_code == 200
    bag = {**item, "Name": "Down Sleeping Bag 20F Regular", "Sku": "SLBAG-20F-REG", "UnitPrice": 179.0}
    assert api.post("/item", json=bag).status_code == 200
    answer = api.post("/invoice", json=sample("invoice_create_request.json"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["Invoice"])


def fault_code(answer: httpx.Response) -> str:
    return str(answer.json()["Fault"]["Error"][0]["code"])
