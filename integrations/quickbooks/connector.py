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
  Vendor, Invoice (and CreditMemo), Payment (applied to its invoice by ``LinkedTxn``), Bill
  (``AccountBasedExpenseLineDetail`` lines on the mapped COGS account). Every create carries
  ``requestid`` (the delivery's idempotency key): a retry after a lost answer gets the first
  answer, and nothing is made twice. Fault 6240 (the name exists) finds the customer, vendor or item
  by a query and links ours to it. Updates are sparse with the SyncToken we hold (the ref's
  version); fault 5010 says it is stale: the hub re-reads it (``read_version``) and retries once.
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
    QuickBooksSettings,
)
from integrations.quickbooks.inbound import QuickBooksInbound
from integrations.records import (
    BillOut,
    CustomerOut,
    InvoiceOut,
    ItemOut,
    OutboundItem,
    PaymentOut,
    VendorOut,
)


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
        "procurement.supplier_created",
        "procurement.supplier_updated",
        "procurement.bill_recorded",
        "procurement.bill_approved",
    )
    poll_object_types = (PAYMENT,)  # CDC: the safety net under the webhooks
    reconcile_object_types = ("customer", "invoice", "payment")
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
            help="Income: new items' income account; COGS: bill lines; receivables, payables: "
            "invoices' and bills' A/R and A/P accounts; bank: where payments are deposited "
            "(unmapped: Undeposited Funds).",
        ),
        MappingKind(TAX_CODE, "tax code", "tax", help="Each line of an invoice names a tax code."),
        MappingKind(PAYMENT_METHOD, "payment method", "payment_method"),
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
                item, self._tax_code, receivables=mappings.mapped(self.connection, ACCOUNT, "receivables")
            )
        elif isinstance(item, PaymentOut):
            if item.kind != "payment":
                raise PermanentError(f"QuickBooks: a {item.kind} is not pushed by this connector yet.")
            entity, name = "Payment", ""
            # optional in QuickBooks: an unmapped method leaves the payment without one
            method = mappings.mapped(self.connection, PAYMENT_METHOD, item.method) if item.method else None
            body = mapping.payment_body(
                item,
                method=method,
                deposit_to=mappings.mapped(self.connection, ACCOUNT, "bank"),
                reference=item.reference,
            )
        elif isinstance(item, BillOut):
            entity, name = "Bill", ""
            body = mapping.bill_body(
                item,
                self._account("cogs", self.settings.expense_account),
                payables=mappings.mapped(self.connection, ACCOUNT, "payables"),
            )
        else:
            return super().push(item, context)
        external_id = getattr(item, "external_id", "")
        if external_id:
            return self._update(entity, external_id, getattr(item, "version", ""), body)
        return self._create(entity, body, name, context)

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

    def _create(self, entity: str, body: dict[str, Any], name: str, context: PushContext) -> PushResult:
        """A create with ``requestid``: the same request again answers what the first one got."""
        try:
            answer = self._call(
                "POST", entity.lower(), params={"requestid": context.idempotency_key[:50]}, json=body
            )
        except PermanentError as exc:
            if mapping.fault(exc.body)[0] != "6240" or entity not in NAMED:
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
