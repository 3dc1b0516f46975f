"""Tally's API in memory (see connector.py for the wire format), behind httpx.MockTransport.

It stands on ``integrations.fakes``: ``FakeTool`` is its HTTP front, request log and injected
faults (``timeout_next(processed=True)``: the write is done, its answer lost), and its sign-in
keeps its tokens in a ``TokenStore`` (``fake_oauth``)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import httpx

from integrations.fakes.base import Answer, FakeTool, Incoming, httpx_answer
from tests.integrations.conformance.tally.connector import REALM, signature
from tests.integrations.conformance.tally.fake_oauth import FakeAuthServer

ACCESS_TOKEN, VERIFIER = "tally-token-1", "tally-verifier-9"
ENTITIES = ("customer", "item", "invoice", "creditmemo", "payment", "refundreceipt", "vendor", "bill")
EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")
# Tally's lists, read with ``GET /<list>`` (what a person maps our values to).
TAX_CODES = (
    {"Id": "NON", "Name": "Non-taxable", "RateValue": "0"},
    {"Id": "4", "Name": "Standard rate 20%", "RateValue": "20"},
    {"Id": "6", "Name": "Reduced rate 5%", "RateValue": "5"},
    {"Id": "8", "Name": "Zero-rated 0%", "RateValue": "0"},
)
ACCOUNTS = (
    {"Id": "79", "Name": "Sales of Product Income", "AccountType": "Income"},
    {"Id": "80", "Name": "Cost of Goods Sold", "AccountType": "Cost of Goods Sold"},
    {"Id": "81", "Name": "Inventory Asset", "AccountType": "Other Current Asset"},
    {"Id": "84", "Name": "Accounts Receivable (A/R)", "AccountType": "Accounts Receivable"},
    {"Id": "33", "Name": "Accounts Payable (A/P)", "AccountType": "Accounts Payable"},
    {"Id": "35", "Name": "Checking", "AccountType": "Bank"},
)
PAYMENT_METHODS = (
    {"Id": "1", "Name": "Cash"},
    {"Id": "2", "Name": "Check"},
    {"Id": "3", "Name": "Credit Card"},
    {"Id": "4", "Name": "Bank Transfer"},
)
LISTS = {"taxcode": ("TaxCode", TAX_CODES), "account": ("Account", ACCOUNTS)}
LISTS["paymentmethod"] = ("PaymentMethod", PAYMENT_METHODS)


def fault(code: str, message: str, detail: str = "", status: int = 400) -> httpx.Response:
    error = {"Message": message, "Detail": detail or message, "code": code}
    return httpx.Response(status, json={"Fault": {"Error": [error], "type": "ValidationFault"}})


class FakeTally(FakeTool):
    tool = "tally"

    def __init__(self, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.lock = self._lock
        self.auth = FakeAuthServer(ACCESS_TOKEN, clock=self.clock)  # the sign-in and the tokens
        self.rows: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in ENTITIES}
        self.answered: dict[str, tuple[int, bytes]] = {}  # requestid -> the first answer
        self.requests: list[httpx.Request] = []
        self._ids = 100

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth2/"):  # the sign-in: its own server, not logged here
            return self.auth.handle(request)
        return super().handle(request)

    def serve(self, request: Incoming) -> Answer:
        if not self.auth.accepts(request.headers.get("authorization")):
            return httpx_answer(fault("3200", "AuthenticationFailed", status=401))
        path = request.path.removeprefix(f"/v3/company/{REALM}/").strip("/")
        return httpx_answer(self._route(request.to_httpx(), path))

    def record(self, request: Incoming, status: int) -> None:
        self.requests.append(request.to_httpx())

    def snapshot(self) -> dict[str, Any]:
        """Tally's records by entity and id, for drift checks."""
        with self.lock:
            rows = {entity: {k: dict(v) for k, v in table.items()} for entity, table in self.rows.items()}
        return json.loads(json.dumps({"tool": self.tool, "at": self.clock().isoformat(), "rows": rows}))

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        parts = path.split("/")
        if parts[0] == "companyinfo":
            return httpx.Response(200, json={"CompanyInfo": {"CompanyName": "Tally Test Books"}})
        if parts[0] in LISTS and request.method == "GET" and len(parts) == 1:
            name, rows = LISTS[parts[0]]
            return httpx.Response(200, json={"QueryResponse": {name: list(rows), "maxResults": len(rows)}})
        if parts[0] not in ENTITIES:
            return fault("610", "Object Not Found", status=404)
        entity = parts[0]
        if request.method == "GET" and len(parts) == 2:
            row = self.rows[entity].get(parts[1])
            return (
                httpx.Response(200, json={self._name(entity): row})
                if row
                else fault("610", "Object Not Found")
            )
        if request.method != "POST":
            return fault("400", "Unsupported")
        requestid = request.url.params.get("requestid", "")
        if requestid and requestid in self.answered:
            status, content = self.answered[requestid]
            return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})
        response = self._write(entity, json.loads(request.content))
        if requestid:
            self.answered[requestid] = (response.status_code, response.content)
        return response

    def _name(self, entity: str) -> str:
        return {"creditmemo": "CreditMemo", "refundreceipt": "RefundReceipt"}.get(entity, entity.capitalize())

    def _write(self, entity: str, body: dict[str, Any]) -> httpx.Response:
        table = self.rows[entity]
        now = self.clock().isoformat()
        if "Id" in body:
            row = table.get(str(body["Id"]))
            if row is None:
                return fault("610", "Object Not Found", f"{entity} {body['Id']}")
            if str(body.get("SyncToken")) != row["SyncToken"]:
                return fault(
                    "5010", "Stale Object Error", "You and someone else are editing the same object."
                )
            row.update({k: v for k, v in body.items() if k not in ("Id", "SyncToken", "sparse")})
            row["SyncToken"] = str(int(row["SyncToken"]) + 1)
            row["MetaData"]["LastUpdatedTime"] = now
            return httpx.Response(200, json={self._name(entity): row})
        name_field = {"customer": "DisplayName", "item": "Name", "vendor": "DisplayName"}.get(entity)
        if name_field:
            same = next((r for r in table.values() if r.get(name_field) == body.get(name_field)), None)
            if same is not None:
                detail = f"The name supplied already exists. : Id={same['Id']}"
                return fault("6240", "Duplicate Name Exists Error", detail)
        customer = (body.get("CustomerRef") or {}).get("value")
        if entity != "customer" and customer is not None and customer not in self.rows["customer"]:
            return fault("2500", "Invalid Reference Id", f"Invalid Customer reference {customer!r}")
        if entity == "bill" and (problem := self._bill_problem(body)):
            return problem
        if entity in ("invoice", "creditmemo") and (problem := self._tax_problem(body)):
            return problem
        for line in body.get("Line") or ():
            detail = line.get("SalesItemLineDetail") or line.get("ItemBasedExpenseLineDetail") or {}
            item = (detail.get("ItemRef") or {}).get("value")
            if item and item not in self.rows["item"]:
                return fault("2500", "Invalid Reference Id", f"Invalid Item reference {item!r}")
        self._ids += 1
        row = {
            **body,
            "Id": str(self._ids),
            "SyncToken": "0",
            "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
        }
        table[row["Id"]] = row
        return httpx.Response(200, json={self._name(entity): row})

    def _tax_problem(self, body: dict[str, Any]) -> httpx.Response | None:
        """Each line of a sale names one of Tally's tax codes (QuickBooks outside the US)."""
        codes = {c["Id"] for c in TAX_CODES}
        for line in body.get("Line") or ():
            code = ((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef") or {}).get("value")
            if not code:
                return fault("6000", "A business validation error has occurred", "TaxCodeRef is required")
            if code not in codes:
                return fault("2500", "Invalid Reference Id", f"Invalid TaxCode reference {code!r}")
        return None

    def _bill_problem(self, body: dict[str, Any]) -> httpx.Response | None:
        """A bill names a vendor Tally has, and each line says where its expense goes."""
        vendor = (body.get("VendorRef") or {}).get("value")
        if vendor not in self.rows["vendor"]:
            return fault("2500", "Invalid Reference Id", f"Invalid Vendor reference {vendor!r}")
        lines = body.get("Line") or []
        if not lines or any(sum(1 for d in EXPENSE_DETAILS if d in line) != 1 for line in lines):
            return fault("2020", "Required param missing", "Each Line needs one expense line detail.")
        if "TotalAmt" not in body:
            return fault("2020", "Required param missing", "TotalAmt")
        return None

    # --- the tool's side of a test ---------------------------------------------------------------

    def creates(self, entity: str) -> int:
        return sum(
            1
            for r in self.requests
            if r.method == "POST" and r.url.path.endswith(f"/{entity}") and "Id" not in json.loads(r.content)
        )

    def edit(self, entity: str, row_id: str, **changes: Any) -> None:
        """Somebody edits a record in Tally: its SyncToken moves on."""
        with self.lock:
            row = self.rows[entity][row_id]
            row.update(changes)
            row["SyncToken"] = str(int(row["SyncToken"]) + 1)

    def add_customer(self, name: str, *, entity: str = "customer") -> str:
        with self.lock:
            self._ids += 1
            now = self.clock().isoformat()
            row = {
                "Id": str(self._ids),
                "DisplayName": name,
                "SyncToken": "0",
                "MetaData": {"LastUpdatedTime": now},
            }
            self.rows[entity][row["Id"]] = row
            return row["Id"]

    def add_vendor(self, name: str) -> str:
        return self.add_customer(name, entity="vendor")

    def receive_payment(self, invoice_id: str, amount: str) -> tuple[dict[str, str], bytes]:
        """A payment recorded in Tally against one invoice: the webhook Tally sends about it."""
        with self.lock:
            invoice = self.rows["invoice"][invoice_id]
            self._ids += 1
            now = self.clock()
            row = {
                "Id": str(self._ids),
                "SyncToken": "0",
                "TxnDate": now.date().isoformat(),
                "TotalAmt": amount,
                "CurrencyRef": invoice["CurrencyRef"],
                "CustomerRef": invoice["CustomerRef"],
                "PaymentRefNum": f"CHK-{self._ids}",
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
                "MetaData": {"CreateTime": now.isoformat(), "LastUpdatedTime": now.isoformat()},
            }
            self.rows["payment"][row["Id"]] = row
        entities = [
            {"name": "Payment", "id": row["Id"], "operation": "Create", "lastUpdated": now.isoformat()}
        ]
        return self.webhook(entities)

    def webhook(
        self, entities: list[dict[str, str]], *, verifier: str = VERIFIER
    ) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": entities}}]}
        ).encode()
        return {"Content-Type": "application/json", "intuit-signature": signature(verifier, body)}, body
