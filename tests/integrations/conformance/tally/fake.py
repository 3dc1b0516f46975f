"""Tally's API in memory (see connector.py for the wire format), behind httpx.MockTransport."""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any

import httpx

from tests.integrations.conformance.tally.connector import REALM, signature

ACCESS_TOKEN, VERIFIER = "tally-token-1", "tally-verifier-9"
ENTITIES = ("customer", "item", "invoice", "creditmemo", "payment", "refundreceipt", "vendor", "bill")
EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")


def fault(code: str, message: str, detail: str = "", status: int = 400) -> httpx.Response:
    error = {"Message": message, "Detail": detail or message, "code": code}
    return httpx.Response(status, json={"Fault": {"Error": [error], "type": "ValidationFault"}})


class FakeTally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in ENTITIES}
        self.answered: dict[str, tuple[int, bytes]] = {}  # requestid -> the first answer
        self.requests: list[httpx.Request] = []
        self.lose_answers = 0
        self._ids = 100

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
                return fault("3200", "AuthenticationFailed", status=401)
            path = request.url.path.removeprefix(f"/v3/company/{REALM}/").strip("/")
            response = self._route(request, path)
            if self.lose_answers:
                self.lose_answers -= 1
                raise httpx.ReadTimeout("the answer was lost", request=request)
            return response

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        parts = path.split("/")
        if parts[0] == "companyinfo":
            return httpx.Response(200, json={"CompanyInfo": {"CompanyName": "Tally Test Books"}})
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
        now = datetime.datetime.now(datetime.UTC).isoformat()
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
            now = datetime.datetime.now(datetime.UTC).isoformat()
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
            now = datetime.datetime.now(datetime.UTC)
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
