"""``FakeTool``: what every tool's fake is built on: its HTTP front, its clock, its request log,
the faults a test injects, and the snapshot a drift check reads.

A fake is served two ways, both funnelling to ``respond(method, url, headers, body) ->
(status, headers, body)``:

* ``handle(request)``: an ``httpx.MockTransport`` handler (``httpx.MockTransport(fake.handle)``);
* ``fake(environ, start_response)``: a WSGI application, under any path prefix
  (``manage.py run_fake TOOL --port N``).

``respond`` reads the request into an ``Incoming``, names its operation (``operation``; None: no
fault applies, e.g. a sign-in page) and takes that operation's planned fault from ``faults``
(a ``FaultPlan``) before the tool answers:

* timeout: no answer. ``handle`` raises ``httpx.ReadTimeout``; the WSGI app waits the fault's
  seconds on the clock and answers 504. With ``processed`` the tool does the work first;
* slow: ``clock.sleep(seconds)``, then the tool answers as usual;
* throttle and fail: ``answer(request, fault)`` gets them. By default they answer at once with
  the hooks ``throttled(request, fault)`` and ``failed(request, fault)``, which a tool overrides
  for its own 429 and 5xx bodies and headers; a tool whose order differs (a throttle only after
  the token is checked, a GraphQL 200 THROTTLED) overrides ``answer``.

Otherwise ``serve(request)`` answers: that is the tool. Every answered request goes through
``record(request, status)`` (status 0: no answer), which appends to ``requests``; a tool keeps
its own shape of entry by overriding it. ``snapshot()`` is the fake's state as plain JSON for
the simulated day's drift check.
"""

from __future__ import annotations

import abc
import datetime
import http
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

import httpx

from integrations.fakes.clock import as_clock
from integrations.fakes.faults import Fault, FaultPlan

Answer = tuple[int, dict[str, str], bytes]


class NoAnswer(Exception):
    """A timeout fault: the tool never answers this request."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(f"no answer within {fault.seconds:g}s")
        self.fault = fault


@dataclass(frozen=True)
class Incoming:
    """One request as the fake received it (headers lower-cased)."""

    method: str
    url: httpx.URL
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.url.path

    @cached_property
    def params(self) -> dict[str, str]:
        """The query string (the last value of a repeated key; blank values kept)."""
        return dict(parse_qsl(self.url.query.decode(), keep_blank_values=True))

    def json(self) -> Any:
        """The body as JSON; None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def to_httpx(self) -> httpx.Request:
        """The request as an ``httpx.Request`` (for a fake written against httpx's objects)."""
        return httpx.Request(self.method, self.url, headers=self.headers, content=self.body)


@dataclass(frozen=True)
class LoggedRequest:
    """One request a fake answered (or did not: status 0), for tests to inspect."""

    method: str
    url: str
    operation: str | None
    headers: dict[str, str]
    body: bytes
    status: int
    at: datetime.datetime


def json_answer(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Answer:
    """A JSON answer (``body`` None: no body)."""
    answer_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return status, answer_headers, b"" if body is None else json.dumps(body).encode()


def httpx_answer(response: httpx.Response) -> Answer:
    """An ``httpx.Response`` a fake built, as ``respond`` answers it."""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return response.status_code, headers, response.read()


class FakeTool(abc.ABC):
    """A tool's fake: the HTTP front, clock, request log, faults and snapshot. Thread-safe."""

    tool: str = ""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime.datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.clock = as_clock(clock, monotonic)
        self._lock = threading.RLock()
        self.requests: list[Any] = []
        self.faults = FaultPlan()

    # --- faults a test plans ------------------------------------------------------------------

    def throttle_next(self, count: int = 1, *, retry_after: float = 2.0, match: str | None = None) -> None:
        """The next ``count`` requests (whose operation contains ``match``) are throttled."""
        self.faults.throttle_next(count, retry_after=retry_after, match=match)

    def fail_next(
        self, count: int = 1, *, status: int = 503, match: str | None = None, body: Any = None
    ) -> None:
        """The next ``count`` requests (whose operation contains ``match``) answer ``status``."""
        self.faults.fail_next(count, status=status, match=match, body=body)

    def timeout_next(
        self, count: int = 1, *, match: str | None = None, seconds: float = 30.0, processed: bool = False
    ) -> None:
        """The next ``count`` requests get no answer (``processed``: the tool did the work)."""
        self.faults.timeout_next(count, match=match, seconds=seconds, processed=processed)

    def slow_next(self, count: int = 1, *, seconds: float = 5.0, match: str | None = None) -> None:
        """The next ``count`` requests are answered ``seconds`` late."""
        self.faults.slow_next(count, seconds=seconds, match=match)

    def clear_failures(self) -> None:
        """Forget the planned faults."""
        self.faults.clear()

    # --- HTTP ---------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the ``httpx.MockTransport`` handler)."""
        body = request.read()
        try:
            status, headers, content = self.respond(
                request.method, str(request.url), dict(request.headers.items()), body
            )
        except NoAnswer as silence:
            raise httpx.ReadTimeout(str(silence), request=request) from None
        return httpx.Response(status, headers=headers, content=content, request=request)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI application."""
        scheme = environ.get("wsgi.url_scheme", "http")
        host = (
            environ.get("HTTP_HOST")
            or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
        )
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            status, response_headers, content = self.respond(
                environ.get("REQUEST_METHOD", "GET"), url, headers, body
            )
        except NoAnswer as silence:
            self.clock.sleep(silence.fault.seconds)
            status, response_headers, content = self.timed_out(silence.fault)
        reason = http.HTTPStatus(status).phrase
        start_response(f"{status} {reason}", list(response_headers.items()))
        return [content]

    def respond(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """The core: (method, absolute URL, headers, body) -> (status, headers, body).

        Raises ``NoAnswer`` for a timeout fault (the fronts turn it into their own timeout).
        """
        request = Incoming(method.upper(), httpx.URL(url), {k.lower(): v for k, v in headers.items()}, body)
        operation = self.operation(request)
        fault = self.faults.take(operation) if operation is not None else None
        if fault is not None and fault.kind == "slow":
            self.clock.sleep(fault.seconds)
            fault = None
        if fault is not None and fault.kind == "timeout":
            if fault.processed:
                with self._lock:
                    status, _, _ = self.answer(request, None)
                    self.record(request, status)
            else:
                with self._lock:
                    self.record(request, 0)
            raise NoAnswer(fault)
        with self._lock:
            answer = self.answer(request, fault)
            self.record(request, answer[0])
            return answer

    # --- the tool's dialect ------------------------------------------------------------------

    def operation(self, request: Incoming) -> str | None:
        """The name faults match against (``match`` is a substring of it); None: no fault applies.
        By default ``"METHOD /path"``."""
        return f"{request.method} {request.path}"

    def answer(self, request: Incoming, fault: Fault | None) -> Answer:
        """The answer to a request, given the fault it got (a throttle or a failure, or None)."""
        if fault is not None and fault.kind == "throttle":
            return self.throttled(request, fault)
        if fault is not None and fault.kind == "fail":
            return self.failed(request, fault)
        return self.serve(request)

    def throttled(self, request: Incoming, fault: Fault) -> Answer:
        """The tool's 429 (override for its own body and headers)."""
        retry_after = fault.retry_after if fault.retry_after is not None else 1.0
        return json_answer(
            fault.status or 429, {"error": "rate_limited"}, {"Retry-After": f"{max(retry_after, 0):g}"}
        )

    def failed(self, request: Incoming, fault: Fault) -> Answer:
        """The tool's answer to an injected failure (override for its own error body)."""
        status = fault.status or 503
        body = fault.body if fault.body is not None else {"error": http.HTTPStatus(status).phrase}
        return json_answer(status, body)

    def timed_out(self, fault: Fault) -> Answer:
        """What the WSGI front answers after a timeout (a gateway's 504)."""
        return json_answer(504, {"error": "Gateway Timeout"})

    @abc.abstractmethod
    def serve(self, request: Incoming) -> Answer:
        """The tool's answer to a request no fault touched."""

    def record(self, request: Incoming, status: int) -> None:
        """Log one request (status 0: it got no answer)."""
        self.requests.append(
            LoggedRequest(
                request.method,
                str(request.url),
                self.operation(request),
                dict(request.headers),
                request.body,
                status,
                self.clock(),
            )
        )

    @abc.abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """The fake's state as plain JSON (``{"tool": ..., "at": ISO now, ...}``) for drift checks."""
