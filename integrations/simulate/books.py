"""The books' part in the simulated day: an accounting tool that gets what the back office here
records (invoices, payments, credit notes, bills), and the accountant who works in it.

Each connector that keeps books and takes part ships ``integrations/<tool>/day.py`` with a
``BooksTool`` subclass named ``Books``; ``available()`` finds them, so adding an accounting tool
to the day touches no file here.

The back office (``BackOffice``, one per day, whatever the books) works here, through the sales
and procurement services, at every step:

* the orders that shipped (here, or by a shipping tool or 3PL) are invoiced for what shipped and
  the invoice issued; a channel's customer paid at checkout, so its payment is recorded at once
  (by card);
* now and then a wholesale customer of ours (Net 30) orders on the wholesale channel: the order is
  confirmed, shipped from the day's warehouse and invoiced, and the invoice is left open;
* the supplier's bill of each purchase order received is recorded (three-way match: ordered price
  times received quantity, so it matches and is open for payment), and some bills are paid;
* once, an open wholesale invoice nobody paid is voided here (the books must void it too), and its
  order is invoiced again.

Refunds the channels bring in are credit notes and refunds already (``integrations.appliers.
refunds``). The accountant (``BooksTool.work``) records payments of open wholesale invoices in the
tool (in full or in part: the hub must mark ours paid through its webhooks or CDC) and edits the
memo of pushed invoices (the hub's next update of one meets a stale version and reads it again);
never the invoice the back office is voiding. At the end each books tool's ``differences()`` says
where the tool and the hub disagree.
"""

from __future__ import annotations

import abc
import datetime
import importlib
import pkgutil
import random
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from django.db.models import F

import integrations
from integrations.fakes.clock import Clock
from integrations.models import Connection, ExternalRef
from integrations.simulate.tools import Participant

POLL_EVERY = datetime.timedelta(minutes=5)  # the day's safety-net poll of the books (CDC)
INVOICE_PER_STEP = 4  # shipped orders the back office invoices at a step, at most
WHOLESALE_UNITS = (4, 8)  # a wholesale order: a case of one product
WHOLESALE_MARGIN = 10  # units a case leaves on the wholesale warehouse's shelf at least
WHOLESALE_STOCK = 60  # of each product, in the wholesale warehouse in the morning
WHOLESALE_COST = Decimal("10.00")  # what the supplier charges a unit (60 a product: no approval needed)
WHOLESALE_CHANCE = 0.2  # of a wholesale order at a step
BILL_PAY_CHANCE = 0.3  # of a bill paid at a step
VOID_CHANCE = 0.2  # at a step, of the day's one void (once an invoice can be voided)
CARD = "card"  # how a channel's customer paid at checkout


class BooksTool(Participant):
    """An accounting tool in the day: its fake, its connection, its accountant, its end check."""

    # What the day polls of it (QuickBooks: "payment", its CDC): a safety net under its webhooks.
    polled: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.poll_every = POLL_EVERY
        self.summary: dict[str, Any] = {}  # what the end check counted, for the report

    @abc.abstractmethod
    def setup(self, *, tag: str, served_at: str | None) -> Connection:
        """The connection (its accounts, tax codes and payment methods mapped), subscribed to the
        fake's webhooks."""

    @abc.abstractmethod
    def expire_tokens(self) -> None:
        """Every access token the tool issued expires now (the hub must refresh and carry on)."""

    @abc.abstractmethod
    def work(self, office: BackOffice) -> None:
        """The accountant's doings in the tool at a step (see the module doc)."""

    @abc.abstractmethod
    def differences(self) -> list[dict[str, Any]]:
        """Where the tool and the hub disagree at the end of the day (drift items); fills ``summary``."""

    def polls(self, *, safety_poll: bool) -> tuple[str, ...]:
        """The object types the day polls of the tool."""
        return self.polled if safety_poll else ()

    def external_id(self, object_type: str, obj: Any) -> str | None:
        """The tool's id of one of our records the hub pushed there (None: not there yet)."""
        assert self.connection is not None
        return (
            ExternalRef.objects.filter(
                connection=self.connection,
                object_type=object_type,
                content_type__app_label=obj._meta.app_label,
                content_type__model=obj._meta.model_name,
                object_id=obj.pk,
            )
            .exclude(external_id="")
            .values_list("external_id", flat=True)
            .first()
        )

    def drift_item(self, data: str, key: str, kind: str, hub: Any, tool: Any) -> dict[str, Any]:
        """One disagreement of the tool and the hub, as the day's report lists it."""
        return {
            "tool": self.key,
            "data": data,
            "key": key,
            "kind": kind,
            "hub": str(hub),
            "tool_value": str(tool),
        }


class BackOffice:
    """The business's invoicing, wholesale and purchasing ledger work here during the day."""

    def __init__(self, *, books: Mapping[str, BooksTool], clock: Clock, rng: random.Random) -> None:
        self.books = books
        self.clock = clock
        self.rng = rng
        self.actions: Counter[str] = Counter()
        self.channels: list[int] = []  # the day's channels whose shipped orders are invoiced here
        self.wholesale: Any = None  # the wholesale channel
        self.customer: Any = None  # its customer, on Net 30
        self.warehouse: Any = None
        self.supplier: Any = None
        self.skus: list[str] = []  # what the wholesale customer buys: the day's products
        self.paid_in_tool: set[int] = set()  # our invoices the accountant recorded a payment of
        self.memo_edited: set[int] = set()  # our invoices whose memo the accountant edited
        self.voided: int | None = None  # the invoice voided here (once a day)

    def open(self, *, tag: str, warehouse: Any, supplier: Any, channels: list[int], skus: list[str]) -> None:
        """The morning: the wholesale channel and its customer, on Net 30 terms; ``channels`` are the
        day's sales channels, ``supplier`` the day's supplier. Wholesale ships from a warehouse of
        its own, stocked now (``WHOLESALE_STOCK`` of each product): its cases never take the units
        the channels show as available (the day's stock checks stay theirs). It is bought from the
        day's supplier, one purchase order a product, received at once: billed at the first step."""
        from inventory.models import Product
        from inventory.services import warehouse_create
        from procurement.services import POLineSpec, ReceiveLine, po_create, po_send, receipt_create
        from sales.models import ChannelKind, PaymentTerms
        from sales.services import channel_create, customer_create

        self.supplier, self.skus = supplier, sorted(skus)
        self.warehouse = warehouse_create(code=f"WHS-{tag}"[:20], name=f"Wholesale stock {tag}")
        for product in Product.objects.filter(sku__in=self.skus).order_by("sku"):
            po = po_create(
                supplier=supplier,
                warehouse=self.warehouse,
                lines=[POLineSpec(product=product, quantity=WHOLESALE_STOCK, unit_cost=WHOLESALE_COST)],
            )
            po = po_send(po=po)
            receipt_create(po=po, lines=[ReceiveLine(line=ln, quantity=ln.quantity) for ln in po.lines.all()])
        self.wholesale = channel_create(
            code=f"sim-wholesale-{tag}",
            name=f"Wholesale {tag}",
            warehouse=self.warehouse,
            kind=ChannelKind.WHOLESALE,
        )
        self.channels = [*channels, self.wholesale.pk]
        self.customer = customer_create(
            name=f"Simulated Outfitters Wholesale {tag}",
            email=f"ap-{tag}@wholesale.example.com",
            payment_terms=PaymentTerms.NET_30,
        )

    # --- a step --------------------------------------------------------------------------------------

    def step(self) -> None:
        """The back office's work, then each books tool's faults and its accountant's."""
        rng = self.rng
        if rng.random() < WHOLESALE_CHANCE:
            self._sell_wholesale()
        self._invoice_shipped(limit=INVOICE_PER_STEP)
        self._bill_received()
        if rng.random() < BILL_PAY_CHANCE:
            self._pay_a_bill()
        if self.voided is None and rng.random() < VOID_CHANCE:
            self._void_one()
        for books in self.books.values():
            books.inject()
            books.work(self)

    def catch_up(self) -> None:
        """The evening: whatever shipped or was received since is invoiced or billed; the day's
        void, and a bill's payment, happen if they have not yet."""
        self._invoice_shipped(limit=None)
        self._bill_received()
        if not self.actions["bills_paid_here"]:  # one bill at least is paid before the day closes
            self._pay_a_bill()
        if self.voided is None:
            self._void_one()

    # --- invoicing ------------------------------------------------------------------------------------

    def _invoice_shipped(self, *, limit: int | None) -> None:
        """Invoice what shipped of the day's orders and is not invoiced yet; a channel's order was
        paid at checkout: its payment is recorded now."""
        from sales.models import OrderLine, SalesOrder
        from sales.services import invoice_create, invoice_issue, payment_record
        from sales.services.billing import INVOICEABLE

        waiting = list(
            OrderLine.objects.filter(
                order__channel_id__in=self.channels,
                order__status__in=INVOICEABLE,
                quantity_shipped__gt=F("quantity_invoiced"),
            )
            .values_list("order_id", flat=True)
            .distinct()
            .order_by("order_id")
        )
        for order in (
            SalesOrder.objects.filter(pk__in=waiting[:limit]).select_related("channel").order_by("pk")
        ):
            invoice = invoice_issue(invoice=invoice_create(order=order))
            self.actions["invoiced_here"] += 1
            if order.channel_id != self.wholesale.pk and invoice.balance > 0:
                payment_record(invoice=invoice, amount=invoice.balance, method=CARD, reference=order.number)
                self.actions["paid_at_checkout"] += 1

    def _sell_wholesale(self) -> None:
        """The wholesale customer orders a case of what the warehouse has most of (never the last
        units: the channels sell those); the order is confirmed, shipped and invoiced (left open:
        Net 30)."""
        from inventory import availability
        from inventory.models import Product
        from sales.services import (
            LineSpec,
            invoice_create,
            invoice_issue,
            order_confirm,
            order_create,
            shipment_create,
        )

        products = list(Product.objects.filter(sku__in=self.skus).order_by("sku"))
        levels = availability.by_warehouse([p.pk for p in products], self.warehouse.pk)
        stocked = [
            (levels[(p.pk, self.warehouse.pk)].available, p)
            for p in products
            if (p.pk, self.warehouse.pk) in levels
        ]
        quantity = self.rng.randint(*WHOLESALE_UNITS)
        most = max(stocked, key=lambda row: row[0], default=None)
        if most is None or most[0] < quantity + WHOLESALE_MARGIN:
            self.actions["wholesale_skipped_low_stock"] += 1
            return
        product = most[1]
        order = order_create(
            channel=self.wholesale,
            customer=self.customer,
            lines=[LineSpec(product=product, quantity=quantity)],
            external_reference=f"PO-W{self.actions['wholesale_orders'] + 1:04d}",
        )
        order = order_confirm(order=order)
        shipment_create(order=order, carrier="UPS Freight", tracking_number=f"1ZWHS{order.pk:010d}")
        invoice = invoice_issue(invoice=invoice_create(order=order))
        self.actions["wholesale_orders"] += 1
        self.actions["wholesale_invoiced_open"] += invoice.balance > 0

    def open_wholesale(self) -> list[Any]:
        """The wholesale invoices still open here, oldest first, but the one being voided."""
        from sales.models import Invoice, InvoiceKind, InvoiceStatus

        return list(
            Invoice.objects.filter(
                order__channel=self.wholesale,
                kind=InvoiceKind.INVOICE,
                status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
            ).order_by("pk")
        )

    def _void_one(self) -> None:
        """Void an issued wholesale invoice nobody paid, here or in the books, that every books tool
        has (one whose memo the accountant edited first, if any): it must be voided there too."""
        from sales.services import invoice_void

        candidates = [
            inv
            for inv in self.open_wholesale()
            if inv.amount_paid == 0
            and inv.pk not in self.paid_in_tool
            and all(b.external_id("invoice", inv) for b in self.books.values())
        ]
        if not candidates:
            return
        edited = [inv for inv in candidates if inv.pk in self.memo_edited]
        chosen = (edited or candidates)[0]
        invoice_void(invoice=chosen, reason="wrong quantity billed: invoiced again")
        self.voided = chosen.pk
        self.actions["voided_here"] += 1

    # --- purchasing ledger ----------------------------------------------------------------------------

    def _bill_received(self) -> None:
        """The supplier's bill of what was received and not billed yet, per purchase order, at the
        ordered price (the three-way match holds: the bill is open for payment)."""
        from procurement.models import PurchaseOrderLine
        from procurement.services import BillLineSpec, bill_record

        lines = list(
            PurchaseOrderLine.objects.filter(
                order__supplier=self.supplier, quantity_received__gt=F("quantity_billed")
            )
            .select_related("order")
            .order_by("order_id", "pk")
        )
        by_order: dict[int, list[Any]] = {}
        for line in lines:
            by_order.setdefault(line.order_id, []).append(line)
        for order_lines in by_order.values():
            po = order_lines[0].order
            self.actions["bills_recorded_here"] += 1
            bill_record(
                po=po,
                supplier_reference=f"{self.supplier.code}-{po.number}-{self.actions['bills_recorded_here']}",
                lines=[
                    BillLineSpec(
                        line=ln, quantity=ln.quantity_received - ln.quantity_billed, unit_cost=ln.unit_cost
                    )
                    for ln in order_lines
                ],
            )

    def _pay_a_bill(self) -> None:
        """Pay the oldest open bill, in full or half of what is left."""
        from procurement.models import Bill, BillStatus
        from procurement.services import supplier_payment_record

        bill = (
            Bill.objects.filter(
                supplier=self.supplier, status__in=[BillStatus.OPEN, BillStatus.PARTIALLY_PAID]
            )
            .order_by("pk")
            .first()
        )
        if bill is None:
            return
        amount = bill.balance if self.rng.random() < 0.6 else (bill.balance / 2).quantize(Decimal("0.01"))
        supplier_payment_record(bill=bill, amount=amount, method="ach", reference=f"ACH-{bill.number}")
        self.actions["bills_paid_here"] += 1


def available() -> dict[str, type[BooksTool]]:
    """Tool key -> its part in the day, for every connector package whose ``day.py`` has ``Books``
    (accounting) or ``Crm`` (a CRM: a back-office tool too, polled, worked in by a person and
    checked at the end, though it keeps customers and deals rather than books)."""
    found: dict[str, type[BooksTool]] = {}
    root = Path(integrations.__file__).parent
    for module in pkgutil.iter_modules([str(root)]):
        if module.ispkg and (root / module.name / "day.py").exists():
            day = importlib.import_module(f"integrations.{module.name}.day")
            for name in ("Books", "Crm"):
                tool = getattr(day, name, None)
                if isinstance(tool, type) and issubclass(tool, BooksTool):
                    found[tool.key] = tool
    return found
