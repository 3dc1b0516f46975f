"""What QuickBooks tells the hub: records read back for reconciliation, webhooks (both formats,
verified with ``intuit-signature``), a payment read by id, and CDC as the safety net.

Read-backs (``read_back``) are queries by id (``select * from Invoice where Id in (...)``, at most
1000 ids a query, QuickBooks' page), one per entity and thousand records rather than one read per
record: reconciliation reads every record the hub pushed. Each row comes back in the hub's words
(the out-record's field names), with ``voided`` "true" for a transaction voided there (QuickBooks
keeps it with its amounts zeroed and "Voided" in its private note); a record deleted there is not
in the answer (None). Balances ("customer_balance", "vendor_balance") are the ``Balance`` of each
customer and vendor, inactive ones too (``Active in (true, false)``; the query language answers
active names only unless asked [inferred from Intuit's query docs]).

A void or a delete made there is never applied here (the books are ours to decide): the webhook
is skipped and reconciliation finds it ("voided_there", "missing_there") for a person."""

from __future__ import annotations

import datetime
import hmac
import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from integrations.contract import (
    InboundItem,
    PullPage,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.quickbooks import mapping
from integrations.quickbooks.auth import sign
from integrations.quickbooks.client import CDC_LOOKBACK, PAYMENT, QuickBooksClient
from integrations.quickbooks.mapping import CENT

# our object type -> the QuickBooks entities its ids may be (a credit note is an "invoice" of ours)
READ_BACK = {
    "customer": ("Customer",),
    "invoice": ("Invoice", "CreditMemo"),
    "payment": ("Payment",),
    "bill": ("Bill",),
    "refund": ("Purchase",),
    "bill_payment": ("BillPayment",),
    "customer_balance": ("Customer",),
    "vendor_balance": ("Vendor",),
}
NAMES = frozenset({"Customer", "Vendor"})  # name lists: inactive ones are asked for too
QUERY_PAGE = 1000  # QuickBooks' largest page (MAXRESULTS)


def amount(value: Any) -> str:
    """A JSON number of QuickBooks' as an amount to the cent ("20.0" -> "20.00"; none: "")."""
    return "" if value is None else str(Decimal(str(value)).quantize(CENT, ROUND_HALF_UP))


def voided(row: Mapping[str, Any]) -> bool:
    """Whether a transaction was voided in QuickBooks: it stays, amounts zeroed, "Voided" in its
    private note (a memo that merely says "voided" keeps its amount)."""
    return "Voided" in str(row.get("PrivateNote") or "") and not row.get("TotalAmt")


def in_our_words(object_type: str, row: Mapping[str, Any]) -> dict[str, str]:
    """A row read back, in the out-record's field names, as reconciliation compares them."""
    if object_type in ("customer_balance", "vendor_balance"):
        return {"balance": amount(row.get("Balance", 0))}
    if object_type == "bill":
        words = {
            "total": amount(row.get("TotalAmt")),
            "vendor_external_id": str((row.get("VendorRef") or {}).get("value") or ""),
        }
    elif object_type == "refund":
        words = {"amount": amount(row.get("TotalAmt"))}
    elif object_type == "bill_payment":
        bills = [
            str(link["TxnId"])
            for line in row.get("Line") or ()
            for link in line.get("LinkedTxn") or ()
            if link.get("TxnType") == "Bill"
        ]
        words = {"amount": amount(row.get("TotalAmt")), "bill_external_id": bills[0] if bills else ""}
    else:
        words = mapping.in_our_words(object_type, row)
    if object_type != "customer":
        words["voided"] = "true" if voided(row) else "false"
    return words


def id_query(entity: str, ids: list[str], columns: str = "*") -> str:
    """A query of up to a thousand records by id (name lists: active or not)."""
    quoted = ", ".join("'" + i.replace("\\", "\\\\").replace("'", "\\'") + "'" for i in ids)
    active = "Active in (true, false) and " if entity in NAMES else ""
    return f"select {columns} from {entity} where {active}Id in ({quoted}) maxresults {QUERY_PAGE}"


class QuickBooksInbound(QuickBooksClient):
    def read_back(self, object_type: str, external_ids: list[str]) -> dict[str, Mapping[str, str] | None]:
        """The records by id, a query per entity and thousand ids; an id in no answer: None."""
        entities = READ_BACK.get(object_type)
        if entities is None:
            return super().read_back(object_type, external_ids)
        columns = "Id, Balance" if object_type.endswith("_balance") else "*"
        found: dict[str, Mapping[str, str] | None] = dict.fromkeys(external_ids)
        for entity in entities:
            wanted = [i for i in dict.fromkeys(external_ids) if found[i] is None]
            for start in range(0, len(wanted), QUERY_PAGE):
                text = id_query(entity, wanted[start : start + QUERY_PAGE], columns)
                for row in self.query(text).get(entity) or ():
                    found[str(row["Id"])] = in_our_words(object_type, row)
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
            return []  # what changed there of what the hub pushed (a void, a delete): reconciled
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
