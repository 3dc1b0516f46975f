"""The three buckets: Shopify's leaky bucket, Amazon's token bucket, ShipStation's fixed window."""

from __future__ import annotations

import pytest

from integrations.fakes.ratelimit import FixedWindow, LeakyBucket, TokenBucket


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_leaky_bucket_fills_refuses_then_leaks():
    ticks = Ticks()
    bucket = LeakyBucket(4, 2.0, ticks)

    admitted = [bucket.take() for _ in range(4)]
    refused = bucket.take()
    used_when_full = bucket.used
    ticks.now += 0.5  # one request leaks out
    after = bucket.take()

    assert admitted == [0.0, 0.0, 0.0, 0.0]
    assert refused == pytest.approx(0.5)
    assert used_when_full == 4
    assert after == 0.0
    assert bucket.used == 4


def test_a_leaky_bucket_never_leaks_below_empty_and_can_be_filled():
    ticks = Ticks()
    bucket = LeakyBucket(40, 2.0, ticks)
    bucket.take()
    ticks.now += 100
    assert bucket.leak() == 0.0

    bucket.level = 39.0
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(0.5)
    assert bucket.used == 40

    bucket.reset()
    assert bucket.used == 0


def test_a_token_bucket_spends_its_burst_then_restores_at_its_rate():
    ticks = Ticks()
    bucket = TokenBucket(rate=0.5, burst=2, monotonic=ticks)  # Amazon getOrders: 0.0167/s, burst 20

    first, second, third = bucket.take(), bucket.take(), bucket.take()
    ticks.now += 1.0
    still = bucket.take()
    ticks.now += 1.0
    restored = bucket.take()

    assert (first, second) == (0.0, 0.0)
    assert third == pytest.approx(2.0)
    assert still == pytest.approx(1.0)
    assert restored == 0.0


def test_a_token_bucket_charges_a_cost_and_caps_at_its_burst():
    ticks = Ticks()
    bucket = TokenBucket(rate=100, burst=1000, monotonic=ticks)  # Shopify GraphQL points

    assert bucket.take(10) == 0.0
    assert bucket.available == pytest.approx(990)
    ticks.now += 60
    assert bucket.available == pytest.approx(1000)
    assert bucket.take(1001) == pytest.approx(0.01)


def test_a_fixed_window_counts_remaining_and_the_seconds_to_reset():
    ticks = Ticks()
    window = FixedWindow(limit=3, window_seconds=60, monotonic=ticks)

    assert (window.remaining, window.reset_in) == (3, 60)
    window.take()
    ticks.now += 10.2
    window.take()
    window.take()
    remaining, reset_in = window.remaining, window.reset_in
    refused = window.take()

    assert (remaining, reset_in) == (0, 50)
    assert refused == pytest.approx(49.8)


def test_a_fixed_window_opens_afresh_after_it_closes():
    ticks = Ticks()
    window = FixedWindow(limit=2, window_seconds=60, monotonic=ticks)
    window.take()
    window.take()
    assert window.take() > 0

    ticks.now += 60
    assert window.remaining == 2
    assert window.take() == 0.0
    assert window.remaining == 1
    assert window.reset_in == 60


@pytest.mark.parametrize(
    "make", [lambda: LeakyBucket(0, 1), lambda: TokenBucket(0, 1), lambda: FixedWindow(1, 0)]
)
def test_buckets_refuse_nonsense_sizes(make):
    with pytest.raises(ValueError, match="must be positive"):
        make()
