"""The API lists at scale over HTTP: products, stock levels and stock moves, 1 and 8 clients.

On the large fixture (bench/scenarios/_scale.py: 100,000 products, ~110,000 levels in bins,
1,000,000 moves), through the gunicorn of the HTTP scenarios (bench/scenarios/_http.py), a
superuser's API key. For each list (``/api/v1/inventory/products``, ``/levels``, ``/moves``):

* ``page 1``: the list as it comes, default sort;
* ``page 1000``: ``?page=1000`` (the last page when there are fewer, with --quick);
* ``q``: ``?q=duct 4242`` (part of a product's name: 11 products match; levels and moves search
  their product the same way);
* ``cursor``: the next page by keyset, when the list offers one: the answer of ``?page=1000``
  (else of page 1) carries ``next_cursor`` (or a ``next`` link with ``cursor=``); without it the
  variant is skipped, so that the bench runs against a checkout from before cursors.

Each variant: 2 untimed requests, then 1 client for up to ``BENCH_LIST_REQUESTS`` (40) requests
or 3 s, then 8 clients for up to 8 requests each or 3 s; anything but 200 fails the run. Figure:
p95 of the request's wall time at the client; measured again after a miss, only the variants
that missed. Targets (#22): under 30 ms with 1 client and under
100 ms with 8.
"""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from bench.scenario import MISSED, Scenario, Target, note, percentile, quick
from bench.scenarios import _http, _scale

BASE = "/api/v1/inventory"
LISTS = ("products", "levels", "moves")
VARIANTS = ("page 1", "page 1000", "q", "cursor")
SEARCH = "duct 4242"
PAGE_SIZE = 50
SECONDS = 3.0

_user: Any = None
_token = ""
_server: _http.Server | None = None


def _figure(name: str, variant: str, clients: int) -> str:
    return f"{name} {variant} p95 ms @{clients}"


def setup(n: int) -> int:
    global _user, _token, _server
    _scale.scale()
    _user, _token = _http.superuser_token("bench-lists")
    _http.check_broker()
    _server = _http.Server()
    _server.start()
    return n


def _get(path: str) -> Any:
    assert _server is not None
    status, answer, _ = _http.one_request(_server.port, _token, "GET", path)
    if status != 200:
        raise AssertionError(f"GET {path}: {status} {str(answer)[:300]}")
    return answer


def _cursor_of(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return None
    if answer.get("next_cursor"):
        return str(answer["next_cursor"])
    link = answer.get("next")
    if isinstance(link, str) and "cursor=" in link:
        return parse_qs(urlsplit(link).query).get("cursor", [None])[0]
    return None


def _paths(name: str) -> dict[str, str | None]:
    """The path of each variant of one list (None: the list does not offer it)."""
    url = f"{BASE}/{name}"
    first = _get(url)
    count = first.get("count") if isinstance(first, dict) else None
    page = 1000
    if isinstance(count, int) and count < 1000 * PAGE_SIZE:
        page = max(1, (count + PAGE_SIZE - 1) // PAGE_SIZE)
    deep = f"{url}?page={page}"
    cursor = _cursor_of(_get(deep)) or _cursor_of(first)
    return {
        "page 1": url,
        "page 1000": deep,
        "q": f"{url}?q={quote(SEARCH)}",
        "cursor": f"{url}?cursor={quote(cursor)}" if cursor else None,
    }


def _p95(path: str, clients: int, requests: int) -> float:
    assert _server is not None
    load = _http.run_load(
        _server.port,
        _token,
        lambda k: ("GET", path, None),
        clients=clients,
        seconds=SECONDS,
        max_requests=requests,
    )
    if load.errors:
        raise AssertionError(f"GET {path}: {len(load.errors)} failed, first: {load.errors[0]}")
    return percentile(load.latencies, 95) * 1000


def measure(n: int) -> dict[str, float]:
    requests = int(os.environ.get("BENCH_LIST_REQUESTS", "10" if quick() else "40"))
    figures: dict[str, float] = {}
    for name in LISTS:
        for variant, path in _paths(name).items():
            if path is None:
                for clients in (1, 8):
                    note(_figure(name, variant, clients), "the list offers no cursor")
                continue
            if MISSED and not {_figure(name, variant, c) for c in (1, 8)} & MISSED:
                continue  # measured again: only what missed
            _get(path)  # warm: plans, caches
            _get(path)
            one = _p95(path, 1, requests)
            eight = _p95(path, 8, 8 * (requests // 5))
            figures[_figure(name, variant, 1)] = one
            figures[_figure(name, variant, 8)] = eight
            print(f"  {name} {variant}: p95 {one:.1f} ms @1, {eight:.1f} ms @8", file=sys.stderr)
    return figures


def teardown() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server.remove_files()
        _server = None
    _http.remove_user(_user)
    _http.flush_broker()


SCENARIO = Scenario(
    name="lists_http",
    description=__doc__ or "",
    setup=setup,
    measure=measure,
    teardown=teardown,
    default_n=1,
    quick_n=1,
    targets=tuple(
        Target(_figure(name, variant, clients), 30.0 if clients == 1 else 100.0, unit="ms")
        for name in LISTS
        for variant in VARIANTS
        for clients in (1, 8)
    ),
    shown=(),
    order=80,
)
