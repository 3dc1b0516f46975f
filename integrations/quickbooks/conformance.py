"""QuickBooks Online's harness for the conformance kit's accounting part
(tests/integrations/conformance/harness.py: ``AccountingHarness``), against the fake QuickBooks.

The fake's company is the samples' (realm ``REALM_ID``), with its chart of accounts: the
connection's settings name its income account (79, Sales of Product Income) and its COGS account
(80) as the defaults where no account role is mapped. The kit's mappings part wants a tax code of
20 %: the company is given one ("VAT 20%", code 5), as a company outside the US would have.
A payment the kit records "in the tool" is the fake accountant's (``record_payment_in_qbo``), and
the webhook is the one the fake sends for it (legacy ``eventNotifications``, signed).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from integrations.quickbooks.connector import QuickBooksConnector
from integrations.quickbooks.fake import ACCESS_TOKEN, REALM_ID, VERIFIER_TOKEN, FakeQuickBooks
from integrations.quickbooks.fake_data import qbo_time

API = "https://quickbooks.api.intuit.com"
HOOK = "https://erp.test/integrations/hooks/app/quickbooks/"
ENTITIES = {
    "customer": "Customer",
    "item": "Item",
    "invoice": "Invoice",
    "payment": "Payment",
    "vendor": "Vendor",
    "bill": "Bill",
}
VAT_CODE, VAT_RATE = "5", "5"


class Harness:
    connector = QuickBooksConnector
    base_url = API

    def __init__(self) -> None:
        self.fake = FakeQuickBooks(limits=False)
        self.fake.set_webhook_endpoint(HOOK, entities={"Payment"}, webhook_format="legacy")
        with self.fake._lock:
            company = self.fake.company()
            now = self.fake.clock()
            meta = {"CreateTime": qbo_time(now), "LastUpdatedTime": qbo_time(now)}
            rate = {"Name": "VAT 20%", "Active": True, "RateValue": 20, "AgencyRef": {"value": "1"}}
            company.put("TaxRate", {**rate, "Id": VAT_RATE, "SyncToken": "0", "MetaData": meta}, now)
            code = {
                "Name": "VAT 20%",
                "Description": "VAT 20%",
                "Active": True,
                "Taxable": True,
                "TaxGroup": True,
                "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": VAT_RATE}}]},
                "PurchaseTaxRateList": {"TaxRateDetail": []},
            }
            company.put("TaxCode", {**code, "Id": VAT_CODE, "SyncToken": "0", "MetaData": meta}, now)

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"realm_id": REALM_ID, "income_account": "79", "expense_account": "80"}

    def secrets(self) -> dict[str, Any]:
        return {"access_token": ACCESS_TOKEN, "verifier_token": VERIFIER_TOKEN}

    # --- the tool's state -----------------------------------------------------------------------

    def records(self, kind: str) -> list[dict[str, Any]]:
        out = []
        for row in self.fake.objects(ENTITIES[kind]):
            links = [t["TxnId"] for line in row.get("Line") or () for t in line.get("LinkedTxn") or ()]
            out.append(
                {
                    "id": row["Id"],
                    "name": row.get("DisplayName") or row.get("Name") or row.get("DocNumber") or "",
                    "email": (row.get("PrimaryEmailAddr") or {}).get("Address", ""),
                    "customer": (row.get("CustomerRef") or {}).get("value", ""),
                    "vendor": (row.get("VendorRef") or {}).get("value", ""),
                    "number": row.get("PrivateNote", "") if kind == "bill" else "",
                    "total": str(row.get("TotalAmt", "")),
                    "document": links[0] if links else "",
                }
            )
        return out

    def tax_codes(self) -> list[dict[str, str]]:
        rates = {r["Id"]: r["RateValue"] for r in self.fake.objects("TaxRate")}
        codes = []
        for code in self.fake.objects("TaxCode"):
            details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
            rate = sum(float(rates.get(d["TaxRateRef"]["value"], 0)) for d in details)
            codes.append({"id": code["Id"], "name": code["Name"], "rate": f"{rate:g}"})
        return codes

    def line_tax_codes(self, record_id: str) -> list[str]:
        row = self.fake.get("Invoice", record_id) or self.fake.get("CreditMemo", record_id) or {}
        return [
            str(line["SalesItemLineDetail"]["TaxCodeRef"]["value"])
            for line in row.get("Line") or ()
            if line.get("DetailType") == "SalesItemLineDetail"
        ]

    def creates(self, kind: str) -> int:
        """Create requests (no ``Id`` in the body) QuickBooks received for a kind, replays too."""
        found = 0
        for request in self.fake.requests_to(f"POST {kind}"):
            body = json.loads(request.body or b"{}")
            found += "Id" not in body
        return found

    def lose_next_answer(self) -> None:
        self.fake.timeout_next(1, match="POST invoice", processed=True)

    def edit_in_tool(self, kind: str, record_id: str) -> None:
        note = "Notes" if kind in ("customer", "vendor") else "PrivateNote"
        self.fake.edit_in_qbo(ENTITIES[kind], record_id, **{note: "edited in QuickBooks"})

    def existing_customer(self, name: str) -> str:
        return str(self.fake.create_in_qbo("Customer", {"DisplayName": name})["Id"])

    def existing_vendor(self, name: str) -> str:
        return str(self.fake.create_in_qbo("Vendor", {"DisplayName": name})["Id"])

    def change_in_tool(self, kind: str, record_id: str, **values: str) -> None:
        """Somebody changes a record there (name, email, total); its SyncToken moves on."""
        with self.fake._lock:
            row = self.fake.company().find(ENTITIES[kind], record_id)
            assert row is not None, f"QuickBooks has no {kind} {record_id}"
            if "name" in values:
                row["DocNumber" if kind == "invoice" else "DisplayName"] = values["name"]
            if "email" in values:
                row["PrimaryEmailAddr"] = {"Address": values["email"]}
            if "total" in values:
                row["TotalAmt"] = float(values["total"])
            row["SyncToken"] = str(int(row["SyncToken"]) + 1)

    def delete_in_tool(self, kind: str, record_id: str) -> None:
        self.fake.delete_in_qbo(ENTITIES[kind], record_id)

    # --- what the tool sends --------------------------------------------------------------------

    def _sent(self) -> tuple[dict[str, str], bytes]:
        sent: list[tuple[dict[str, str], bytes]] = []

        def send(url: str, headers: dict[str, str], body: bytes) -> int:
            sent.append((dict(headers), body))
            return 200

        self.fake.deliver_webhooks(send)
        assert sent, "QuickBooks sent no webhook"
        return sent[-1]

    def payment_webhook(self, invoice_id: str, amount: str) -> tuple[dict[str, str], bytes]:
        self.fake.record_payment_in_qbo(invoice_id, float(amount))
        return self._sent()

    def forged(self, invoice_id: str, amount: str) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {
                "eventNotifications": [
                    {
                        "realmId": REALM_ID,
                        "dataChangeEvent": {
                            "entities": [
                                {
                                    "name": "Payment",
                                    "id": "999999",
                                    "operation": "Create",
                                    "lastUpdated": "2026-03-14T14:31:20.000Z",
                                }
                            ]
                        },
                    }
                ]
            }
        ).encode()
        return {"Content-Type": "application/json", "intuit-signature": "Zm9yZ2Vk"}, body
