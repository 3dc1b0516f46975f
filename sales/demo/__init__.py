"""Demo data of sales: five channels, ~80 customers and ~300 orders of the last 90 days.

Registered with ``erp.demo`` (order 20, after inventory's 10), run by ``manage.py seed_demo``.

* Every write goes through the sales services: ``order_create`` (with a past order date),
  ``order_confirm``, ``shipment_create``, ``invoice_create``/``invoice_issue``/``invoice_void``,
  ``payment_record``, ``return_create``/``return_receive``, ``refund_record``, ``order_hold``,
  ``order_cancel`` and ``order_close``; so stock levels match the ledger and every step records
  its events.
* Orders are in every state: draft, confirmed (some backordered), partially shipped, shipped,
  closed, on hold and cancelled; older orders are mostly closed, recent ones still open. Their
  invoices are draft, issued, partially paid, paid or void; a few customers pay late, so some
  issued invoices are overdue. A few shipped orders came back: returns received with a credit
  note (most of them refunded), and some still open.
* Deterministic: every choice comes from ``random.Random(7)``; products are taken from the
  catalog sorted by SKU, knowing what is available in the channel's warehouse (read once, then
  kept up to date from what each order holds), so the same database gives the same orders.
* Idempotent: channels and customers are looked up by code and only what is missing is created;
  the order history is written once, when no order exists on the demo channels.
* Dates: every step is written on its own past date through the services
  (``erp.clock.effective``): orders placed over the last 90 days, confirmed, shipped one to three
  days later (a few late), invoiced, paid, returned and refunded on their days, never after now;
  so the stock moves and events carry those dates too (``history`` explains how no bin is ever
  short in that order). Channels and customers exist from before the first order.
* It sells inventory's demo catalog from its warehouses MAIN and EAST. Without them it uses
  whatever active warehouses and stocked products exist, and makes a warehouse and a few
  stocked products only if there are none.

The plan, as data, is in ``plan``; what must exist before the orders (stock, channels,
customers) is made by ``masterdata``; the orders themselves by ``history``. ``ORDERS`` and
``DAYS`` are read here when the seeder runs, so a test can make the history shorter.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from erp import clock, demo
from sales.demo.history import History
from sales.demo.masterdata import ensure_channels, ensure_customers, ensure_stock, user_named
from sales.demo.plan import CHANNEL_CODES, build_customers
from sales.models import (
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OrderStatus,
    ReturnStatus,
    SalesOrder,
    SalesReturn,
)

SEED = 7
DAYS = 90
ORDERS = 300


# --- the seeder -----------------------------------------------------------------------------------


@transaction.atomic
def seed_sales() -> list[str]:
    rng = random.Random(SEED)
    specs = build_customers(rng)
    with clock.effective(timezone.now() - datetime.timedelta(days=DAYS + 3)):  # before the first order
        ensure_stock()
        user = user_named("sales")
        channels = ensure_channels(user)
        customers = ensure_customers(specs, user)
    if not SalesOrder.objects.filter(channel__code__in=CHANNEL_CODES).exists():
        History(rng, channels, customers, specs).run(orders=ORDERS, days=DAYS)
    return _summary()


def _summary() -> list[str]:
    orders = SalesOrder.objects.filter(channel__code__in=CHANNEL_CODES)
    by_status = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
    invoices = Invoice.objects.filter(order__in=orders, kind=InvoiceKind.INVOICE)
    by_invoice = dict(invoices.values_list("status").annotate(n=Count("id")).order_by())
    overdue = invoices.filter(
        status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID], due_date__lt=timezone.localdate()
    ).count()
    returns = SalesReturn.objects.filter(order__in=orders)
    order_states = ", ".join(f"{by_status.get(s, 0)} {s.label.lower()}" for s in OrderStatus)
    invoice_states = ", ".join(f"{by_invoice.get(s, 0)} {s.label.lower()}" for s in InvoiceStatus)
    customers = Customer.objects.filter(code__startswith="CUST-").count()
    return [
        f"sales: channels {', '.join(CHANNEL_CODES)}; {customers} customers; "
        f"{orders.count()} orders ({order_states}); "
        f"{invoices.count()} invoices ({invoice_states}; {overdue} overdue); "
        f"{returns.count()} returns ({returns.filter(status=ReturnStatus.OPEN).count()} open)"
    ]


demo.register(20, "sales", seed_sales)
