"""QuickBooks Online (Accounting API v3, minor version 75): the books follow operations.

Wire format notes: ``samples/FORMAT.md``, beside the samples; the fake is ``fake.py``.

* ``https://quickbooks.api.intuit.com/v3/company/{realmId}/...`` (sandbox:
  ``sandbox-quickbooks.api.intuit.com``; ``base_url`` replaces the ``.../v3`` root, for a local
  fake), ``?minorversion=`` on every call, ``Authorization: Bearer <access token>``.
* OAuth 2.0 (``auth.OAUTH``): "Connect to QuickBooks Online" sends the person to Intuit's consent
  page; the callback names the company (``realmId``), which becomes the ``realm_id`` setting. The
  access token lasts an hour and the hub renews it (``refresh_token``); the refresh token rotates
  and the newest one is stored as it arrives, with its expiry (``x_refresh_token_expires_in``).
* Out, in the hub's dependency order: Customer, Item (NonInventory, on the mapped income account),
  Vendor, Invoice (and CreditMemo; terms, and a class on each line or a location on the
  transaction where the company tracks sales by one), Payment (applied to its invoice by
  ``LinkedTxn``), a refund (a check to the customer on A/R, then a payment of nothing that uses
  the credit memo up against it, as Intuit's guide does), Bill (``AccountBasedExpenseLineDetail``
  lines on the mapped COGS account) and BillPayment (by check, or on the credit card's account).
  Every create carries ``requestid`` (from the delivery's idempotency key): a retry after a lost
  answer gets the first answer, and nothing is made twice. Fault 6240 (the name exists) finds the
  customer, vendor or item by a query and links ours to it. Updates are sparse with the SyncToken
  we hold (the ref's version); fault 5010 says it is stale: the hub re-reads it (``read_version``)
  and retries once.
* Faults (the ``Fault`` envelope and the lowercase 401/403 one) read as QuickBooks' own words.
* Webhooks come to the app's one address (``app_webhooks``), signed ``intuit-signature``, in the
  legacy ``eventNotifications`` body or the CloudEvents array: one event per entity change, routed
  by its realmId. A Payment event is read (``fetch``) and becomes a ``PaymentRecord`` applied to our
  invoices. CDC (``GET /cdc``) is polled as object type "payment": a missed webhook is caught.
* 500 requests a minute and 10 at once per company (``rate_buckets``); a 429 waits a while (no
  Retry-After is sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations import mappings, registry
from integrations.contract import (
    Bucket,
    Capability,
    MappingKind,
    PushContext,
    PushResult,
)
from integrations.errors import AlreadyExists, PermanentError, StaleVersion
from integrations.quickbooks import mapping
from integrations.quickbooks.auth import OAUTH, QuickBooksSecrets
from integrations.quickbooks.client import (
    ACCOUNT,
    CONCURRENCY,
    ENTITY,
    NAMED,
    PAYMENT,
    PAYMENT_METHOD,
    RATE_LIMIT,
    TAX_CODE,
    TERM,
    QuickBooksSettings,
)
from integrations.quickbooks.inbound import QuickBooksInbound
from integrations.quickbooks.journal import journal_body
from integrations.records import (
    BillOut,
    BillPaymentOut,
    CustomerOut,
    InventoryJournalOut,
    InvoiceOut,
    ItemOut,
    OutboundItem,
    PaymentOut,
    VendorOut,
)

CLASS, LOCATION = "class", "location"
NUMBERED = ("Invoice", "CreditMemo")  # our numbers, unique there too: 6140 when taken
TRACKED = {CLASS: "Class", LOCATION: "Department"}  # mapping kind -> the company's list of it
RECEIVABLE = "Accounts Receivable"  # QuickBooks' AccountType of A/R


@registry.register
class QuickBooksConnector(QuickBooksInbound):
    key = "quickbooks"
    name = "QuickBooks Online"
    channel_kind = "accounting"
    capabilities = frozenset(
        {
            Capability.CUSTOMERS_OUT,
            Capability.ITEMS_OUT,
            Capability.INVOICES_OUT,
            Capability.PAYMENTS_OUT,
            Capability.PAYMENTS_IN,
            Capability.VENDORS_OUT,
            Capability.BILLS_OUT,
            Capability.BILL_PAYMENTS_OUT,
            Capability.INVENTORY_JOURNAL_OUT,
        }
    )
    settings_schema = QuickBooksSettings
    secrets_schema = QuickBooksSecrets
    topics = (
        "sales.customer_created",
        "sales.customer_updated",
        "inventory.product_created",
        "inventory.product_updated",
        "sales.invoice_issued",
        "sales.credit_note_issued",
        "sales.invoice_voided",
        "sales.payment_received",
        "sales.refund_recorded",
        "procurement.supplier_created",
        "procurement.supplier_updated",
        "procurement.bill_recorded",
        "procurement.bill_approved",
        "procurement.supplier_payment_recorded",
        "inventory.day_closed",
    )
    poll_object_types = (PAYMENT,)  # CDC: the safety net under the webhooks
    reconcile_object_types = (
        "customer",
        "invoice",
        "payment",
        "refund",
        "bill",
        "bill_payment",
        "customer_balance",
        "vendor_balance",
    )
    app_webhooks = True
    webhook_headers = frozenset({"intuit-signature", "intuit-t-id"})
    rate_limit_per_second = RATE_LIMIT / 60
    rate_limit_burst = RATE_LIMIT
    rate_buckets = {"default": Bucket(RATE_LIMIT / 60, RATE_LIMIT, concurrency=CONCURRENCY)}
    personal_fields = frozenset({"PrimaryEmailAddr", "PrimaryPhone", "BillAddr", "ShipAddr", "Address"})
    mapping_kinds = (
        MappingKind(
            ACCOUNT,
            "account",
            "account",
            help="Income: new items' income account (else the income_account setting); COGS: "
            "bill lines (else the expense_account setting); inventory asset: the stock's value in "
            "the inventory journal entry; receivables: invoices' and credit memos' A/R account "
            "and the line of a refund check (unmapped: the company's A/R); payables: bills' A/P "
            "account; bank: where payments are deposited and what refunds and bill payments are "
            "paid from by check (refunds and bill payments wait for it); undeposited funds: "
            "where payments go when no bank is mapped (unmapped: QuickBooks' own Undeposited "
            "Funds); discount: invoices' discount lines (unmapped: the company's default); "
            "credit card: what refunds and bill payments by card are paid from (unmapped: the "
            "bank, by check).",
        ),
        MappingKind(TAX_CODE, "tax code", "tax", help="Each line of an invoice names a tax code."),
        MappingKind(PAYMENT_METHOD, "payment method", "payment_method"),
        MappingKind(
            TERM,
            "term",
            "payment_terms",
            help="A customer's payment terms, as its invoices' terms (unmapped: none; our due date is "
            "sent either way).",
        ),
        MappingKind(
            CLASS,
            "class",
            "channel",
            help="Sales tracked by class: the class of each invoice and credit memo line, by the "
            "order's sales channel (unmapped: the invoice waits).",
        ),
        MappingKind(
            LOCATION,
            "location",
            "channel",
            help="Sales tracked by location: the location (Department) of each invoice and credit "
            "memo, by the order's sales channel (unmapped: the invoice waits).",
        ),
    )
    oauth = OAUTH

    settings: QuickBooksSettings

    # --- outbound ------------------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, CustomerOut):
            entity, body, name = "Customer", mapping.customer_body(item), item.name
        elif isinstance(item, ItemOut):
            entity, name = "Item", item.sku
            body = mapping.item_body(item, self._account("income", self.settings.income_account))
        elif isinstance(item, VendorOut):
            entity, body, name = "Vendor", mapping.vendor_body(item), item.name
        elif isinstance(item, InvoiceOut):
            entity, name = ENTITY[item.kind], ""
            if item.voided:
                return self._void(entity, item.external_id, item.version)
            body = mapping.invoice_body(
                item,
                self._tax_code,
                receivables=mappings.mapped(self.connection, ACCOUNT, "receivables"),
                discount_account=mappings.mapped(self.connection, ACCOUNT, "discount"),
                # optional in QuickBooks: unmapped terms leave the invoice with our due date only
                terms=mappings.mapped(self.connection, TERM, item.terms) if item.terms else None,
                **self._tracking(item.channel),
            )
        elif isinstance(item, PaymentOut) and item.kind == "refund":
            return self._refund(item, context)
        elif isinstance(item, PaymentOut):
            if item.kind != "payment":
                raise PermanentError(f"QuickBooks takes payments and refunds, not a {item.kind!r}.")
            entity, name = "Payment", ""
            # optional in QuickBooks: an unmapped method leaves the payment without one
            method = mappings.mapped(self.connection, PAYMENT_METHOD, item.method) if item.method else None
            body = mapping.payment_body(
                item,
                method=method,
                deposit_to=mappings.mapped(self.connection, ACCOUNT, "bank")
                or mappings.mapped(self.connection, ACCOUNT, "undeposited_funds"),
                reference=item.reference,
            )
        elif isinstance(item, BillOut):
            entity, name = "Bill", ""
            body = mapping.bill_body(
                item,
                self._bill_account(),
                payables=mappings.mapped(self.connection, ACCOUNT, "payables"),
            )
        elif isinstance(item, InventoryJournalOut):
            entity, name = "JournalEntry", ""
            body = journal_body(item, self._journal_account)
        elif isinstance(item, BillPaymentOut):
            entity, name = "BillPayment", ""
            account, card = self._paid_from(item.method)
            body = mapping.bill_payment_body(item, account=account, card=card)
        else:
            return super().push(item, context)
        external_id = getattr(item, "external_id", "")
        if isinstance(item, CustomerOut):
            if external_id:
                return self._update_customer(item, body)
            return self._create_customer(item, body, context)
        if external_id:
            return self._update(entity, external_id, getattr(item, "version", ""), body)
        return self._create(entity, body, name, mapping.requestid(context.idempotency_key))

    def _update_customer(self, item: CustomerOut, body: dict[str, Any]) -> PushResult:
        """A customer's update; its name taken there by someone else (6240): it keeps its name
        with our code, as it was created."""
        try:
            return self._update("Customer", item.external_id, item.version, body)
        except PermanentError as exc:
            if mapping.fault(exc.body)[0] != "6240":
                raise
            renamed = {**body, "DisplayName": mapping.distinct_name(item)}
            return self._update("Customer", item.external_id, item.version, renamed)

    def _create_customer(self, item: CustomerOut, body: dict[str, Any], context: PushContext) -> PushResult:
        """A new customer; one of the same name there (6240: display names are unique) is ours,
        linked, unless its email says it is someone else (two buyers named "Sam O'Neil"): then
        ours goes in under its name and our customer code."""
        key = context.idempotency_key
        try:
            return self._create("Customer", body, item.name, mapping.requestid(key))
        except AlreadyExists as exc:
            found = self._find("Customer", item.name[:500]) or {}
            theirs = str((found.get("PrimaryEmailAddr") or {}).get("Address") or "")
            if not (item.email and theirs) or theirs.casefold() == item.email.casefold():
                raise
            named = mapping.distinct_name(item)
            renamed = {**body, "DisplayName": named}
            try:  # 6240 again: ours, named so before (linked); another refusal: the first one's
                return self._create("Customer", renamed, named, mapping.requestid(key, ":named"))
            except PermanentError:
                raise exc from None

    def _refund(self, item: PaymentOut, context: PushContext) -> PushResult:
        """A refund of a credit memo: a check to the customer on A/R, then a payment of nothing
        linking the credit memo and the check, so the credit is used up and the customer owes
        nothing more. Each create has its own requestid from the delivery's key: a retry after
        either answer was lost gets the first answers and makes nothing twice. The refund's id in
        QuickBooks is the check's."""
        account, card = self._paid_from(item.method)
        method = mappings.mapped(self.connection, PAYMENT_METHOD, item.method) if item.method else None
        check_body = mapping.refund_check_body(
            item, account=account, card=card, receivables=self._receivables(), method=method
        )
        key = context.idempotency_key
        check = self._create("Purchase", check_body, "", mapping.requestid(key, ":check"))
        applying = mapping.refund_apply_body(item, check.external_id)
        applied = self._create("Payment", applying, "", mapping.requestid(key, ":apply"))
        return PushResult(
            external_id=check.external_id,
            version=check.version,
            detail=f"{check.detail} (a check), applied by {applied.detail}",
        )

    def _paid_from(self, method: str) -> tuple[str, bool]:
        """(the account money paid out comes from, whether it is a card's): the mapped credit card
        account for a card when one is mapped, else the bank (unmapped: the record waits)."""
        if mapping.paid_by_card(method):
            card = mappings.mapped(self.connection, ACCOUNT, "credit_card")
            if card:
                return card, True
        return mappings.value_for(self.connection, ACCOUNT, "bank"), False

    def _receivables(self) -> str:
        """The A/R account: the mapped one, else the company's own (none: the record waits)."""
        found = mappings.mapped(self.connection, ACCOUNT, "receivables")
        if found:
            return found
        rows = self.query(f"select * from Account where AccountType = '{RECEIVABLE}' maxresults 1")
        accounts = rows.get("Account") or []
        if accounts:
            return str(accounts[0]["Id"])
        return mappings.value_for(self.connection, ACCOUNT, "receivables")

    def _tracking(self, channel: str) -> dict[str, str]:
        """The class (on each line) or location (on the transaction) of a sale of ``channel``, when
        the company tracks sales by one; unmapped, the record waits ("map class")."""
        by = self.settings.track_sales_by
        if by == "class":
            return {"class_id": mappings.value_for(self.connection, CLASS, channel)}
        if by == "location":
            return {"department": mappings.value_for(self.connection, LOCATION, channel)}
        return {}

    def mapping_choices(self, kind: str) -> list[tuple[str, str]]:
        """The company's classes and locations (Department), beside the client's lists."""
        entity = TRACKED.get(kind)
        if entity is None:
            return super().mapping_choices(kind)
        rows = self.query(f"select * from {entity} where Active = true maxresults 1000").get(entity) or []
        return [
            (str(row["Id"]), str(row.get("FullyQualifiedName") or row.get("Name") or row["Id"]))
            for row in rows
        ]

    def _bill_account(self) -> str:
        """Where bill lines go: goods received not billed when the connection posts the inventory
        journal (the receipt put the goods in inventory already), else COGS."""
        if self.settings.inventory_accounting == "journal":
            return mappings.value_for(self.connection, ACCOUNT, "goods_received")
        return self._account("cogs", self.settings.expense_account)

    def _journal_account(self, role: str) -> str:
        """The account of a role of the inventory journal; inventory adjustments fall back to COGS."""
        if role == "inventory_adjustment":
            found = mappings.mapped(self.connection, ACCOUNT, role)
            return found or self._account("cogs", self.settings.expense_account)
        return self._account(role, self.settings.expense_account if role == "cogs" else "")

    def _account(self, role: str, default: str) -> str:
        """The account mapped to a role, else the setting's; neither: the record waits ("map account")."""
        found = mappings.mapped(self.connection, ACCOUNT, role) or default
        return found or mappings.value_for(self.connection, ACCOUNT, role)

    def _tax_code(self, tax_name: str) -> str:
        """The tax code our tax of a line is mapped to (unmapped: the invoice waits, "map tax code");
        a line of no tax is QuickBooks' NON unless "No tax" is mapped."""
        if not tax_name:
            return mappings.mapped(self.connection, TAX_CODE, mappings.NO_TAX) or mapping.NON_TAXABLE
        return mappings.value_for(self.connection, TAX_CODE, tax_name)

    @staticmethod
    def _result(entity: str, answer: Mapping[str, Any]) -> PushResult:
        return PushResult(
            external_id=str(answer["Id"]), version=str(answer["SyncToken"]), detail=f"{entity} {answer['Id']}"
        )

    def _create(self, entity: str, body: dict[str, Any], name: str, request_id: str) -> PushResult:
        """A create with ``requestid``: the same request again answers what the first one got."""
        try:
            answer = self._call("POST", entity.lower(), params={"requestid": request_id}, json=body)
        except PermanentError as exc:
            code = mapping.fault(exc.body)[0]
            if code == "6140" and entity in NUMBERED:
                linked = self._numbered(entity, body)
                if linked is None:
                    raise
                raise linked from exc
            if code != "6240" or entity not in NAMED:
                raise
            found = self._find(entity, name[:500] if entity != "Item" else name[:100])
            if found is None:
                raise
            raise AlreadyExists(
                f"QuickBooks has a {entity} named {name!r} already: {entity} {found['Id']} is linked.",
                external_id=str(found["Id"]),
                version=str(found.get("SyncToken") or ""),
            ) from exc
        return self._result(entity, answer[entity])

    def _numbered(self, entity: str, body: dict[str, Any]) -> AlreadyExists | None:
        """6140, the number is taken: QuickBooks has our invoice (or credit memo) already, pushed
        by another delivery of it, when the one of that number is the same customer's and not
        voided: linked (reconciliation compares its amounts). None: another document has our
        number (for a person)."""
        quoted = str(body.get("DocNumber", "")).replace("\\", "\\\\").replace("'", "\\'")
        rows = self.query(f"select * from {entity} where DocNumber = '{quoted}'").get(entity) or []
        customer = (body.get("CustomerRef") or {}).get("value")
        for row in rows:
            if (row.get("CustomerRef") or {}).get("value") == customer and "Voided" not in str(
                row.get("PrivateNote") or ""
            ):
                return AlreadyExists(
                    f"QuickBooks has {entity} {row['Id']} numbered {body.get('DocNumber')} for this "
                    "customer already: linked.",
                    external_id=str(row["Id"]),
                    version=str(row.get("SyncToken") or ""),
                )
        return None

    def _update(self, entity: str, external_id: str, version: str, body: dict[str, Any]) -> PushResult:
        """A sparse update with the SyncToken we hold; 5010: stale (the hub re-reads and retries)."""
        if not version:
            version = self.read_version(entity.lower(), external_id)
        sparse = {**body, "Id": external_id, "SyncToken": version, "sparse": True}
        try:
            answer = self._call("POST", entity.lower(), json=sparse)
        except PermanentError as exc:
            if mapping.fault(exc.body)[0] == "5010":
                raise StaleVersion(
                    f"{entity} {external_id} was changed in QuickBooks since we read it.",
                    external_id=external_id,
                ) from exc
            raise
        return self._result(entity, answer[entity])

    def _void(self, entity: str, external_id: str, version: str) -> PushResult:
        if not external_id:
            raise PermanentError(f"QuickBooks has no {entity} of this to void.")
        version = version or self.read_version(entity.lower(), external_id)
        try:
            answer = self._call(
                "POST",
                entity.lower(),
                params={"operation": "void"},
                json={"Id": external_id, "SyncToken": version},
            )
        except PermanentError as exc:
            if mapping.fault(exc.body)[0] == "5010":
                raise StaleVersion(
                    f"{entity} {external_id} changed in QuickBooks.", external_id=external_id
                ) from exc
            raise
        return self._result(entity, answer[entity])
