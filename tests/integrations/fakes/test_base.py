"""FakeTool through httpx.MockTransport and through WSGI: answers, faults, the log, the snapshot."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
from werkzeug.test import Client

from integrations.fakes.base import Answer, FakeTool, Incoming, LoggedRequest, json_answer
from integrations.fakes.clock import SimClock, WallClock
from integrations.fakes.faults import Fault

START = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)
BASE = "https://counter.test"


class Counter(FakeTool):
    """A tool that counts: ``POST /count`` adds one, ``GET /count`` reads it."""

    tool = "counter"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = 0

    def serve(self, request: Incoming) -> Answer:
        if request.path.endswith("/count") and request.method == "POST":  # under any prefix
            self.count += int((request.json() or {}).get("by", 1))
            return json_answer(201, {"count": self.count})
        if request.path.endswith("/count"):
            return json_answer(200, {"count": self.count, "q": request.params.get("q")})
        return json_answer(404, {"error": "no such thing"})

    def snapshot(self) -> dict[str, Any]:
        return {"tool": self.tool, "at": self.clock().isoformat(), "count": self.count}


class Picky(Counter):
    """A tool with its own 429 and 5xx bodies and headers."""

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        return json_answer(429, {"code": "QuotaExceeded"}, {"x-amzn-RateLimit-Limit": "0.0167"})

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        return json_answer(fault.status, {"errors": [{"code": "InternalFailure"}]})


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def tool(clock) -> Counter:
    return Counter(clock=clock)


def http(fake: FakeTool) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(fake.handle), base_url=BASE)


def test_the_tool_answers_through_mock_transport_and_logs_each_request(tool):
    created = http(tool).post("/count", json={"by": 3})
    read = http(tool).get("/count", params={"q": "x y"})

    assert (created.status_code, created.json()) == (201, {"count": 3})
    assert read.json() == {"count": 3, "q": "x y"}
    assert [(r.method, r.operation, r.status) for r in tool.requests] == [
        ("POST", "POST /count", 201),
        ("GET", "GET /count", 200),
    ]
    assert isinstance(tool.requests[0], LoggedRequest)
    assert tool.requests[0].body == b'{"by":3}'
    assert tool.requests[0].at == START


def test_default_throttle_and_failure_answers(tool):
    tool.throttle_next(1, retry_after=4)
    tool.fail_next(1, status=502)

    throttled, failed, fine = (http(tool).get("/count") for _ in range(3))

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "4")
    assert throttled.json() == {"error": "rate_limited"}
    assert (failed.status_code, failed.json()) == (502, {"error": "Bad Gateway"})
    assert fine.status_code == 200
    assert [r.status for r in tool.requests] == [429, 502, 200]


def test_a_failure_with_a_body_answers_that_body(tool):
    tool.fail_next(1, status=500, body={"message": "boom"})

    assert http(tool).get("/count").json() == {"message": "boom"}


def test_a_tool_answers_faults_in_its_own_dialect(clock):
    tool = Picky(clock=clock)
    tool.throttle_next(1)
    tool.fail_next(1, status=500)

    throttled, failed = http(tool).get("/count"), http(tool).get("/count")

    assert throttled.json() == {"code": "QuotaExceeded"}
    assert throttled.headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert (failed.status_code, failed.json()) == (500, {"errors": [{"code": "InternalFailure"}]})


def test_faults_match_the_operation(tool):
    tool.fail_next(1, status=503, match="POST /count")

    read = http(tool).get("/count")
    written = http(tool).post("/count", json={})

    assert (read.status_code, written.status_code) == (200, 503)
    assert tool.count == 0


def test_a_timeout_raises_read_timeout_and_does_nothing(tool):
    tool.timeout_next(1, match="POST")

    with pytest.raises(httpx.ReadTimeout):
        http(tool).post("/count", json={"by": 5})

    assert tool.count == 0
    assert [(r.operation, r.status) for r in tool.requests] == [("POST /count", 0)]


def test_a_processed_timeout_does_the_work_and_loses_the_answer(tool):
    tool.timeout_next(1, processed=True)

    with pytest.raises(httpx.ReadTimeout):
        http(tool).post("/count", json={"by": 5})

    assert tool.count == 5
    assert [r.status for r in tool.requests] == [201]


def test_a_slow_answer_sleeps_on_the_clock_then_answers(tool, clock):
    tool.slow_next(1, seconds=7.5)

    slow = http(tool).get("/count")
    fast = http(tool).get("/count")

    assert (slow.status_code, fast.status_code) == (200, 200)
    assert clock() == START + datetime.timedelta(seconds=7.5)
    assert tool.requests[0].at == START + datetime.timedelta(seconds=7.5)


def test_clear_failures_forgets_the_plan(tool):
    tool.fail_next(3)
    tool.clear_failures()

    assert http(tool).get("/count").status_code == 200


def test_the_same_tool_served_over_wsgi(tool):
    client = Client(tool)

    created = client.post("/count", json={"by": 2}, base_url="http://counter.local:8790/prefix")
    read = client.get("/count?q=1")
    missing = client.get("/nowhere")

    assert (created.status_code, created.status) == (201, "201 Created")
    assert created.json == {"count": 2}
    assert read.json == {"count": 2, "q": "1"}
    assert missing.status_code == 404
    assert tool.requests[0].url == "http://counter.local:8790/prefix/count"
    assert tool.requests[0].headers["content-type"] == "application/json"


def test_over_wsgi_a_timeout_waits_on_the_clock_then_answers_504(tool, clock):
    tool.timeout_next(1, seconds=30)
    client = Client(tool)

    timed_out = client.get("/count")
    then = client.get("/count")

    assert (timed_out.status_code, timed_out.json) == (504, {"error": "Gateway Timeout"})
    assert clock() == START + datetime.timedelta(seconds=30)
    assert then.status_code == 200


def test_over_wsgi_faults_answer_as_over_mock_transport(tool):
    tool.throttle_next(1, retry_after=2.5)
    tool.slow_next(1, seconds=1)

    throttled = Client(tool).get("/count")
    slow = Client(tool).get("/count")

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "2.5")
    assert slow.status_code == 200


def test_the_snapshot_is_plain_json_at_the_clock(tool, clock):
    http(tool).post("/count", json={"by": 4})
    clock.tick(datetime.timedelta(hours=1))

    assert tool.snapshot() == {"tool": "counter", "at": "2026-05-04T10:00:00+00:00", "count": 4}


def test_a_bare_now_callable_becomes_a_clock(clock):
    readings = iter([10.0, 20.0])
    tool = Counter(clock=lambda: START, monotonic=lambda: next(readings))

    assert tool.clock() == START
    assert (tool.clock.monotonic(), tool.clock.monotonic()) == (10.0, 20.0)
    assert Counter(clock=clock).clock is clock
    assert isinstance(Counter().clock, WallClock)


def test_a_fake_tool_must_say_how_it_serves_and_snapshots():
    with pytest.raises(TypeError, match="abstract"):
        FakeTool()  # type: ignore[abstract]
