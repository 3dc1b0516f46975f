"""Pipeline's harness for the kit's CRM part (tests/integrations/conformance/harness.py, CrmHarness)."""

from __future__ import annotations

import datetime
from typing import Any

import httpx

from tests.integrations.conformance.pipeline.connector import (
    BASE_URL,
    ID_PROPERTY,
    PORTAL,
    STAGES,
    PipelineConnector,
    joined_name,
    split_name,
)
from tests.integrations.conformance.pipeline.fake import ACCESS_TOKEN, CLIENT_SECRET, FakePipeline, now

OUR_STAGE = {stage: ours for ours, stage in STAGES.items()}


class Harness:
    connector = PipelineConnector
    base_url = BASE_URL
    other_account = "5820"  # a portal that installed the app too, which no connection here is for

    def __init__(self) -> None:
        self.fake = FakePipeline()

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {"base_url": BASE_URL, "portal_id": PORTAL}

    def secrets(self) -> dict[str, Any]:
        return {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET}

    def deliver_to(self, url: str) -> None:
        """The app's webhook address, as the CRM calls it (what its signatures cover)."""
        self.fake.hook_url = url

    # --- the tool's state -----------------------------------------------------------------------

    def contacts(self) -> list[dict[str, str]]:
        """The CRM's contacts, oldest first, in the kit's words: id, name, email, phone, reference
        (our customer code)."""
        with self.fake.lock:
            rows = list(self.fake.contacts.values())
        return [
            {
                "id": row["id"],
                "name": joined_name(row["values"]),
                "email": row["values"]["email"],
                "phone": row["values"]["phone"],
                "reference": row["values"][ID_PROPERTY],
            }
            for row in rows
        ]

    def batches(self) -> list[int]:
        """How many contacts each batch request the CRM received carried."""
        return list(self.fake.batches)

    def lose_next_answer(self) -> None:
        self.fake.timeout_next(1, processed=True)  # the write is done, its answer lost

    def refused_customer(self) -> tuple[dict[str, str], str]:
        """A customer's values the CRM refuses a contact with, and what it says about them."""
        return {"email": "sam.hiker@@example.com"}, "Email address sam.hiker@@example.com is invalid"

    def deal(self, reference: str) -> dict[str, Any] | None:
        """The CRM's deal of our order number: id, contact, amount, and the stage each write gave it
        (in our words)."""
        with self.fake.lock:
            deal = next((d for d in self.fake.deals.values() if d["values"]["erp_order"] == reference), None)
            if deal is None:
                return None
            return {
                "id": deal["id"],
                "contact": ",".join(str(a["to"]["id"]) for a in deal["associations"]),
                "amount": deal["values"]["amount"],
                "stages": [OUR_STAGE.get(s, s) for s in self.fake.deal_stages[deal["id"]]],
            }

    # --- what the tool sends --------------------------------------------------------------------

    def edit_contact(self, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]:
        """Somebody edits a contact in the CRM (the kit's words: name, email, phone): the signed
        delivery the CRM sends, one event per value it changed."""
        return self.fake.edit_contact(contact_id, **self._in_its_words(values))

    def writes_reported(self) -> tuple[dict[str, str], bytes]:
        """The delivery that reports what the CRM's API did since the last one: our own pushes,
        told back to us."""
        events = self.fake.take_pending()
        assert events, "The CRM has no write of its API to report."
        return self.fake.delivery(events)

    def other_accounts_edit(self, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]:
        """A validly signed delivery about a contact of another portal (the same id there)."""
        return self.fake.other_portals_edit(self.other_account, contact_id, **self._in_its_words(values))

    def stale(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        """The same delivery, validly signed six minutes ago (a replay)."""
        return self.fake.signed(body, sent_at=now() - datetime.timedelta(minutes=6)), body

    def forged(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        """The same delivery, signed now with a secret that is not the app's."""
        return self.fake.signed(body, secret="not-the-client-secret"), body

    def _in_its_words(self, values: dict[str, str]) -> dict[str, str]:
        names = {k: v for k, v in values.items() if k in ("email", "phone")}
        if "name" in values:
            names["given_name"], names["family_name"] = split_name(values["name"])
        return names
