"""Fixtures of the fake Shopify's own tests: a fake on a controllable clock, and one paid order."""

from __future__ import annotations

import pytest

from integrations.shopify.fake import FakeShopify
from tests.integrations.shopify.fakeshop.support import EVERYTHING, Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    return FakeShopify(clock=clock)


@pytest.fixture
def order(fake, clock):
    """A paid order of a tent, two sleeping bags and a stove, placed at START."""
    placed = fake.create_order(EVERYTHING)
    clock.tick(minutes=5)
    return placed
