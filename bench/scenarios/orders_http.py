"""Order ingest over HTTP: 3-line orders created and confirmed through gunicorn, 1 and 8 clients.

The fixture of ``sales_orders_service`` (one warehouse, one channel, 50 customers, 300 products
with 100,000 units each) and a superuser's API key without rate limit. The server is the project
under gunicorn with the production settings and a Celery broker (bench/scenarios/_http.py): the
events are recorded in the outbox and their dispatch enqueued, never run in the request.

Each client POSTs ``/api/v1/sales/orders`` with the body of ``sales_orders_api`` (3 lines by SKU
with 20 % VAT, ``"confirm": true``) back to back on a keep-alive connection; anything but a 201 is
an error and fails the run. Two phases, each on a server started for it: 1 client, then 8
clients, each for ``BENCH_ORDERS_SECONDS`` (10; 2 with --quick) or ``n`` orders, after 5 untimed
orders per client. Server side, per order: SQL statements run by Django and the transactions that
wrote (commits: bench/gunicorn_conf.py), counted once the warm-up is over (its first requests
also stamp the key's last use, at most once a minute: one commit more in a phase of a thousand
orders was a "MISS" of the 1 commit per order); and, over the whole life of that server, from
pg_stat_database (read once the server's connections have ended, which is when PostgreSQL has
all their counters) its transactions (reads run in autocommit included) and rows inserted and
updated.

Targets (#22): at least 300 orders/s with 8 clients and at least 7 % of the pgbench TPC-B rate of
the same run; at most 15 statements and 1 commit per order. Shown beside them: orders/s with 1
client, the scaling 1 -> 8 clients, p50 and p95, the clients' own CPU (% of one core), and the CPU
per order of the server's workers and of PostgreSQL's processes while the 8 clients' timed orders
ran (read from /proc: 300 orders/s on 2 cores leaves 6.7 ms for all of them together), and the
dispatch tasks published per order (the queues' growth in the bench's broker: a process merges the
tasks of one ``OUTBOX_DISPATCH_WINDOW_SECONDS``, so under load it is well under 1).

Teardown checks every order is confirmed with its lines reserved and the levels match the
ledger, then removes the fixture, the user and the tasks left in the broker.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from django.urls import Resolver404, resolve

from bench.scenario import Scenario, Target, note, percentile, quick
from bench.scenarios import _http
from bench.scenarios.sales_orders_service import SalesFixture

URL = "/api/v1/sales/orders"
WARMUP = 5  # per client, per phase

_fixture = SalesFixture("BENCHOH")
_user: Any = None
_token = ""
_skipped = False
_serial = [0]  # order numbers across phases and attempts: every external reference is new


def _body(i: int) -> bytes:
    assert _fixture.channel is not None
    return json.dumps(
        {
            "channel": _fixture.channel.pk,
            "customer": _fixture.customer(i).pk,
            "lines": [
                {"sku": p.sku, "quantity": str(q), "taxes": [{"name": "VAT", "rate": "0.2"}]}
                for p, q in _fixture.lines(i)
            ],
            "external_reference": f"bench-http-{i}",
            "confirm": True,
        }
    ).encode()


def setup(n: int) -> int:
    global _user, _token, _skipped
    try:
        resolve(URL)
    except Resolver404:
        _skipped = True
        print(f"  SKIPPED orders_http: {URL} is not routed", file=sys.stderr)
        return 0
    _http.check_broker()
    _fixture.make()
    _user, _token = _http.superuser_token("bench-orders-http")
    return n


def _phase(clients: int, n: int, seconds: float) -> tuple[_http.Load, dict[str, float]]:
    server = _http.Server()
    before = _http.database_counters()
    queued = _http.queued_tasks()
    server.start()
    first = _serial[0]
    warm = [(0, 0, 0)]
    cpu: list[_http.CpuSnapshot] = [{}]

    def make(k: int) -> _http.Request:
        return "POST", URL, _body(first + k)

    def warmed() -> None:
        warm[0] = server.statements()
        cpu[0] = _http.cpu_snapshot()

    try:
        load = _http.run_load(
            server.port,
            _token,
            make,
            clients=clients,
            seconds=seconds,
            max_requests=n,
            expect=(201,),
            warmup=WARMUP,
            warmed=warmed,
        )
        used = _http.cpu_used(cpu[0], _http.cpu_snapshot())  # while the timed orders ran
    finally:
        server.stop()
    total = server.statements()
    # Statements and commits are counted after the warm-up, whose first requests also pay for what
    # a worker does once (the key's last-use stamp, at most once a minute: erp.services).
    statements, requests, commits = (a - b for a, b in zip(total, warm[0], strict=True))
    after = _http.database_counters() - before
    published = _http.queued_tasks() - queued  # the events' dispatch tasks (erp.scheduling.Coalesced)
    _serial[0] = first + n + clients * WARMUP  # past any order make() can have built
    log = server.log_tail()
    server.remove_files()
    if load.errors:
        raise AssertionError(f"{len(load.errors)} requests failed, first: {load.errors[0]}\n{log}")
    orders = total[1]  # every request of this server's life was an order, warm-up included
    _fixture.expected += load.accepted  # the client's count: a server stopped may not have counted its last
    figures = {
        "statements/order": statements / requests if requests else 0.0,
        "commits/order": commits / requests if requests else 0.0,  # transactions that wrote
        "pg transactions/order": after.commits / orders if orders else 0.0,  # reads in autocommit too
        "rows inserted/order": after.inserted / orders if orders else 0.0,
        "rows updated/order": after.updated / orders if orders else 0.0,
        "dispatch tasks/order": published / orders if orders else 0.0,
        # CPU per timed order, of the server (gunicorn's workers) and of PostgreSQL's processes
        "server CPU ms/order": 1000 * used.get("gunicorn", 0.0) / timed
        if (timed := len(load.latencies))
        else 0.0,
        "postgres CPU ms/order": 1000 * used.get("postgres", 0.0) / timed if timed else 0.0,
    }
    print(
        f"  {clients} client(s), {server.label}: {len(load.latencies)} orders in {load.wall:.1f} s = "
        f"{load.rate:.1f}/s, p50 {percentile(load.latencies, 50) * 1000:.1f} ms, p95 "
        f"{percentile(load.latencies, 95) * 1000:.1f} ms; "
        f"client CPU {load.client_cpu_percent:.0f} % of a core; "
        f"per order: {figures['statements/order']:.1f} statements, {figures['commits/order']:.2f} commits, "
        f"{figures['rows inserted/order']:.1f} rows inserted, {figures['rows updated/order']:.1f} updated, "
        f"{figures['dispatch tasks/order']:.2f} dispatch tasks; "
        f"CPU per order: server {figures['server CPU ms/order']:.1f} ms, "
        f"PostgreSQL {figures['postgres CPU ms/order']:.1f} ms",
        file=sys.stderr,
    )
    return load, figures


def measure(n: int) -> dict[str, float]:
    if _skipped:
        note("8 clients orders/s", f"{URL} is not routed")
        return {}
    seconds = float(os.environ.get("BENCH_ORDERS_SECONDS", "2" if quick() else "10"))
    one, _ = _phase(1, n, seconds)
    eight, counts = _phase(8, n, seconds)
    return {
        "8 clients orders/s": eight.rate,
        "8 clients p50 ms": percentile(eight.latencies, 50) * 1000,
        "8 clients p95 ms": percentile(eight.latencies, 95) * 1000,
        "1 client orders/s": one.rate,
        "1 client p50 ms": percentile(one.latencies, 50) * 1000,
        "scaling 1->8": eight.rate / one.rate if one.rate else 0.0,
        "client CPU % (8 clients)": eight.client_cpu_percent,
        **counts,
    }


def teardown() -> None:
    if _skipped:
        return
    try:
        _fixture.check()
    finally:
        _fixture.remove(user=_user)
        _http.flush_broker()


SCENARIO = Scenario(
    name="orders_http",
    description=__doc__ or "",
    setup=setup,
    measure=measure,
    teardown=teardown,
    default_n=100_000,  # orders per phase at most: the phase's duration bounds it
    quick_n=100,
    targets=(
        Target("8 clients orders/s", 300, at_least=True),
        Target("8 clients orders/s", 0.07, at_least=True, relative_to="pgbench:tps"),
        Target("statements/order", 15),
        Target("commits/order", 1),
    ),
    shown=(
        "1 client orders/s",
        "scaling 1->8",
        "8 clients p50 ms",
        "8 clients p95 ms",
        "1 client p50 ms",
        "client CPU % (8 clients)",
        "pg transactions/order",
        "rows inserted/order",
        "rows updated/order",
        "dispatch tasks/order",
        "server CPU ms/order",
        "postgres CPU ms/order",
    ),
    order=60,
)
