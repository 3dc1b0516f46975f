"""Tally's harness for the kit's accounting part (tests/integrations/conformance/harness.py)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integrations.conformance.tally.connector import BASE_URL, REALM, TallyConnector
from tests.integrations.conformance.tally.fake import ACCESS_TOKEN, TAX_CODES, VERIFIER, FakeTally


class Harness:
    connector = TallyConnector
    base_url = BASE_URL

    def __init__(self) -> None:
        self.fake = FakeTally()

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"base_url": BASE_URL, "realm_id": REALM}

    def secrets(self) -> dict[str, Any]:
        return {"access_token": ACCESS_TOKEN, "verifier_token": VERIFIER}

    # --- the tool's state ("customer", "item", "invoice", "payment", "vendor", "bill") -----------

    def records(self, kind: str) -> list[dict[str, Any]]:
        """The tool's records of a kind, oldest first, in the kit's words: id, name (a bill's: the
        supplier's reference), customer, vendor, number (a bill's: ours), total, document (what a
        payment settles)."""
        out = []
        for row in self.fake.rows[kind].values():
            links = [t["TxnId"] for line in row.get("Line") or () for t in line.get("LinkedTxn") or ()]
            out.append(
                {
                    "id": row["Id"],
                    "name": row.get("DisplayName") or row.get("Name") or row.get("DocNumber") or "",
                    "email": (row.get("PrimaryEmailAddr") or {}).get("Address", ""),
                    "customer": (row.get("CustomerRef") or {}).get("value", ""),
                    "vendor": (row.get("VendorRef") or {}).get("value", ""),
                    "number": row.get("PrivateNote", "") if kind == "bill" else "",
                    "total": row.get("TotalAmt", ""),
                    "document": links[0] if links else "",
                }
            )
        return out

    def tax_codes(self) -> list[dict[str, str]]:
        """The tool's tax codes, as it lists them: {"id", "name", "rate" (percent)}."""
        return [{"id": c["Id"], "name": c["Name"], "rate": c["RateValue"]} for c in TAX_CODES]

    def line_tax_codes(self, record_id: str) -> list[str]:
        """The tax code each line of the tool's invoice (or credit note) names, in order."""
        row = self.fake.rows["invoice"].get(record_id) or self.fake.rows["creditmemo"][record_id]
        return [
            str(((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef") or {}).get("value") or "")
            for line in row.get("Line") or ()
        ]

    def creates(self, kind: str) -> int:
        """Create requests the tool received for a kind (answered or not, replays included)."""
        return self.fake.creates(kind)

    def lose_next_answer(self) -> None:
        self.fake.timeout_next(1, processed=True)  # the write is done, its answer lost

    def edit_in_tool(self, kind: str, record_id: str) -> None:
        """Somebody changes the record in the tool: the version the hub holds goes stale."""
        self.fake.edit(kind, record_id, PrivateNote="edited in Tally")

    def existing_customer(self, name: str) -> str:
        return self.fake.add_customer(name)

    def existing_vendor(self, name: str) -> str:
        return self.fake.add_vendor(name)

    def change_in_tool(self, kind: str, record_id: str, **values: str) -> None:
        """Somebody changes a record's values in the tool (the kit's words: name, email, total):
        what reconciliation compares, and its version moves on too."""
        fields = {"name": "DocNumber" if kind == "invoice" else "DisplayName", "total": "TotalAmt"}
        changes: dict[str, Any] = {fields[k]: v for k, v in values.items() if k in fields}
        if "email" in values:
            changes["PrimaryEmailAddr"] = {"Address": values["email"]}
        self.fake.edit(kind, record_id, **changes)

    def delete_in_tool(self, kind: str, record_id: str) -> None:
        """Somebody deletes a record in the tool: reading it answers "Object Not Found"."""
        with self.fake.lock:
            del self.fake.rows[kind][record_id]

    # --- what the tool sends --------------------------------------------------------------------

    def payment_webhook(self, invoice_id: str, amount: str) -> tuple[dict[str, str], bytes]:
        """A payment recorded in the tool against one of the invoices the hub pushed."""
        return self.fake.receive_payment(invoice_id, amount)

    def forged(self, invoice_id: str, amount: str) -> tuple[dict[str, str], bytes]:
        headers, body = self.fake.receive_payment(invoice_id, amount)
        return {**headers, "intuit-signature": "Zm9yZ2Vk"}, body
