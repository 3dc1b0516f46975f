"""HubSpot's harness for the conformance kit's CRM part (tests/integrations/conformance/harness.py,
``CrmHarness``), against the fake HubSpot (``fake.py``) through the connector's real wire format.

The connection uses the private app's token (it never expires) and the app's client secret (the key
of every webhook signature), and sends deals to the "Sales orders" pipeline, whose stages are one a
step of an order's life, so each stage the hub gives a deal shows in the deal's ``dealstage``
history. The kit's words for a contact (name, email, phone, reference) are HubSpot's ``firstname``
and ``lastname``, ``email``, ``phone`` and ``erp_customer_code``.
"""

from __future__ import annotations

import datetime
from typing import Any

import httpx

from integrations.hubspot.connector import HubSpotConnector
from integrations.hubspot.fake import (
    APP_ID,
    BASE_URL,
    CLIENT_SECRET,
    PORTAL_ID,
    PRIVATE_APP_TOKEN,
    FakeHubSpot,
)
from integrations.hubspot.fake_data import SALES_REP_ID, epoch_ms
from integrations.hubspot.fake_webhooks import compact

UPSERT = "/crm/v3/objects/contacts/batch/upsert"
# Our words for where an order stands -> the stages of the portal's "orders" pipeline.
STAGES = {
    "confirmed": "order_confirmed",
    "shipped": "order_shipped",
    "invoiced": "order_invoiced",
    "paid": "order_paid",
    "cancelled": "order_cancelled",
    "closed": "order_closed",
}
OUR_STAGE = {stage: ours for ours, stage in STAGES.items()}


def name_of(values: dict[str, str | None]) -> str:
    return " ".join(p for p in (values.get("firstname") or "", values.get("lastname") or "") if p)


class Harness:
    connector = HubSpotConnector
    base_url = BASE_URL
    other_account = "5820"  # a portal that installed the app too, which no connection here is for

    def __init__(self) -> None:
        self.fake = FakeHubSpot()
        self.hook_url = ""

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self.fake.handle)

    def settings(self) -> dict[str, Any]:
        return {
            "base_url": BASE_URL,
            "portal_id": str(PORTAL_ID),
            "app_id": str(APP_ID),
            "pipeline": "orders",
            "stages": dict(STAGES),
        }

    def secrets(self) -> dict[str, Any]:
        return {"access_token": PRIVATE_APP_TOKEN, "client_secret": CLIENT_SECRET}

    def deliver_to(self, url: str) -> None:
        """The app's target URL, as HubSpot calls it (what its v3 signatures cover)."""
        self.hook_url = url
        self.fake.set_target(url)

    # --- the tool's state -----------------------------------------------------------------------

    def contacts(self) -> list[dict[str, str]]:
        """HubSpot's contacts, oldest first, in the kit's words."""
        with self.fake.lock:
            rows = [(r.id, r.values) for r in self.fake.active("contacts")]
        return [
            {
                "id": record_id,
                "name": name_of(values),
                "email": values.get("email") or "",
                "phone": values.get("phone") or "",
                "reference": values.get("erp_customer_code") or "",
            }
            for record_id, values in rows
        ]

    def batches(self) -> list[int]:
        """How many contacts each batch upsert HubSpot received carried."""
        with self.fake.lock:
            logged = [
                r for r in self.fake.requests if r.method == "POST" and r.url.split("?")[0].endswith(UPSERT)
            ]
        return [len(httpx.Response(200, content=r.body).json()["inputs"]) for r in logged]

    def lose_next_answer(self) -> None:
        """HubSpot does the next contact upsert; its answer is lost on the way back."""
        self.fake.lose_next_answer(match=UPSERT)

    def refused_customer(self) -> tuple[dict[str, str], str]:
        """The 207 sample's invalid email, and HubSpot's words for it."""
        return {"email": "sam.hiker@@example.com"}, "Email address sam.hiker@@example.com is invalid"

    def deal(self, reference: str) -> dict[str, Any] | None:
        """The deal of our order number: id, contact, amount, and each stage it was given, in our words."""
        with self.fake.lock:
            deal = self.fake.find_unique("deals", "erp_order_number", reference)
            if deal is None:
                return None
            contacts = self.fake.associated("deals", deal.id, "contacts")
            stages = [v.value or "" for v in reversed(deal.history.get("dealstage", []))]
            return {
                "id": deal.id,
                "contact": ",".join(contacts),
                "amount": deal.get("amount") or "",
                "stages": [OUR_STAGE.get(s, s) for s in stages],
            }

    # --- what the tool sends --------------------------------------------------------------------

    def edit_contact(self, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]:
        """The sales rep edits a contact in HubSpot: the signed array HubSpot sends about it, one
        event per property changed."""
        self.fake.rep_edits("contacts", contact_id, **self._in_its_words(values))
        return self._delivery(self.fake.take_events(source="CRM_UI"))

    def writes_reported(self) -> tuple[dict[str, str], bytes]:
        """HubSpot's report of what its API did since the last one: our own writes, told back."""
        events = self.fake.take_events(source="INTEGRATION")
        assert events, "HubSpot has no write of its API to report."
        return self._delivery(events)

    def other_accounts_edit(self, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]:
        """A validly signed array about a contact of another portal that installed the app (the same
        id there); nothing of this portal changes."""
        moment = epoch_ms(self.fake.clock())
        events = [
            {
                "eventId": 9_000_000 + index,
                "subscriptionId": 26,
                "portalId": int(self.other_account),
                "appId": APP_ID,
                "occurredAt": moment,
                "subscriptionType": "contact.propertyChange",
                "attemptNumber": 0,
                "objectId": int(contact_id),
                "propertyName": name,
                "propertyValue": value,
                "changeSource": "CRM_UI",
                "sourceId": f"userId:{SALES_REP_ID}",
            }
            for index, (name, value) in enumerate(self._in_its_words(values).items())
        ]
        return self._delivery(events)

    def stale(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        """The same array, validly signed six minutes ago (a replay)."""
        sent_at = self.fake.clock() - datetime.timedelta(minutes=6)
        return self.fake.signed(body, url=self.hook_url, sent_at=sent_at), body

    def forged(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        """The same array, signed now with a secret that is not the app's."""
        return self.fake.signed(body, url=self.hook_url, secret="not-the-client-secret"), body

    def _delivery(self, events: list[dict[str, Any]]) -> tuple[dict[str, str], bytes]:
        body = compact(events)
        return self.fake.signed(body, url=self.hook_url), body

    @staticmethod
    def _in_its_words(values: dict[str, str]) -> dict[str, str]:
        names = {k: v for k, v in values.items() if k in ("email", "phone")}
        if "name" in values:
            first, _, last = values["name"].partition(" ")
            names["firstname"], names["lastname"] = first, last
        return names
