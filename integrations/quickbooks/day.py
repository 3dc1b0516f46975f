"""QuickBooks Online's part in the simulated day: the books the back office's invoices, payments,
credit notes and bills go to, and an accountant working in them.

The fake QuickBooks holds the samples' company (``REALM_ID``) with its chart of accounts; the
connection signs in with tokens the fake issued (the access token lasts an hour, the refresh token
rotates on every refresh: the hub must keep the newest) and maps the accounts (income, COGS,
receivables, payables, bank), the taxes (each tax of ours to QuickBooks' ``TAX``, no tax to
``NON``) and the card the channels' customers paid with. QuickBooks sends every company's webhooks
to the app's one address (``/integrations/hooks/app/quickbooks/``), alternately in the legacy
``eventNotifications`` body and the CloudEvents array; the day's CDC poll of payments catches
those that were dropped.

The accountant, at each step, may record a payment of an open wholesale invoice (in full or in
part, by check) and edit the memo (``CustomerMemo``) of a pushed invoice, a sparse update that moves
its SyncToken on and sends an ``Update`` webhook. A tax of ours the hub asks for ("map tax code")
is mapped as soon as it waits. The day's faults reach the API (429 and 5xx bursts, timeouts, some
after QuickBooks made the record, slow answers) but not the token endpoint.

At the end (``differences``) every invoice, credit note, payment, refund (a check, and the payment
of nothing that uses the credit memo up against it), bill and bill payment of the day is in
QuickBooks once with our amounts; an invoice voided here is voided there; what was paid of each
invoice and bill is the same on both sides; open receivables agree per customer (the invoices'
``Balance`` and ``Customer.Balance``) and in total, and open payables per vendor and in total, to
the cent. A record there that none of ours is linked to is a duplicate (or, for a payment, one the
hub never recorded here).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django.utils import timezone

from integrations import mappings
from integrations.connections import connection_create
from integrations.models import Connection, ExternalRef
from integrations.quickbooks.client import ACCOUNT, PAYMENT_METHOD, TAX_CODE
from integrations.quickbooks.connector import QuickBooksConnector
from integrations.quickbooks.fake import CLIENT_ID, CLIENT_SECRET, REALM_ID, VERIFIER_TOKEN, FakeQuickBooks
from integrations.quickbooks.fake_data import AP_ACCOUNT_ID, AR_ACCOUNT_ID
from integrations.simulate.books import CARD, BackOffice, BooksTool
from integrations.simulate.pace import SCALE

API, OAUTH = "https://quickbooks.api.intuit.com", "https://oauth.platform.intuit.com"
HOOK = "https://erp.example.com/integrations/hooks/app/quickbooks/"
FORMATS = ("legacy", "cloudevents")
# the company's chart: account role -> its account (Sales of Product Income, Cost of Goods Sold,
# A/R, A/P, Checking); our card -> Visa
ACCOUNTS = {
    "income": "79",
    "cogs": "80",
    "receivables": AR_ACCOUNT_ID,
    "payables": AP_ACCOUNT_ID,
    "bank": "35",
}
METHODS = {CARD: "3"}
CHECK = "2"  # how the wholesale customer pays
# what the day's API faults aim at (never the token endpoint: a refresh the fake answered with a
# fault would have rotated the refresh token already); lost answers only after a create
AIMED = ("POST invoice", "POST payment", "POST customer", "POST item", "POST bill", "GET payment", "GET cdc")
CREATES = ("POST invoice", "POST payment", "POST customer", "POST bill", "POST creditmemo")
PAY_CHANCE, MEMO_CHANCE = 0.3, 0.15
CENT = Decimal("0.01")


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


class Books(BooksTool):
    key: ClassVar[str] = "quickbooks"
    origin: ClassVar[str] = API
    more_origins: ClassVar[tuple[str, ...]] = (OAUTH,)
    polled: ClassVar[tuple[str, ...]] = ("payment",)  # CDC

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        clock = self.clock
        self._fake = FakeQuickBooks(clock=clock, monotonic=clock.monotonic)
        self._fake.rotate_after = 0  # every refresh gives a new refresh token
        self._step = 0

    @property
    def fake(self) -> FakeQuickBooks:
        return self._fake

    def token_refreshes(self) -> int:
        return sum(c.grant_type == "refresh_token" and c.status == 200 for c in self._fake.token_calls)

    # --- the morning ------------------------------------------------------------------------------

    def setup(self, *, tag: str, served_at: str | None) -> Connection:
        fake = self._fake
        fake.set_webhook_endpoint(HOOK, webhook_format=FORMATS[0])
        settings: dict[str, Any] = {"realm_id": REALM_ID}
        if served_at:
            settings["base_url"] = f"{served_at}/v3"
            fake.window_seconds = 60.0 / SCALE  # its 500 a minute pass as fast as the day
        granted = fake.issue_tokens()
        self.connection = connection = connection_create(
            connector=self.key,
            name=f"Simulated books {tag}",
            settings=settings,
            secrets={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "verifier_token": VERIFIER_TOKEN,
                "access_token": granted["access_token"],
                "refresh_token": granted["refresh_token"],
            },
        )
        connection.token_expires_at = timezone.now() + datetime.timedelta(seconds=int(granted["expires_in"]))
        connection.save(update_fields=["token_expires_at"])
        self._map(ACCOUNT, ACCOUNTS)
        self._map(PAYMENT_METHOD, METHODS)
        self._map_taxes(value for value, _ in mappings.our_choices(mappings.kind_of(connection, TAX_CODE)))
        return connection

    def _map(self, kind: str, values: Mapping[str, str]) -> None:
        """Our values of ``kind`` mapped to the company's, as a person picks them from its lists."""
        assert self.connection is not None
        entity = {ACCOUNT: "Account", TAX_CODE: "TaxCode", PAYMENT_METHOD: "PaymentMethod"}[kind]
        offered = mappings.ToolChoices(
            [(row["Id"], str(row.get("Name", ""))) for row in self._fake.objects(entity)]
        )
        for ours, theirs in values.items():
            mappings.mapping_set(
                connection=self.connection, kind=kind, our_value=ours, tool_value=theirs, choices=offered
            )

    def _map_taxes(self, taxes: Iterable[str]) -> None:
        """Each of our taxes to QuickBooks' TAX (a US company's taxable line; our tax is the invoice's
        total tax), no tax to NON."""
        self._map(TAX_CODE, {tax: "NON" if tax == mappings.NO_TAX else "TAX" for tax in taxes})

    # --- faults -------------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self._fake.expire_tokens()
        self.api_faults["tokens_expired"] += 1

    def inject_api_faults(self) -> None:
        faults, rng, fake = self.faults, self.rng, self._fake
        if rng.random() < faults.throttle:
            fake.throttle_next(rng.randint(1, 4), match=rng.choice(AIMED))
            self.api_faults["429_burst"] += 1
        if rng.random() < faults.error:
            fake.fail_next(rng.randint(1, 3), status=rng.choice((500, 502, 503)), match=rng.choice(AIMED))
            self.api_faults["5xx_burst"] += 1
        if rng.random() < faults.timeout:
            lost = rng.random() < 0.5  # QuickBooks made the record; the answer never came
            fake.timeout_next(1, match=rng.choice(CREATES), processed=lost)
            self.api_faults["timeout_after_create" if lost else "timeout"] += 1
        if rng.random() < faults.slow:
            fake.slow_next(1, seconds=float(rng.randint(2, 8)), match=rng.choice(AIMED))
            self.api_faults["slow"] += 1

    # --- the accountant -------------------------------------------------------------------------

    def work(self, office: BackOffice) -> None:
        self._step += 1
        self._fake.set_webhook_endpoint(HOOK, webhook_format=FORMATS[self._step % 2])
        self._map_what_waits()
        if self.rng.random() < PAY_CHANCE:
            self._record_payment(office)
        if self.rng.random() < MEMO_CHANCE:
            self._edit_memo(office)

    def _map_what_waits(self) -> None:
        """The taxes the hub's deliveries wait for ("map tax code"), mapped as a person would."""
        assert self.connection is not None
        kinds = mappings.kinds_waited_for(self.connection)
        waiting = [
            w.value
            for w in mappings.waiting_deliveries(self.connection)
            if w.kind in kinds and kinds[w.kind].key == TAX_CODE
        ]
        if waiting:
            self._map_taxes(waiting)
            self.actions["taxes_mapped_when_asked"] += len(waiting)

    def _pushed(self, invoices: Iterable[Any]) -> list[tuple[Any, str]]:
        return [(inv, tool_id) for inv in invoices if (tool_id := self.external_id("invoice", inv))]

    def _record_payment(self, office: BackOffice) -> None:
        """A check of the wholesale customer for an open invoice, recorded in QuickBooks: all that
        QuickBooks says is left, or half of it."""
        rng, fake = self.rng, self._fake
        open_there = []
        # Net 30: the customer's newest invoice is not due yet (and stays for the back office to void)
        for invoice, tool_id in self._pushed(office.open_wholesale()[:-1]):
            there = fake.get("Invoice", tool_id)
            if there is not None and _money(there.get("Balance")) > 0:
                open_there.append((invoice, tool_id, _money(there["Balance"])))
        if not open_there:
            return
        invoice, tool_id, balance = rng.choice(open_there)
        whole = rng.random() < 0.6 or balance < 2
        amount = balance if whole else (balance / 2).quantize(CENT)
        office.paid_in_tool.add(invoice.pk)  # the back office no longer voids it
        fake.record_payment_in_qbo(
            tool_id,
            float(amount),
            PaymentMethodRef={"value": CHECK},
            PaymentRefNum=f"CHK{self._step:05d}",
        )
        self.actions["paid_there" if whole else "paid_partly_there"] += 1

    def _edit_memo(self, office: BackOffice) -> None:
        """The accountant writes a message on a pushed invoice (an open wholesale one mostly)."""
        from sales.models import Invoice, InvoiceKind, InvoiceStatus

        pool = self._pushed(office.open_wholesale())
        if not pool or self.rng.random() < 0.3:
            recent = Invoice.objects.filter(kind=InvoiceKind.INVOICE).exclude(status=InvoiceStatus.VOID)
            pool = self._pushed(recent.order_by("-pk")[:20])
        if not pool:
            return
        invoice, tool_id = self.rng.choice(pool)
        self._fake.edit_invoice_in_qbo(
            tool_id, CustomerMemo={"value": f"Thank you for your business ({self._step})"}
        )
        office.memo_edited.add(invoice.pk)
        self.actions["memo_edited_there"] += 1

    # --- the end of the day --------------------------------------------------------------------------

    def differences(self) -> list[dict[str, Any]]:
        assert self.connection is not None
        company = self._fake.snapshot(REALM_ID)["realms"][REALM_ID]
        there: dict[str, dict[str, Any]] = company["entities"]
        voided = set(company["voided"].get("Invoice", []))
        refs = _refs(self.connection)
        found: list[dict[str, Any]] = []

        def drift(data: str, key: str, kind: str, hub: Any, tool: Any) -> None:
            found.append(self.drift_item(data, key, kind, hub, tool))

        linked = self._documents(there, voided, refs, drift)
        linked |= self._payments(there, refs, drift)
        linked |= self._refunds(there, refs, drift)
        linked |= self._bills(there, refs, drift)
        for entity in ("Invoice", "CreditMemo", "Payment", "Purchase", "Bill", "BillPayment"):
            for tool_id, row in there.get(entity, {}).items():
                if (entity, tool_id) in linked:
                    continue
                made_by_us = str(row.get("PrivateNote") or "").startswith(("ERP ", "BILL-"))
                if entity == "Purchase" and not made_by_us:
                    continue  # the company's own expenses
                kind = "duplicate_there" if made_by_us or entity != "Payment" else "missing_here"
                drift(entity.lower(), tool_id, kind, None, _money(row.get("TotalAmt")))
        self._receivables(there, company, drift)
        self._payables(there, company, drift)
        return found

    def _documents(
        self, there: Mapping[str, Any], voided: set[str], refs: Mapping[tuple[str, int], str], drift: Any
    ) -> set[tuple[str, str]]:
        """Invoices and credit notes: there once, our total, voided alike, paid alike."""
        from sales.models import Invoice, InvoiceKind, InvoiceStatus

        linked: set[tuple[str, str]] = set()
        documents = Invoice.objects.exclude(status=InvoiceStatus.DRAFT).exclude(number="").order_by("pk")
        for doc in documents:
            entity = "CreditMemo" if doc.kind == InvoiceKind.CREDIT_NOTE else "Invoice"
            data = entity.lower()
            tool_id = refs.get(("invoice", doc.pk))
            row = there.get(entity, {}).get(tool_id) if tool_id else None
            self.summary[f"{data}s"] = self.summary.get(f"{data}s", 0) + 1
            if tool_id is None or row is None:
                drift(data, doc.number, "missing_there", doc.total, tool_id)
                continue
            linked.add((entity, tool_id))
            voided_here, voided_there = doc.status == InvoiceStatus.VOID, tool_id in voided
            if voided_here != voided_there:
                drift(data, doc.number, "voided", voided_here, voided_there)
                continue
            if voided_here:
                continue
            if _money(row.get("TotalAmt")) != doc.total:
                drift(data, doc.number, "total", doc.total, _money(row.get("TotalAmt")))
            if entity == "Invoice":
                paid_there = _money(row.get("TotalAmt")) - _money(row.get("Balance"))
                if paid_there != doc.amount_paid:
                    drift(data, doc.number, "paid", doc.amount_paid, paid_there)
        return linked

    def _payments(
        self, there: Mapping[str, Any], refs: Mapping[tuple[str, int], str], drift: Any
    ) -> set[tuple[str, str]]:
        """Every payment of ours (pushed, or the accountant's recorded here) there once, with our
        amount, applied to the invoice it pays here."""
        from sales.models import Payment

        linked: set[tuple[str, str]] = set()
        for payment in Payment.objects.select_related("invoice").order_by("pk"):
            key = f"payment-{payment.pk} ({payment.invoice.number})"
            tool_id = refs.get(("payment", payment.pk))
            row = there.get("Payment", {}).get(tool_id) if tool_id else None
            self.summary["payments"] = self.summary.get("payments", 0) + 1
            if tool_id is None or row is None:
                drift("payment", key, "missing_there", payment.amount, tool_id)
                continue
            linked.add(("Payment", tool_id))
            if _money(row.get("TotalAmt")) != payment.amount:
                drift("payment", key, "amount", payment.amount, _money(row.get("TotalAmt")))
            applied_to = {
                str(t["TxnId"]) for line in row.get("Line") or () for t in line.get("LinkedTxn") or ()
            }
            invoice_there = refs.get(("invoice", payment.invoice_id))
            if invoice_there not in applied_to:
                drift("payment", key, "applied_to", invoice_there, ", ".join(sorted(applied_to)))
        return linked

    def _refunds(
        self, there: Mapping[str, Any], refs: Mapping[tuple[str, int], str], drift: Any
    ) -> set[tuple[str, str]]:
        """Every refund of ours there once: a check of our amount, and a payment of nothing that
        applies the credit memo against it."""
        from sales.models import Refund

        linked: set[tuple[str, str]] = set()
        applying = {
            str(link["TxnId"]): tool_id
            for tool_id, row in there.get("Payment", {}).items()
            for line in row.get("Line") or ()
            for link in line.get("LinkedTxn") or ()
            if link.get("TxnType") == "Expense"
        }
        for refund in Refund.objects.select_related("credit_note").order_by("pk"):
            key = f"refund-{refund.pk} ({refund.credit_note.number})"
            tool_id = refs.get(("refund", refund.pk))
            row = there.get("Purchase", {}).get(tool_id) if tool_id else None
            self.summary["refunds"] = self.summary.get("refunds", 0) + 1
            if tool_id is None or row is None:
                drift("refund", key, "missing_there", refund.amount, tool_id)
                continue
            linked.add(("Purchase", tool_id))
            if _money(row.get("TotalAmt")) != refund.amount:
                drift("refund", key, "amount", refund.amount, _money(row.get("TotalAmt")))
            if tool_id in applying:
                linked.add(("Payment", applying[tool_id]))
            else:
                drift("refund", key, "credit_not_applied", refund.credit_note.number, None)
        return linked

    def _bills(
        self, there: Mapping[str, Any], refs: Mapping[tuple[str, int], str], drift: Any
    ) -> set[tuple[str, str]]:
        """Every bill the books take (matched, or approved) there once with our total and what was
        paid of it, and every payment of ours to the supplier with our amount, against its bill."""
        from integrations.outbound_accounting import ACCEPTED
        from procurement.models import Bill, SupplierPayment

        linked: set[tuple[str, str]] = set()
        for payment in SupplierPayment.objects.select_related("bill").order_by("pk"):
            key = f"supplier-payment-{payment.pk} ({payment.bill.number})"
            tool_id = refs.get(("bill_payment", payment.pk))
            row = there.get("BillPayment", {}).get(tool_id) if tool_id else None
            self.summary["bill_payments"] = self.summary.get("bill_payments", 0) + 1
            if tool_id is None or row is None:
                drift("bill_payment", key, "missing_there", payment.amount, tool_id)
                continue
            linked.add(("BillPayment", tool_id))
            if _money(row.get("TotalAmt")) != payment.amount:
                drift("bill_payment", key, "amount", payment.amount, _money(row.get("TotalAmt")))
        for bill in Bill.objects.filter(status__in=ACCEPTED).order_by("pk"):
            tool_id = refs.get(("bill", bill.pk))
            row = there.get("Bill", {}).get(tool_id) if tool_id else None
            self.summary["bills"] = self.summary.get("bills", 0) + 1
            if tool_id is None or row is None:
                drift("bill", bill.number, "missing_there", bill.total, tool_id)
                continue
            linked.add(("Bill", tool_id))
            if _money(row.get("TotalAmt")) != bill.total:
                drift("bill", bill.number, "total", bill.total, _money(row.get("TotalAmt")))
            paid_there = _money(row.get("TotalAmt")) - _money(row.get("Balance"))
            if paid_there != bill.amount_paid:
                drift("bill", bill.number, "paid", bill.amount_paid, paid_there)
        return linked

    def _receivables(self, there: Mapping[str, Any], company: Mapping[str, Any], drift: Any) -> None:
        """Open receivables per QuickBooks customer and in total: ours are the open balances of the
        issued invoices; QuickBooks' the invoices' ``Balance``, and ``Customer.Balance`` (less the
        credit the credit memos leave: all of each, as long as refunds stay here)."""
        from sales.models import Invoice, InvoiceKind, InvoiceStatus

        assert self.connection is not None
        customers = _refs(self.connection, "customer")
        refunds_pushed = "sales.refund_recorded" in QuickBooksConnector.topics
        owed: dict[str, Decimal] = defaultdict(Decimal)
        credit: dict[str, Decimal] = defaultdict(Decimal)
        issued = Invoice.objects.exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID]).exclude(
            number=""
        )
        for doc in issued:
            customer = customers.get(("customer", doc.customer_id), f"ours {doc.customer_id}")
            if doc.kind == InvoiceKind.INVOICE:
                owed[customer] += doc.balance
            else:
                credit[customer] += doc.balance if refunds_pushed else doc.total
        owed_there: dict[str, Decimal] = defaultdict(Decimal)
        for row in there.get("Invoice", {}).values():
            owed_there[str(row["CustomerRef"]["value"])] += _money(row.get("Balance"))
        for customer in sorted(set(owed) | set(owed_there)):
            if owed[customer] != owed_there[customer]:
                drift("receivables", customer, "invoices_open", owed[customer], owed_there[customer])
            balance = there.get("Customer", {}).get(customer, {}).get("Balance")
            if balance is not None and owed[customer] - credit[customer] != _money(balance):
                drift("receivables", customer, "customer_balance", owed[customer] - credit[customer], balance)
        ours, theirs = _money(sum(owed.values(), Decimal(0))), _money(company["open_receivables"])
        if ours != theirs:
            drift("receivables", "total", "open_receivables", ours, theirs)
        self.summary |= {
            "open_receivables_here": str(ours),
            "open_receivables_there": str(theirs),
            "paid_in_quickbooks": self.actions["paid_there"] + self.actions["paid_partly_there"],
        }

    def _payables(self, there: Mapping[str, Any], company: Mapping[str, Any], drift: Any) -> None:
        """Open payables per QuickBooks vendor (``Vendor.Balance``) and in total: ours are what is
        left to pay of the bills the books take."""
        from integrations.outbound_accounting import ACCEPTED
        from procurement.models import Bill

        assert self.connection is not None
        vendors = _refs(self.connection, "vendor")
        owing: dict[str, Decimal] = defaultdict(Decimal)
        for bill in Bill.objects.filter(status__in=ACCEPTED):
            owing[vendors.get(("vendor", bill.supplier_id), f"ours {bill.supplier_id}")] += bill.balance
        for vendor in sorted(
            set(owing) | {v for v, row in there.get("Vendor", {}).items() if row.get("Balance")}
        ):
            balance = _money(there.get("Vendor", {}).get(vendor, {}).get("Balance"))
            if owing[vendor] != balance:
                drift("payables", vendor, "vendor_balance", owing[vendor], balance)
        ours, theirs = _money(sum(owing.values(), Decimal(0))), _money(company["open_payables"])
        if ours != theirs:
            drift("payables", "total", "open_payables", ours, theirs)
        self.summary |= {"open_payables_here": str(ours), "open_payables_there": str(theirs)}


def _refs(connection: Connection, *object_types: str) -> dict[tuple[str, int], str]:
    """(object type, our id) -> QuickBooks' id of what the hub linked on the connection."""
    rows = ExternalRef.objects.filter(connection=connection).exclude(object_id=0).exclude(external_id="")
    if object_types:
        rows = rows.filter(object_type__in=object_types)
    return {(t, pk): ext for t, pk, ext in rows.values_list("object_type", "object_id", "external_id")}
