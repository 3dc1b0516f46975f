"""What QuickBooks tells the hub: records read back for reconciliation, webhooks (both formats,
verified with ``intuit-signature``), a payment read by id, and CDC as the safety net."""

from __future__ import annotations

import datetime
import hmac
import json
from collections.abc import Mapping

from django.utils import timezone

from integrations.contract import (
    InboundItem,
    PullPage,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import PermanentError
from integrations.quickbooks import mapping
from integrations.quickbooks.auth import sign
from integrations.quickbooks.client import CDC_LOOKBACK, PAYMENT, QuickBooksClient


class QuickBooksInbound(QuickBooksClient):
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
