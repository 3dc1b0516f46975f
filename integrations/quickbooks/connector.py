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

import dataclasses
import datetime
import hmac
import json
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from django.utils import timezone
from pydantic import BaseModel, Field

from integrations import mappings, registry
from integrations.contract import (
    Bucket,
    Capability,
    Connector,
    InboundItem,
    MappingKind,
    PullPage,
    PushContext,
    PushResult,
    RateLimitHint,
    TokenGrant,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import AlreadyExists, PermanentError, StaleVersion, TransientError
from integrations.quickbooks import mapping
from integrations.quickbooks.auth import INTUIT_HOSTS, OAUTH, QuickBooksSecrets, api_root, sign, token_url
from integrations.records import (
    BillOut,
    CustomerOut,
    InvoiceOut,
    ItemOut,
    OutboundItem,
    PaymentOut,
    VendorOut,
)

RATE_LIMIT, CONCURRENCY = 500, 10  # a minute, and at once, per company
THROTTLE_WAIT = 15.0  # seconds after a 429 (QuickBooks sends no Retry-After)
ACCOUNT, TAX_CODE, PAYMENT_METHOD, TERM = "account", "tax_code", "payment_method", "term"
PAYMENT = "payment"
CDC_LOOKBACK = datetime.timedelta(days=29)  # QuickBooks answers 30 days back at most
# our object type -> (QuickBooks' entity, its name field) of what can be linked on fault 6240
NAMED = {"Customer": "DisplayName", "Vendor": "DisplayName", "Item": "Name"}
ENTITY = {
    "customer": "Customer",
    "item": "Item",
    "vendor": "Vendor",
    "invoice": "Invoice",
    "credit_note": "CreditMemo",
    "payment": "Payment",
    "bill": "Bill",
}
# the lists a person maps our values to: kind -> (entity, the query's filter)
LISTS = {
    ACCOUNT: ("Account", "where Active = true"),
    TAX_CODE: ("TaxCode", "where Active = true"),
    PAYMENT_METHOD: ("PaymentMethod", "where Active = true"),
    TERM: ("Term", "where Active = true"),
}


class QuickBooksSettings(BaseModel):
    realm_id: str = Field("", description="The company (realmId); the sign-in fills it in.")
    environment: Literal["production", "sandbox"] = Field(
        "production", description="production, or sandbox (a developer's sandbox company)."
    )
    minor_version: int = Field(75, ge=75, description="The API's minor version sent on every call.")
    base_url: str = Field("", description="Replaces https://quickbooks.api.intuit.com/v3 (a local fake).")
    # Defaults where the account roles are not mapped (the Mappings tab wins): empty, the record
    # waits for "map account".
    income_account: str = Field("", description="The income account of new items (its id).")
    expense_account: str = Field("", description="The expense (COGS) account of bill lines (its id).")


@registry.register
class QuickBooksConnector(Connector):
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

    # --- configuration -------------------------------------------------------------------------

    def base_url(self) -> str:
        root = api_root(self.settings.environment, self.settings.base_url)
        return f"{root}/company/{self.settings.realm_id}"

    def hosts(self) -> frozenset[str]:
        """The API's host and Intuit's sign-in hosts (the token endpoint takes the client secret)."""
        return super().hosts() | INTUIT_HOSTS

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets.get('access_token', '')}", "Accept": "application/json"}

    def account_id(self) -> str | None:
        return self.settings.realm_id or None

    def rate_limit_hint(self, response: httpx.Response) -> RateLimitHint | None:
        if response.status_code != 429:
            return None
        return RateLimitHint(wait_seconds=THROTTLE_WAIT, limit=RATE_LIMIT, reset_seconds=THROTTLE_WAIT)

    def _token_url(self) -> str:
        return token_url(self.settings.base_url)

    def _grant(self, form: Mapping[str, str], secrets: Mapping[str, Any]) -> TokenGrant:
        data, headers = OAUTH.token_request(secrets, form)
        try:
            response = self.http.request("POST", self._token_url(), data=data, auth=headers)
        except PermanentError as exc:
            raise PermanentError(
                f"QuickBooks refused the token request ({exc.body[:200] or exc.status}): the code or "
                "refresh token was used already, expired or revoked (the app disconnected): sign in "
                'again with "Re-authorise" on the connection\'s page.',
                status=exc.status,
                body=exc.body,
            ) from exc
        try:
            return OAUTH.grant(response.json())
        except (ValueError, TypeError, AttributeError) as exc:
            raise TransientError(f"QuickBooks' token answer cannot be read: {exc}") from exc

    def refresh_token(self, secrets: Mapping[str, Any]) -> TokenGrant | None:
        """A new access token and the refresh token QuickBooks gives with it (it rotates: the hub
        stores the new one at once), with the refresh token's expiry."""
        refresh = str(secrets.get("refresh_token") or "")
        if not refresh:
            return None
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh}, secrets)

    def exchange_code(
        self, code: str, redirect_uri: str, callback: Mapping[str, str] | None = None
    ) -> TokenGrant:
        """The sign-in's code for tokens; the callback's ``realmId`` is the company signed in to."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        grant = self._grant(form, self.connection.get_secrets())
        realm = (callback or {}).get("realmId")
        return dataclasses.replace(grant, settings={"realm_id": realm}) if realm else grant

    # --- calls ---------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """One API call with the minor version; a Fault raises with QuickBooks' own words."""
        query = {**(params or {}), "minorversion": str(self.settings.minor_version)}
        try:
            response = self.http.request(method, f"{self.base_url()}/{path}", params=query, **kwargs)
        except PermanentError as exc:
            code, text = mapping.fault(exc.body)
            if not code and not text:
                raise
            raise PermanentError(
                f"QuickBooks refused {method} {path.split('?')[0]}: {text} (fault {code or exc.status})",
                status=exc.status,
                body=exc.body,
            ) from exc
        return response.json()

    def query(self, text: str) -> dict[str, Any]:
        body = self._call(
            "POST", "query", content=text.encode(), headers={"Content-Type": "application/text"}
        )
        return dict(body.get("QueryResponse") or {})

    def _find(self, entity: str, name: str) -> dict[str, Any] | None:
        field = NAMED[entity]
        quoted = name.replace("\\", "\\\\").replace("'", "\\'")
        rows = self.query(f"select * from {entity} where {field} = '{quoted}'").get(entity) or []
        return rows[0] if rows else None

    def mapping_choices(self, kind: str) -> list[tuple[str, str]]:
        """The company's own list: its accounts, tax codes, payment methods, terms."""
        if kind not in LISTS:
            return super().mapping_choices(kind)
        entity, where = LISTS[kind]
        rows = self.query(f"select * from {entity} {where} maxresults 1000").get(entity) or []
        choices = []
        for row in rows:
            label = str(row.get("FullyQualifiedName") or row.get("Name") or row["Id"])
            if entity == "Account":
                label = f"{label} ({row.get('AccountType', '')})"
            choices.append((str(row["Id"]), label))
        return choices

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

    def read_version(self, object_type: str, external_id: str) -> str:
        entity = ENTITY.get(object_type, object_type.capitalize())
        if object_type.lower() == "creditmemo":
            entity = "CreditMemo"
        body = self._call("GET", f"{entity.lower()}/{external_id}")
        return str(body[entity]["SyncToken"])

    def read_back(self, object_type: str, external_ids: list[str]) -> dict[str, Mapping[str, str] | None]:
        """One read per record; fault 610: not there. An invoice's id may be a credit memo's."""
        entities = {
            "customer": ("Customer",),
            "invoice": ("Invoice", "CreditMemo"),
            "payment": ("Payment",),
        }.get(object_type)
        if entities is None:
            return super().read_back(object_type, external_ids)
        found: dict[str, Mapping[str, str] | None] = {}
        for external_id in external_ids:
            row = None
            for entity in entities:
                try:
                    row = self._call("GET", f"{entity.lower()}/{external_id}")[entity]
                except PermanentError as exc:
                    if mapping.fault(exc.body)[0] != "610":
                        raise
                    continue
                break
            found[external_id] = None if row is None else mapping.in_our_words(object_type, row)
        return found

    # --- inbound -------------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        verifier = str(self.connection.get_secrets().get("verifier_token") or "")
        given = request.headers.get("intuit-signature", "")
        return bool(verifier and given) and hmac.compare_digest(sign(verifier, request.body), given)

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        try:
            found = mapping.changes(request.body)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"Not a QuickBooks webhook: {exc}") from exc
        return [
            WebhookEnvelope(
                event_id=change["event_id"],
                topic=f"{change['name']}.{change['operation']}",
                account=change["realm"],
                body=json.dumps(change, sort_keys=True).encode(),
            )
            for change in found
        ]

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        change = json.loads(body)
        if change["name"] != "Payment" or change["operation"] in ("Delete", "Merge"):
            return []  # what changed there of what the hub pushed: reconciliation compares it
        return [InboundItem(PAYMENT, str(change["id"]))]

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        if object_type != PAYMENT:
            return super().fetch(object_type, external_id)
        record = mapping.payment_record(self._call("GET", f"payment/{external_id}")["Payment"])
        return InboundItem(PAYMENT, record.external_id, record=record, updated_at=record.updated_at)

    def pull(self, object_type: str, *, since: datetime.datetime | None, page: str | None) -> PullPage:
        """CDC: the payments changed since ``since`` (at most 30 days back), as records."""
        if object_type != PAYMENT:
            return super().pull(object_type, since=since, page=page)
        floor = timezone.now() - CDC_LOOKBACK
        moment = max(since, floor) if since else floor
        body = self._call(
            "GET",
            "cdc",
            params={"entities": "Payment,Invoice", "changedSince": moment.isoformat(timespec="seconds")},
        )
        items = []
        for response in body.get("CDCResponse") or ():
            for part in response.get("QueryResponse") or ():
                for raw in part.get("Payment") or ():
                    if raw.get("status") == "Deleted":
                        continue
                    record = mapping.payment_record(raw)
                    items.append(
                        InboundItem(PAYMENT, record.external_id, record=record, updated_at=record.updated_at)
                    )
        return PullPage(tuple(items), None)

    def test(self) -> str:
        info = self._call("GET", f"companyinfo/{self.settings.realm_id}")
        return str(info["CompanyInfo"]["CompanyName"])
