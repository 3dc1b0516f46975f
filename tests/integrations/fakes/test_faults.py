"""FaultPlan: each kind of fault, matching by operation, counts and order."""

from __future__ import annotations

import pytest

from integrations.fakes.faults import Fault, FaultPlan


def test_nothing_planned_means_no_fault():
    assert FaultPlan().take("GET /orders") is None


def test_a_throttle_covers_exactly_count_requests_then_stops():
    plan = FaultPlan()
    plan.throttle_next(2, retry_after=7.5)

    taken = [plan.take("GET /orders") for _ in range(3)]

    assert [f.kind if f else None for f in taken] == ["throttle", "throttle", None]
    assert taken[0] == Fault("throttle", status=429, retry_after=7.5)


def test_a_failure_carries_its_status_and_body():
    plan = FaultPlan()
    plan.fail_next(1, status=502, body={"oops": True})

    fault = plan.take("POST /orders")

    assert fault is not None
    assert (fault.kind, fault.status, fault.body) == ("fail", 502, {"oops": True})
    assert plan.take("POST /orders") is None


def test_timeouts_and_slow_answers_carry_their_seconds():
    plan = FaultPlan()
    plan.timeout_next(1, seconds=12.0)
    plan.timeout_next(1, processed=True)
    plan.slow_next(1, seconds=3.0)

    timeout, lost, slow = plan.take("a"), plan.take("b"), plan.take("c")

    assert (timeout.kind, timeout.seconds, timeout.processed) == ("timeout", 12.0, False)
    assert (lost.kind, lost.processed) == ("timeout", True)
    assert (slow.kind, slow.seconds) == ("slow", 3.0)


def test_match_is_a_substring_of_the_operation_and_others_pass_untouched():
    plan = FaultPlan()
    plan.fail_next(1, status=500, match="inventory_levels")

    other = plan.take("orders.json")
    hit = plan.take("inventory_levels/set.json")
    again = plan.take("inventory_levels/set.json")

    assert other is None
    assert hit is not None
    assert hit.status == 500
    assert again is None


def test_entries_are_taken_in_the_order_they_were_planned():
    plan = FaultPlan()
    plan.fail_next(2, status=503)
    plan.throttle_next(1)

    kinds = [plan.take("x") for _ in range(4)]

    assert [(f.kind, f.status) if f else None for f in kinds] == [
        ("fail", 503),
        ("fail", 503),
        ("throttle", 429),
        None,
    ]


def test_a_matching_entry_further_down_serves_requests_the_first_does_not_match():
    plan = FaultPlan()
    plan.fail_next(1, status=500, match="refunds")
    plan.throttle_next(1, match="orders")

    first = plan.take("orders.json")
    second = plan.take("orders/1/refunds.json")

    assert first.kind == "throttle"
    assert second.kind == "fail"
    assert plan.pending == 0


def test_clear_forgets_everything_and_pending_counts_what_is_left():
    plan = FaultPlan()
    plan.fail_next(3)
    plan.slow_next(2)
    assert plan.pending == 5
    plan.take("x")
    assert plan.pending == 4

    plan.clear()

    assert plan.pending == 0
    assert plan.take("x") is None


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        FaultPlan().fail_next(-1)
