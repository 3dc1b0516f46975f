"""Bulk work over HTTP: 5,000 lines in one request each, on the large fixture.

Through the gunicorn of the HTTP scenarios (bench/scenarios/_http.py; its 30 s worker timeout),
a superuser's API key, one request at a time:

* ``product bulk-upsert``: ``POST /api/v1/inventory/products/bulk-upsert`` of 5,000 new SKUs
  (name and price);
* ``counted levels``: ``POST /api/v1/inventory/stock/counted-levels`` of 5,000 products of the
  large fixture (bench/scenarios/_scale.py), each counted in the bin where it has stock;
* ``receipt``: ``POST /api/v1/procurement/purchase-orders/{id}/receive`` of every line of a sent
  purchase order of 5,000 lines (made with bulk_create in setup): the API that receives many
  lines at once.

Figure: seconds from sending the request to its answer (200 or 201); on a 202 with a job, until
``GET /api/v1/jobs/{id}`` says ``done``. Any other answer (422 over a size limit, a 500) or none
within 30 s (gunicorn's worker timeout) makes the figure infinite, with the answer in the notes.
Target (#22): under 5 s each.
A second attempt uses new SKUs, other counts and its own purchase order. With --quick: 200 lines.
"""

from __future__ import annotations

import datetime
import sys
import time
from decimal import Decimal
from typing import Any

from bench.scenario import MISSED, Scenario, Target, note, quick
from bench.scenarios import _http, _scale

LINES = 5_000
SKU_PREFIX = "BENCH-BU"
# No answer within gunicorn's default worker timeout is a failure: a sync worker would have been killed
# (a gthread worker is not, its main thread still beats), the client would have had a 502.
TIMEOUT = 30.0
FIGURES = ("product bulk-upsert s", "counted levels s", "receipt s")

_user: Any = None
_token = ""
_server: _http.Server | None = None
_orders: list[int] = []  # purchase orders still to receive, one per attempt
_attempt = [0]


def _lines() -> int:
    return 200 if quick() else LINES


def _purchase_order(number: str, product_ids: list[int], warehouse_id: int) -> int:
    from inventory.models import UnitOfMeasure
    from procurement.models import PurchaseOrder, PurchaseOrderLine, Supplier

    supplier, _ = Supplier.objects.get_or_create(code="BENCH-BULK", defaults={"name": "Bench bulk supplier"})
    po = PurchaseOrder.objects.create(
        number=number,
        supplier=supplier,
        warehouse_id=warehouse_id,
        status="sent",
        currency="USD",
        order_date=datetime.datetime.now(datetime.UTC).date(),
        sent_at=datetime.datetime.now(datetime.UTC),
        total=Decimal(len(product_ids) * 10),
        subtotal=Decimal(len(product_ids) * 10),
    )
    pcs = UnitOfMeasure.objects.get(code="pcs")
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(
                order=po,
                position=i,
                product_id=product_id,
                purchase_unit=pcs,
                quantity=Decimal(2),
                unit_cost=Decimal("5.00"),
                line_subtotal=Decimal(10),
                line_total=Decimal(10),
            )
            for i, product_id in enumerate(product_ids)
        ],
        batch_size=1000,
    )
    return po.pk


def setup(n: int) -> int:
    global _user, _token, _server
    scale = _scale.scale()
    _user, _token = _http.superuser_token("bench-bulk")
    _http.check_broker()
    lines = _lines()
    # Products of the first warehouse, from the end of the fixture (the lists read its start).
    warehouse = scale.warehouse_of_bin[scale.bins[0]]
    ids = [p for p in range(scale.last_id, scale.first_id - 1, -1) if scale.warehouse_of(p) == warehouse]
    _orders.clear()
    for attempt in (1, 2):
        _orders.append(_purchase_order(f"BENCH-BULK-{attempt}", ids[:lines], warehouse))
    _server = _http.Server()
    _server.start()
    return n


def _timed(figure: str, method: str, path: str, body: Any) -> float:
    """Seconds until the work is done, or infinity (with a note) when it was refused or failed."""
    assert _server is not None
    status, answer, seconds = _http.one_request(_server.port, _token, method, path, body, timeout=TIMEOUT)
    started = time.perf_counter() - seconds
    if status == 202 and isinstance(answer, dict) and "id" in answer:
        while True:
            job_status, job, _ = _http.one_request(
                _server.port, _token, "GET", f"/api/v1/jobs/{answer['id']}"
            )
            state = job.get("state") if isinstance(job, dict) else None
            if job_status != 200 or state in ("done", "failed"):
                break
            if time.perf_counter() - started > 600:
                state = "still running after 600 s"
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        if state != "done":
            note(figure, f"202, then job {answer['id']}: {state} {str(job)[:200]}")
            return float("inf")
    elif status == 0:
        note(figure, f"no answer within {TIMEOUT:.0f} s ({answer})")
        return float("inf")
    elif status not in (200, 201):
        note(figure, f"answer {status}: {str(answer)[:200]}")
        return float("inf")
    print(f"  {figure[:-2]}: {_lines()} lines, {status}, {seconds:.2f} s", file=sys.stderr)
    return seconds


def measure(n: int) -> dict[str, float]:
    _attempt[0] += 1
    attempt = _attempt[0]
    scale = _scale.scale()
    lines = _lines()
    figures: dict[str, float] = {}
    if not MISSED or FIGURES[0] in MISSED:
        items: list[dict[str, Any]] = [
            {
                "sku": f"{SKU_PREFIX}{attempt}-{i:05d}",
                "name": f"Bench bulk {attempt} {i}",
                "sale_price": "9.90",
            }
            for i in range(lines)
        ]
        figures[FIGURES[0]] = _timed(
            FIGURES[0], "POST", "/api/v1/inventory/products/bulk-upsert", {"items": items}
        )
    if not MISSED or FIGURES[1] in MISSED:
        first = scale.first_id + (attempt - 1) * lines  # other products each attempt
        items = [
            {
                "sku": f"{_scale.SKU_PREFIX}{p - scale.first_id + 1:06d}",
                "location": scale.bin_of(p),
                "counted": str(100 + attempt),
            }
            for p in range(first, min(first + lines, scale.last_id + 1))
        ]
        figures[FIGURES[1]] = _timed(
            FIGURES[1],
            "POST",
            "/api/v1/inventory/stock/counted-levels",
            {"items": items, "reference": f"BENCH-COUNT-{attempt}"},
        )
    if not MISSED or FIGURES[2] in MISSED:
        from procurement.models import PurchaseOrderLine

        po = _orders[min(attempt, len(_orders)) - 1]
        body = {
            "lines": [
                {"line_id": pk, "quantity": "2"}
                for pk in PurchaseOrderLine.objects.filter(order_id=po)
                .order_by("position")
                .values_list("pk", flat=True)
            ]
        }
        figures[FIGURES[2]] = _timed(
            FIGURES[2], "POST", f"/api/v1/procurement/purchase-orders/{po}/receive", body
        )
    return figures


def teardown() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server.remove_files()
        _server = None
    _http.flush_broker()  # the user stays: the products and moves it made refer to it


SCENARIO = Scenario(
    name="bulk_http",
    description=__doc__ or "",
    setup=setup,
    measure=measure,
    teardown=teardown,
    default_n=1,
    quick_n=1,
    targets=tuple(Target(figure, 5.0, unit="s") for figure in FIGURES),
    shown=(),
    order=85,
)
