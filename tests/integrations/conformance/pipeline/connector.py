"""Pipeline: a minimal made-up CRM, shaped like HubSpot, to show what a CRM connector is (an adapter
and nothing else) and to run the kit's CRM part: contacts out and in, deals out.

Wire format (JSON, ``Authorization: Bearer <token>``, API at ``https://pipeline.test/crm/v3``):

* A contact: ``{"id", "values": {"given_name", "family_name", "email", "phone", "company",
  "erp_code", "lastmodified"}, "createdAt", "updatedAt", "archived"}``, every value a string (or
  null). ``GET /objects/contacts/<id>`` reads one; ``PATCH /objects/contacts/<id>`` ``{"values"}``
  changes one.
* ``POST /objects/contacts/batch/upsert`` ``{"inputs": [{"idProperty": "erp_code", "id": <our
  customer code>, "traceId": <the push's idempotency key>, "values": {...}}]}`` creates or updates
  each contact by our customer code (so a retry after a lost answer finds what the first attempt
  made). 200 ``{"status": "COMPLETE", "results": [<contact> + "new", "traceId"]}``; 207 when it
  refused some: ``"numErrors"`` and ``"errors": [{"status": "error", "category", "message",
  "context": {"traceId": [...]}}]``, the other inputs done.
* ``POST /objects/deals`` (an ``Idempotency-Key`` header: the same key again answers the first
  answer) ``{"values": {"title", "amount", "currency", "pipeline", "stage", "closes_on",
  "erp_order"}, "associations": [{"to": {"id": <contact id>}, "type": "deal_to_contact"}]}``; a
  deal must name a contact the CRM has. ``PATCH /objects/deals/<id>`` ``{"values"}``.
* Errors: ``{"status": "error", "category": "VALIDATION_ERROR" | "OBJECT_NOT_FOUND" | ...,
  "message", "correlationId"}``.
* Field ownership (``field_owners``): every contact keeps when each property last changed
  (``"timestamps": {property: time}``); a write may name, per property, when the writer changed
  it (``"changedAt"``), and a property that changed later in the CRM keeps its value there: the
  last writer wins. The hub's field rules are the connection's ``field_owners`` setting over
  ``integrations.field_owners.DEFAULTS``, for the fields Pipeline keeps (``KEEPS``). Order history
  goes to the ``lifetime_value`` and ``last_order`` properties; a contact merged into another
  names the ids it absorbed (``"mergedIds"``).
* Webhooks are the app's: every portal's events go to one address, a JSON array per delivery,
  ``[{"eventId", "subscriptionType" ("contact.creation", "contact.propertyChange"), "objectId",
  "portalId", "occurredAt" (ms), "propertyName", "propertyValue", "changeSource"}]``, signed
  ``X-Pipeline-Signature-v3`` = base64(HMAC-SHA256(client secret, method + URI + body +
  timestamp)) with ``X-Pipeline-Request-Timestamp`` (ms), refused older than five minutes. Events
  are thin: the hub reads the contact (``fetch``).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, field_validator

from integrations.contract import (
    Capability,
    Connector,
    InboundItem,
    PushContext,
    PushResult,
    WebhookEnvelope,
    WebhookRequest,
)
from integrations.errors import HubError, NeedsAPerson, PermanentError, TransientError
from integrations.field_owners import Owner, rules
from integrations.records import CustomerOut, CustomerRecord, DealOut, OutboundItem

BASE_URL = "https://pipeline.test/crm/v3"
PORTAL = "4471"
ID_PROPERTY = "erp_code"  # the contact property holding our customer code: what upserts key on
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Pipeline-Signature-v3", "X-Pipeline-Request-Timestamp"
SIGNATURE_TOLERANCE_SECONDS = 300
CONTACT_TOPICS = ("contact.creation", "contact.propertyChange")
# Our words for where an order stands -> the stage ids of the CRM's default pipeline.
STAGES = {
    "confirmed": "won",
    "shipped": "shipped",
    "invoiced": "invoiced",
    "paid": "paid",
    "cancelled": "lost",
    "closed": "done",
}
REFUSED_FOR_GOOD = frozenset({"VALIDATION_ERROR", "OBJECT_NOT_FOUND", "CONFLICT"})
KEEPS = ("code", "name", "email", "phone")  # the customer fields Pipeline keeps (our names)
PROPERTIES = {"name": ("given_name", "family_name"), "email": ("email",), "phone": ("phone",)}


class PipelineSettings(BaseModel):
    base_url: str = BASE_URL
    portal_id: str = PORTAL
    pipeline: str = "sales"
    stages: dict[str, str] = STAGES  # our stage -> the pipeline's stage id
    field_owners: dict[str, str] = {}  # our field -> hub, tool or latest, over the defaults

    @field_validator("field_owners")
    @classmethod
    def _known_owners(cls, value: dict[str, str]) -> dict[str, str]:
        rules(value)  # a ValueError says what is wrong
        return value


class PipelineSecrets(BaseModel):
    access_token: str
    client_secret: str  # the app's: it signs every portal's webhooks


def signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def split_name(name: str) -> tuple[str, str]:
    given, _, family = name.partition(" ")
    return given, family


def joined_name(values: Mapping[str, Any]) -> str:
    return " ".join(p for p in (values.get("given_name") or "", values.get("family_name") or "") if p)


def moment(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


class PipelineConnector(Connector):
    key = "pipeline"
    name = "Pipeline (test CRM)"
    capabilities = frozenset({Capability.CUSTOMERS_IN, Capability.CUSTOMERS_OUT, Capability.DEALS_OUT})
    settings_schema = PipelineSettings
    secrets_schema = PipelineSecrets
    topics = (
        "sales.customer_created",
        "sales.customer_updated",
        # an order's life, as a deal
        "sales.order_confirmed",
        "sales.order_updated",
        "sales.shipment_shipped",
        "sales.invoice_issued",
        "sales.payment_received",
        "sales.order_cancelled",
        "sales.order_closed",
    )
    webhook_topics = CONTACT_TOPICS
    webhook_headers = frozenset({TIMESTAMP_HEADER.lower()})
    personal_fields = frozenset({"given_name", "family_name", "email", "phone"})
    app_webhooks = True
    batch_size = 10
    rate_limit_per_second = 100.0
    rate_limit_burst = 100

    settings: PipelineSettings

    def base_url(self) -> str:
        return self.settings.base_url

    def auth_headers(self, secrets: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets.get('access_token', '')}"}

    def account_id(self) -> str:
        return self.settings.portal_id

    def field_owners(self) -> Mapping[str, Owner]:
        return {f: owner for f, owner in rules(self.settings.field_owners).items() if f in KEEPS}

    def test(self) -> str:
        return str(self.http.request("GET", f"{self.base_url()}/account/details").json()["companyName"])

    # --- inbound -----------------------------------------------------------------------------

    def verify_webhook(self, request: WebhookRequest) -> bool:
        """v3: the method, the URL as called, the body and the timestamp, refused when the
        timestamp is more than five minutes from when the delivery arrived."""
        secret = str(self.connection.get_secrets().get("client_secret") or "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not secret or not given or not timestamp.isdigit():
            return False
        age = request.received_at.timestamp() - int(timestamp) / 1000
        if abs(age) > SIGNATURE_TOLERANCE_SECONDS:
            return False  # a replay of an old delivery (or a clock far off)
        expected = signature(secret, request.method, request.url, request.body, timestamp)
        return hmac.compare_digest(expected.encode(), given.encode())

    def webhook_events(self, request: WebhookRequest) -> list[WebhookEnvelope]:
        try:
            events = json.loads(request.body)
            if not isinstance(events, list):
                raise TypeError("the body is not an array of events")
            return [
                WebhookEnvelope(
                    event_id=str(event["eventId"]),
                    topic=str(event["subscriptionType"]),
                    account=str(event["portalId"]),
                    body=json.dumps(event, sort_keys=True).encode(),
                )
                for event in events
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Not a Pipeline webhook: {exc}") from exc

    def parse_webhook(self, topic: str, headers: Mapping[str, str], body: bytes) -> list[InboundItem]:
        event = json.loads(body)
        if topic not in CONTACT_TOPICS:
            return []  # deals are ours: the CRM's changes to them are not the hub's business
        occurred = datetime.datetime.fromtimestamp(int(event["occurredAt"]) / 1000, tz=datetime.UTC)
        return [InboundItem("customer", str(event["objectId"]), updated_at=occurred)]

    def fetch(self, object_type: str, external_id: str) -> InboundItem:
        if object_type != "customer":
            return super().fetch(object_type, external_id)
        contact = self.http.request("GET", f"{self.base_url()}/objects/contacts/{external_id}").json()
        record = self._record(contact)
        return InboundItem("customer", record.external_id, updated_at=record.updated_at, record=record)

    def _record(self, contact: Mapping[str, Any]) -> CustomerRecord:
        values = contact.get("values") or {}
        modified = values.get("lastmodified") or contact.get("updatedAt")
        stamps = contact.get("timestamps") or {}
        changed_at = {
            ours: max(moment(stamps[p]) for p in props if stamps.get(p))
            for ours, props in PROPERTIES.items()
            if any(stamps.get(p) for p in props)
        }
        return CustomerRecord(
            external_id=str(contact["id"]),
            name=joined_name(values),
            email=str(values.get("email") or ""),
            phone=str(values.get("phone") or ""),
            company=str(values.get("company") or ""),
            updated_at=moment(modified) if modified else None,
            changed_at=changed_at,
            merged_external_ids=tuple(str(i) for i in contact.get("mergedIds") or ()),
        )

    # --- outbound ----------------------------------------------------------------------------

    def push(self, item: OutboundItem, context: PushContext) -> PushResult:
        if isinstance(item, CustomerOut):
            if item.external_id:
                contact = self.http.request(
                    "PATCH",
                    f"{self.base_url()}/objects/contacts/{item.external_id}",
                    json={"values": self._contact_values(item), "changedAt": self._changed_at(item)},
                ).json()
                return PushResult(external_id=str(contact["id"]), detail=f"contact {contact['id']} updated")
            result = self._upsert([(0, item, context)])[0]
            if isinstance(result, Exception):
                raise result
            return result
        if isinstance(item, DealOut):
            return self._push_deal(item, context)
        return super().push(item, context)

    def push_batch(self, items: Sequence[tuple[OutboundItem, PushContext]]) -> list[PushResult | Exception]:
        """Contacts in one batch upsert (a result per contact, its refusal from a 207); anything
        else (deals) one request each, an error of one being that item's result."""
        results: dict[int, PushResult | Exception] = self._upsert(
            [(i, item, ctx) for i, (item, ctx) in enumerate(items) if isinstance(item, CustomerOut)]
        )
        for index, (item, context) in enumerate(items):
            if index not in results:
                try:
                    results[index] = self.push(item, context)
                except HubError as error:
                    results[index] = error
        return [results[index] for index in range(len(items))]

    def _contact_values(self, item: CustomerOut) -> dict[str, str]:
        """The contact's values, without the fields the CRM owns (``withheld``)."""
        given, family = split_name(item.name)
        values = {
            "given_name": given,
            "family_name": family,
            "email": item.email,
            "phone": item.phone,
            ID_PROPERTY: item.reference,
        }
        for field in item.withheld:
            for prop in PROPERTIES.get(field, ()):
                values.pop(prop)
        if item.lifetime_value is not None:
            values["lifetime_value"] = str(item.lifetime_value)
            values["last_order"] = item.last_order_date.isoformat() if item.last_order_date else ""
        return values

    def _changed_at(self, item: CustomerOut) -> dict[str, str]:
        """When each last-writer-wins field changed here, per property: the CRM keeps its own
        value of one that changed there later."""
        return {
            prop: item.changed_at[field].isoformat()
            for field in item.latest
            if field in item.changed_at
            for prop in PROPERTIES.get(field, ())
        }

    def _upsert(
        self, contacts: Sequence[tuple[int, CustomerOut, PushContext]]
    ) -> dict[int, PushResult | Exception]:
        """One batch upsert keyed by our customer code: index -> its result. Two changes of one
        customer in a batch are sent once, as the later one (the tool refuses duplicate ids)."""
        if not contacts:
            return {}
        latest = {item.reference: (item, ctx) for _, item, ctx in contacts}
        inputs = [
            {
                "idProperty": ID_PROPERTY,
                "id": code,
                "traceId": ctx.idempotency_key,
                "values": self._contact_values(item),
                "changedAt": self._changed_at(item),
            }
            for code, (item, ctx) in latest.items()
        ]
        body = self.http.request(
            "POST", f"{self.base_url()}/objects/contacts/batch/upsert", json={"inputs": inputs}
        ).json()
        done = {str((r.get("values") or {}).get(ID_PROPERTY)): r for r in body.get("results") or ()}
        code_of = {ctx.idempotency_key: code for code, (_, ctx) in latest.items()}
        refused: dict[str, Mapping[str, Any]] = {}
        for error in body.get("errors") or ():
            for trace in (error.get("context") or {}).get("traceId") or ():
                if trace in code_of:
                    refused[code_of[trace]] = error
        found: dict[int, PushResult | Exception] = {}
        for index, item, _ in contacts:
            contact = done.get(item.reference)
            if contact is not None:
                how = "created" if contact.get("new") else "updated"
                found[index] = PushResult(
                    external_id=str(contact["id"]), detail=f"contact {contact['id']} {how}"
                )
                continue
            error = refused.get(item.reference, {})
            message = (
                f"Pipeline refused contact {item.reference}: {error.get('message') or 'no reason given'}"
            )
            if error.get("category") in REFUSED_FOR_GOOD:
                found[index] = PermanentError(message, status=207, body=json.dumps(error)[:1000])
            else:
                found[index] = TransientError(message)
        return found

    def _push_deal(self, item: DealOut, context: PushContext) -> PushResult:
        stage = self.settings.stages.get(item.stage)
        if stage is None:
            raise NeedsAPerson(
                f"No {self.settings.pipeline!r} pipeline stage is set for orders {item.stage}.",
                value=item.stage,
            )
        values = {
            "title": item.name,
            "amount": str(item.amount),
            "currency": item.currency,
            "pipeline": self.settings.pipeline,
            "stage": stage,
            "closes_on": item.close_date.isoformat() if item.close_date else "",
            "erp_order": item.reference,
        }
        if item.external_id:
            deal = self.http.request(
                "PATCH", f"{self.base_url()}/objects/deals/{item.external_id}", json={"values": values}
            ).json()
        else:
            associations = [{"to": {"id": item.customer_external_id}, "type": "deal_to_contact"}]
            deal = self.http.request(
                "POST",
                f"{self.base_url()}/objects/deals",
                json={"values": values, "associations": associations if item.customer_external_id else []},
                headers={"Idempotency-Key": context.idempotency_key},
            ).json()
        return PushResult(external_id=str(deal["id"]), detail=f"deal {deal['id']} ({stage})")
