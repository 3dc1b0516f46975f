"""QuickBooks Online's API as the connector calls it: the settings, where the company lives,
OAuth 2.0 tokens (the refresh token rotates), one call with the minor version and its Fault read
as QuickBooks' own words, queries, and the company's lists a person maps our values to."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from integrations.contract import (
    Connector,
    RateLimitHint,
    TokenGrant,
)
from integrations.errors import PermanentError, TransientError
from integrations.quickbooks import mapping
from integrations.quickbooks.auth import INTUIT_HOSTS, OAUTH, api_root, authorize_url, token_url

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
# QuickBooks' own web app, where a person opens a record: our object type -> (page, its id parameter)
APP_ROOTS = {
    "production": "https://app.qbo.intuit.com/app",
    "sandbox": "https://app.sandbox.qbo.intuit.com/app",
}
APP_PAGES = {
    "customer": ("customerdetail", "nameId"),
    "customer_balance": ("customerdetail", "nameId"),
    "vendor": ("vendordetail", "nameId"),
    "vendor_balance": ("vendordetail", "nameId"),
    "invoice": ("invoice", "txnId"),
    "credit_note": ("creditmemo", "txnId"),
    "payment": ("recvpayment", "txnId"),
    "refund": ("check", "txnId"),
    "bill": ("bill", "txnId"),
    "bill_payment": ("billpayment", "txnId"),
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
    track_sales_by: Literal["none", "class", "location"] = Field(
        "none",
        description="none; class: each invoice and credit memo line carries the class its sales "
        "channel is mapped to; location: the transaction carries the channel's location "
        "(QuickBooks' Department).",
    )
    inventory_accounting: Literal["none", "journal"] = Field(
        "none",
        description="none: no inventory postings (bills go to COGS); journal: bills go to goods "
        "received not billed and each closed day of the ledger is one journal entry (inventory "
        "asset, COGS, adjustments). QuickBooks keeps non-inventory items either way.",
    )


class QuickBooksClient(Connector):
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

    def authorize_url(self) -> str:
        return authorize_url(self.settings.base_url)

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

    def record_url(self, object_type: str, external_id: str) -> str:
        """The record's page in QuickBooks' web app (the sandbox's for a sandbox company): an
        invoice's ``/app/invoice?txnId=``, a customer's ``/app/customerdetail?nameId=``."""
        page = APP_PAGES.get(object_type)
        if page is None or not external_id:
            return ""
        query = httpx.QueryParams({page[1]: external_id})
        return f"{APP_ROOTS[self.settings.environment]}/{page[0]}?{query}"

    def read_version(self, object_type: str, external_id: str) -> str:
        entity = ENTITY.get(object_type, object_type.capitalize())
        if object_type.lower() == "creditmemo":
            entity = "CreditMemo"
        body = self._call("GET", f"{entity.lower()}/{external_id}")
        return str(body[entity]["SyncToken"])

    def test(self) -> str:
        info = self._call("GET", f"companyinfo/{self.settings.realm_id}")
        return str(info["CompanyInfo"]["CompanyName"])
