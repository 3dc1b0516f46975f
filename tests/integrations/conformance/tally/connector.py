"""Tally: a minimal made-up accounting tool, shaped like QuickBooks Online, to show what an
accounting connector is (an adapter and nothing else) and to run the kit's accounting part.

Wire format (JSON, ``Authorization: Bearer <token>``, API at ``https://tally.test/v3/company/<realm>``):

* ``POST /<entity>?requestid=<key>`` creates (no ``Id``) or updates (``Id`` and the ``SyncToken``
  last read) a Customer, Item, Invoice, CreditMemo, Payment or RefundReceipt, a Vendor or a Bill
  (``VendorRef``; lines with an ``ItemBasedExpenseLineDetail`` or, for lines of no item, an
  ``AccountBasedExpenseLineDetail`` on the settings' expense account). The same requestid
  again answers what the first request got (a retry after a lost answer creates nothing).
  Faults: 5010 stale SyncToken; 6240 a name that exists already ("... : Id=58"); 2500 a reference
  to nothing; 6000 a line of a sale without a ``TaxCodeRef``. ``GET /<entity>/<id>`` reads one.
* Lists a person maps our values to: ``GET /taxcode``, ``/account``, ``/paymentmethod`` answer
  ``{"QueryResponse": {"TaxCode": [{"Id", "Name"}, ...]}}``. Each line of an invoice names the tax
  code our tax of the line is mapped to (``mappings.value_for``: unmapped, the invoice waits for a
  person); a line of no tax is Tally's own ``NON`` unless "No tax" is mapped.
* Webhooks: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name",
  "id", "operation", "lastUpdated"}]}}]}``, several entities a delivery, signed by
  ``intuit-signature`` = base64(HMAC-SHA256(verifier token, body)). The hub reads each entity.
* OAuth 2.0 as QuickBooks: the consent page ``GET /oauth2/authorize`` (client_id, redirect_uri,
  response_type=code, scope, state) sends the browser back with ``code``, ``state`` and ``realmId``
  (or ``error=access_denied``); ``POST /oauth2/token`` (HTTP Basic client credentials, form
  ``grant_type=authorization_code`` or ``refresh_token``) answers ``access_token`` (an hour),
  ``refresh_token`` and ``x_refresh_token_expires_in``. The refresh token ROTATES: the old one is
  refused (``invalid_grant``) once a new one is issued.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from integrations import mappings
from integrations.contract import (
    Capability,
    Connector,
    InboundItem,
    MappingKind,
    OAuth,
    PushContext,
    PushResult,
    TokenGrant,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import AlreadyExists, PermanentError, StaleVersion
from integrations.records import (
    BillOut,
    CustomerOut,
    InvoiceOut,
    ItemOut,
    OutboundItem,
    PaymentApplication,
    PaymentOut,
    PaymentRecord,
    VendorOut,
)

BASE_URL = "https://tally.test/v3/company"
REALM = "9130357"
ENTITY = {"customer": "Customer", "item": "Item", "invoice": "Invoice", "credit_note": "CreditMemo"}
TAX_CODE, ACCOUNT, PAYMENT_METHOD = "tax_code", "account", "payment_method"
LISTS = {TAX_CODE: ("taxcode", "TaxCode"), ACCOUNT: ("account", "Account")}
LISTS[PAYMENT_METHOD] = ("paymentmethod", "PaymentMethod")
NON_TAXABLE = "NON"  # Tally's own code of a line that charges no tax


class TallySettings(BaseModel):
    base_url: str = BASE_URL
    realm_id: str = REALM
    expense_account: str = "80"  # where a bill's lines of no item go (Cost of Goods Sold)


class TallySecrets(BaseModel):
    access_token: str = ""  # none yet: "Connect to Tally" on the connection's page signs in
    verifier_token: str
    # OAuth 2.0, as QuickBooks: the app's client, and the rotating refresh token the sign-in gives.
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""


def signature(verifier: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(verifier.encode(), body, hashlib.sha256).digest()).decode()


def _fault(error: PermanentError) -> tuple[str, str]:
    try:
        first = json.loads(error.body)["Fault"]["Error"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return "", ""
    return str(first.get("code") or ""), str(first.get("Detail") or first.get("Message") or "")


class TallyConnector(Connector):
    key = "tally"
    name = "Tally (test accounting tool)"
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
    settings_schema = TallySettings
    secrets_schema = TallySecrets
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
    )
    webhook_headers = frozenset({"intuit-signature"})
    reconcile_object_types = ("customer", "invoice", "payment")
    mapping_kinds = (
        MappingKind(TAX_CODE, "tax code", "tax", help="Each line of an invoice names a tax code of Tally."),
        MappingKind(ACCOUNT, "account", "account", help="Where a bill's lines of no item go (cogs)."),
        MappingKind(PAYMENT_METHOD, "payment method", "payment_method"),
    )
    rate_limit_per_second = 100.0
    rate_limit_burst = 100

    settings: TallySettings

    def base_url(self) -> str:
        return f"{self.settings.base_url}/{self.settings.realm_id}"

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets.get('access_token', '')}"}

    # --- OAuth 2.0: the sign-in (the hub's default exchange_code) and the rotating refresh ---------

    oauth = OAuth(
        authorize_url="/oauth2/authorize",
        token_url="/oauth2/token",
        scopes=("com.tally.accounting",),
    )

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        spec = self.oauth
        if spec is None or not secrets.get("refresh_token"):
            return None
        form = {"grant_type": "refresh_token", "refresh_token": str(secrets["refresh_token"])}
        data, headers = spec.token_request(secrets, form)
        body = self.http.request(
            "POST", spec.url(spec.token_url, self.base_url()), data=data, auth=headers
        ).json()
        return spec.grant(body)

    def account_id(self) -> str:
        return self.settings.realm_id

    def mapping_choices(self, kind: str) -> list[tuple[str, str]]:
        if kind not in LISTS:
            return super().mapping_choices(kind)
        path, name = LISTS[kind]
        rows = self.http.request("GET", f"{self.base_url()}/{path}").json()["QueryResponse"][name]
        return [(str(row["Id"]), str(row["Name"])) for row in rows]

    # --- outbound ----------------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, CustomerOut):
            entity, body = "Customer", self._customer(item)
        elif isinstance(item, ItemOut):
            entity, body = "Item", {"Name": item.sku, "Description": item.name, "UnitPrice": str(item.price)}
        elif isinstance(item, InvoiceOut):
            entity, body = ENTITY[item.kind], self._invoice(item)
        elif isinstance(item, PaymentOut):
            entity, body = self._payment(item)
        elif isinstance(item, VendorOut):
            entity, body = "Vendor", self._vendor(item)
        elif isinstance(item, BillOut):
            entity, body = "Bill", self._bill(item)
        else:
            return super().push(item, context)
        external_id = getattr(item, "external_id", "")
        if external_id:
            body = {**body, "Id": external_id, "SyncToken": getattr(item, "version", ""), "sparse": True}
        try:
            answer = self.http.request(
                "POST",
                f"{self.base_url()}/{entity.lower()}",
                params={"requestid": context.idempotency_key},
                json=body,
            ).json()[entity]
        except PermanentError as error:
            code, detail = _fault(error)
            if code == "5010":
                raise StaleVersion(
                    f"{entity} {external_id} changed in Tally: {detail}", external_id=external_id
                ) from error
            if code == "6240" and (found := re.search(r"Id=(\d+)", detail)):
                raise AlreadyExists(f"{entity}: {detail}", external_id=found.group(1)) from error
            raise
        return PushResult(
            external_id=str(answer["Id"]), version=str(answer["SyncToken"]), detail=f"{entity} {answer['Id']}"
        )

    def _customer(self, item: CustomerOut) -> dict[str, Any]:
        return {
            "DisplayName": item.name,
            "PrimaryEmailAddr": {"Address": item.email},
            "CurrencyRef": {"value": item.currency},
            "Notes": item.reference,
        }

    def _invoice(self, item: InvoiceOut) -> dict[str, Any]:
        return {
            "DocNumber": item.number,
            "CustomerRef": {"value": item.customer_external_id},
            "TxnDate": item.issue_date.isoformat(),
            "DueDate": item.due_date.isoformat() if item.due_date else None,
            "CurrencyRef": {"value": item.currency},
            "Line": [
                {
                    "Amount": str(line.amount),
                    "Description": line.description,
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": line.item_external_id},
                        "Qty": str(line.quantity),
                        "UnitPrice": str(line.unit_price),
                        "TaxCodeRef": {"value": self._tax_code(line.tax_name)},
                    },
                }
                for line in item.lines
            ],
            "TxnTaxDetail": {"TotalTax": str(item.tax)},
            "TotalAmt": str(item.total),
            "void": item.voided,
        }

    def _tax_code(self, tax_name: str) -> str:
        """Tally's tax code of our tax (NeedsMapping while it has none: the invoice waits)."""
        if not tax_name:
            return mappings.mapped(self.connection, TAX_CODE, mappings.NO_TAX) or NON_TAXABLE
        return mappings.value_for(self.connection, TAX_CODE, tax_name)

    def _vendor(self, item: VendorOut) -> dict[str, Any]:
        return {
            "DisplayName": item.name,
            "PrimaryEmailAddr": {"Address": item.email},
            "CurrencyRef": {"value": item.currency},
            "AcctNum": item.reference,
        }

    def _bill(self, item: BillOut) -> dict[str, Any]:
        lines = []
        account = mappings.mapped(self.connection, ACCOUNT, "cogs") or self.settings.expense_account
        for line in item.lines:
            detail: dict[str, Any]
            if line.item_external_id:
                detail = {
                    "ItemBasedExpenseLineDetail": {
                        "ItemRef": {"value": line.item_external_id},
                        "Qty": str(line.quantity),
                        "UnitPrice": str(line.unit_price),
                    }
                }
            else:
                detail = {"AccountBasedExpenseLineDetail": {"AccountRef": {"value": account}}}
            lines.append({"Amount": str(line.amount), "Description": line.description, **detail})
        return {
            "DocNumber": item.supplier_reference,
            "PrivateNote": item.number,
            "VendorRef": {"value": item.vendor_external_id},
            "TxnDate": item.bill_date.isoformat(),
            "DueDate": item.due_date.isoformat(),
            "CurrencyRef": {"value": item.currency},
            "Line": lines,
            "TotalAmt": str(item.total),
        }

    def _payment(self, item: PaymentOut) -> tuple[str, dict[str, Any]]:
        if item.kind == "refund":
            return "RefundReceipt", {
                "CustomerRef": {"value": item.customer_external_id},
                "TotalAmt": str(item.amount),
                "PrivateNote": item.reference,
                "LinkedTxn": [{"TxnId": item.document_external_id, "TxnType": "CreditMemo"}],
            }
        method = mappings.mapped(self.connection, PAYMENT_METHOD, item.method) if item.method else None
        return "Payment", {
            **({"PaymentMethodRef": {"value": method}} if method else {}),
            "CustomerRef": {"value": item.customer_external_id},
            "TotalAmt": str(item.amount),
            "TxnDate": item.paid_at.isoformat(),
            "PrivateNote": item.reference,
            "Line": [
                {
                    "Amount": str(item.amount),
                    "LinkedTxn": [{"TxnId": item.document_external_id, "TxnType": "Invoice"}],
                }
            ],
        }

    def read_version(self, object_type: str, external_id: str) -> str:
        entity = ENTITY.get(object_type, object_type.capitalize())
        body = self.http.request("GET", f"{self.base_url()}/{entity.lower()}/{external_id}").json()
        return str(body[entity]["SyncToken"])

    def read_back(self, object_type: str, external_ids: list[str]) -> dict[str, Mapping[str, str] | None]:
        """One ``GET /<entity>/<id>`` per record (Tally reads no batches); fault 610: not there. An
        invoice id the hub holds may be a credit note's (same numbering): read as one if not an
        invoice."""
        entities = {
            "customer": ("customer",),
            "invoice": ("invoice", "creditmemo"),
            "payment": ("payment",),
        }.get(object_type)
        if entities is None:
            return super().read_back(object_type, external_ids)
        found: dict[str, Mapping[str, str] | None] = {}
        for external_id in external_ids:
            row = None
            for entity in entities:
                try:
                    body = self.http.request("GET", f"{self.base_url()}/{entity}/{external_id}").json()
                except PermanentError as error:
                    if _fault(error)[0] != "610":
                        raise
                    continue
                row = next(iter(body.values()))
                break
            found[external_id] = None if row is None else self._in_our_words(object_type, row)
        return found

    def _in_our_words(self, object_type: str, row: Mapping[str, Any]) -> dict[str, str]:
        if object_type == "customer":
            return {
                "name": str(row.get("DisplayName") or ""),
                "email": str((row.get("PrimaryEmailAddr") or {}).get("Address") or ""),
            }
        customer = str((row.get("CustomerRef") or {}).get("value") or "")
        if object_type == "invoice":
            voided = "true" if row.get("void") else "false"
            return {"total": str(row.get("TotalAmt", "")), "customer_external_id": customer, "voided": voided}
        links = [t["TxnId"] for line in row.get("Line") or () for t in line.get("LinkedTxn") or ()]
        return {
            "amount": str(row.get("TotalAmt", "")),
            "document_external_id": str(links[0]) if links else "",
        }

    # --- inbound -----------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        verifier = str(self.connection.get_secrets().get("verifier_token") or "")
        given = request.headers.get("intuit-signature", "")
        return bool(verifier) and hmac.compare_digest(
            signature(verifier, request.body).encode(), given.encode()
        )

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        try:
            notifications = json.loads(request.body)["eventNotifications"]
            events = []
            for note in notifications:
                realm = str(note["realmId"])
                for entity in note["dataChangeEvent"]["entities"]:
                    key = f"{realm}:{entity['name']}:{entity['id']}:{entity['lastUpdated']}"
                    events.append(
                        WebhookEnvelope(
                            event_id=hashlib.sha256(key.encode()).hexdigest()[:40],
                            topic=f"{entity['name']}.{entity['operation']}",
                            account=realm,
                            body=json.dumps(entity, sort_keys=True).encode(),
                        )
                    )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Not a Tally webhook: {exc}") from exc
        return events

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        entity = json.loads(body)
        if entity["name"] != "Payment":
            return []  # changes made in Tally to what the hub pushed: reconciliation compares them
        return [InboundItem("payment", str(entity["id"]))]

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        if object_type != "payment":
            return super().fetch(object_type, external_id)
        raw = self.http.request("GET", f"{self.base_url()}/payment/{external_id}").json()["Payment"]
        record = PaymentRecord(
            external_id=str(raw["Id"]),
            paid_at=datetime.date.fromisoformat(raw["TxnDate"]),
            amount=Decimal(str(raw["TotalAmt"])),
            currency=raw["CurrencyRef"]["value"],
            applied_to=tuple(
                PaymentApplication(str(link["TxnId"]), Decimal(str(line["Amount"])))
                for line in raw["Line"]
                for link in line["LinkedTxn"]
                if link["TxnType"] == "Invoice"
            ),
            reference=raw.get("PaymentRefNum") or "",
            updated_at=datetime.datetime.fromisoformat(raw["MetaData"]["LastUpdatedTime"]),
        )
        return InboundItem("payment", record.external_id, record=record, updated_at=record.updated_at)

    def exchange_code(
        self, code: str, redirect_uri: str, callback: Mapping[str, str] | None = None
    ) -> TokenGrant:
        """As QuickBooks: the callback names the company the person signed in to (``realmId``)."""
        grant = super().exchange_code(code, redirect_uri, callback)
        realm = (callback or {}).get("realmId")
        return dataclasses.replace(grant, settings={"realm_id": realm}) if realm else grant

    def test(self) -> str:
        info = self.http.request("GET", f"{self.base_url()}/companyinfo/{self.settings.realm_id}").json()
        return str(info["CompanyInfo"]["CompanyName"])
