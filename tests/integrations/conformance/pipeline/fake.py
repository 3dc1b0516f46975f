"""Pipeline's API in memory (see connector.py for the wire format), behind httpx.MockTransport, and
the webhooks it sends: its own writes through the API (our pushes, reported back) and the edits
people make in it, each a signed array of events.

``FakeTool`` (integrations.fakes) is its HTTP front, request log and injected faults
(``timeout_next(processed=True)``: the write is done, its answer lost)."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from integrations.fakes.base import Answer, FakeTool, Incoming, httpx_answer
from tests.integrations.conformance.pipeline.connector import (
    ID_PROPERTY,
    PORTAL,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)

ACCESS_TOKEN, CLIENT_SECRET = "pipeline-token-1", "pipeline-client-secret-7"
HOOK_URL = "http://testserver/integrations/hooks/app/pipeline/"  # where the app's webhooks go
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
CONTACT_VALUES = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "company",
    ID_PROPERTY,
    "lifetime_value",
    "last_order",
)


def now() -> datetime.datetime:
    """The real now (the harness's; the fake itself reads its own clock)."""
    return datetime.datetime.now(datetime.UTC)


def stamp(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _moment(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def error(status: int, category: str, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "status": "error",
            "category": category,
            "message": message,
            "correlationId": str(uuid.uuid4()),
        },
    )


def invalid_email(email: str) -> str:
    detail = {"isValid": False, "message": f"Email address {email} is invalid", "error": "INVALID_EMAIL"}
    return f"Property values were not valid: {json.dumps([{**detail, 'name': 'email'}])}"


class FakePipeline(FakeTool):
    tool = "pipeline"

    def __init__(self, portal: str = PORTAL, *, clock: Callable[[], datetime.datetime] | None = None) -> None:
        super().__init__(clock=clock)
        self.lock = self._lock
        self.portal = portal
        self.contacts: dict[str, dict[str, Any]] = {}
        self.deals: dict[str, dict[str, Any]] = {}
        self.deal_stages: dict[str, list[str]] = {}  # deal id -> the stage of each write
        self.answered: dict[str, tuple[int, bytes]] = {}  # Idempotency-Key -> the first answer
        self.requests: list[httpx.Request] = []
        self.batches: list[int] = []  # the number of inputs of each batch upsert received
        self.pending: list[dict[str, Any]] = []  # events of API writes, not delivered yet
        self.last_events: list[dict[str, Any]] = []  # those of the latest write
        self.hook_url = HOOK_URL
        self._ids = 9100
        self._event_ids = 51000

    def serve(self, request: Incoming) -> Answer:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return httpx_answer(error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found."))
        path = request.path.removeprefix("/crm/v3/").strip("/")
        return httpx_answer(self._route(request.to_httpx(), path.split("/")))

    def record(self, request: Incoming, status: int) -> None:
        self.requests.append(request.to_httpx())

    def snapshot(self) -> dict[str, Any]:
        """Pipeline's contacts and deals by id, for drift checks."""
        with self.lock:
            state = {"tool": self.tool, "at": self.clock().isoformat(), "contacts": self.contacts}
            return json.loads(json.dumps({**state, "deals": self.deals}))

    def _route(self, request: httpx.Request, parts: list[str]) -> httpx.Response:
        method = request.method
        if parts == ["account", "details"]:
            return httpx.Response(
                200, json={"portalId": int(self.portal), "companyName": "Pipeline Test Portal"}
            )
        if parts == ["objects", "contacts", "batch", "upsert"] and method == "POST":
            return self._upsert(json.loads(request.content)["inputs"])
        if len(parts) == 3 and parts[:2] == ["objects", "contacts"]:
            contact = self.contacts.get(parts[2])
            if contact is None:
                return error(404, "OBJECT_NOT_FOUND", f"Contact {parts[2]} does not exist.")
            if method == "PATCH":
                problem = self._invalid(json.loads(request.content).get("values") or {})
                if problem:
                    return error(400, "VALIDATION_ERROR", problem)
                body = json.loads(request.content)
                self._write(contact, body["values"], source="INTEGRATION", unless_newer=body.get("changedAt"))
            return httpx.Response(200, json=contact)
        if parts == ["objects", "deals"] and method == "POST":
            return self._create_deal(request)
        if len(parts) == 3 and parts[:2] == ["objects", "deals"] and method == "PATCH":
            deal = self.deals.get(parts[2])
            if deal is None:
                return error(404, "OBJECT_NOT_FOUND", f"Deal {parts[2]} does not exist.")
            deal["values"].update(json.loads(request.content)["values"])
            deal["updatedAt"] = stamp(self.clock())
            self.deal_stages[deal["id"]].append(deal["values"]["stage"])
            return httpx.Response(200, json=deal)
        return error(404, "OBJECT_NOT_FOUND", f"No such endpoint: {method} {'/'.join(parts)}")

    # --- contacts -----------------------------------------------------------------------------

    def _invalid(self, values: dict[str, Any]) -> str:
        email = str(values.get("email") or "")
        return invalid_email(email) if email and not EMAIL.match(email) else ""

    def _upsert(self, inputs: list[dict[str, Any]]) -> httpx.Response:
        self.batches.append(len(inputs))
        ids = [str(i["id"]) for i in inputs]
        if len(set(ids)) != len(ids):
            return error(400, "VALIDATION_ERROR", "Duplicate IDs found in batch input.")
        if any(i.get("idProperty") != ID_PROPERTY for i in inputs):
            return error(400, "VALIDATION_ERROR", f"Contacts are upserted by {ID_PROPERTY} only.")
        results, errors = [], []
        for row in inputs:
            values = {**row.get("values", {}), ID_PROPERTY: str(row["id"])}
            problem = self._invalid(values)
            if problem:
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": problem,
                        "context": {"traceId": [row.get("traceId", "")]},
                        "errors": [],
                    }
                )
                continue
            contact = next((c for c in self.contacts.values() if c["values"][ID_PROPERTY] == row["id"]), None)
            new = contact is None
            contact = self._write(contact, values, source="INTEGRATION", unless_newer=row.get("changedAt"))
            results.append({**contact, "new": new, "traceId": row.get("traceId", "")})
        body: dict[str, Any] = {"status": "COMPLETE", "results": results, "completedAt": stamp(self.clock())}
        if errors:
            body.update(numErrors=len(errors), errors=errors)
        return httpx.Response(207 if errors else 200, json=body)

    def _write(
        self,
        contact: dict[str, Any] | None,
        values: dict[str, Any],
        *,
        source: str,
        unless_newer: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create or change a contact; each change is an event (pending until delivered, for the
        writes of the API). ``unless_newer`` (the API's ``changedAt``: property -> when the writer
        changed it) leaves a property whose value here changed later: the last writer wins."""
        moment = self.clock()
        events = []
        if contact is None:
            self._ids += 1
            contact = {
                "id": str(self._ids),
                "values": dict.fromkeys(CONTACT_VALUES, ""),
                "timestamps": dict.fromkeys(CONTACT_VALUES, stamp(moment)),
                "createdAt": stamp(moment),
                "updatedAt": stamp(moment),
                "archived": False,
            }
            self.contacts[contact["id"]] = contact
            events.append(self._event("contact.creation", contact["id"], source, moment))
        older = {  # a new contact has no values of its own yet
            k
            for k, at in (unless_newer or {}).items()
            if not events and k in contact["timestamps"] and _moment(at) < _moment(contact["timestamps"][k])
        }
        changed = {
            k: str(v)
            for k, v in values.items()
            if k in CONTACT_VALUES and k not in older and contact["values"][k] != str(v)
        }
        if changed or events:
            contact["values"].update(changed, lastmodified=stamp(moment))
            contact["timestamps"].update(dict.fromkeys(changed, stamp(moment)))
            contact["updatedAt"] = stamp(moment)
        if not events:  # a creation is one event; later changes, one per value
            events += [
                self._event("contact.propertyChange", contact["id"], source, moment, k, v)
                for k, v in changed.items()
            ]
        if source == "INTEGRATION":
            self.pending += events
        self.last_events = events
        return contact

    def _event(
        self,
        kind: str,
        object_id: str,
        source: str,
        moment: datetime.datetime,
        name: str = "",
        value: str = "",
        portal: str = "",
    ) -> dict[str, Any]:
        self._event_ids += 1
        event: dict[str, Any] = {
            "eventId": self._event_ids,
            "subscriptionId": 3 if kind == "contact.creation" else 4,
            "portalId": int(portal or self.portal),
            "occurredAt": int(moment.timestamp() * 1000),
            "subscriptionType": kind,
            "attemptNumber": 0,
            "objectId": int(object_id),
            "changeSource": source,
        }
        if name:
            event.update(propertyName=name, propertyValue=value)
        return event

    # --- deals --------------------------------------------------------------------------------

    def _create_deal(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("idempotency-key", "")
        if key and key in self.answered:
            status, content = self.answered[key]
            return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})
        body = json.loads(request.content)
        for association in body.get("associations") or ():
            contact = str(association["to"]["id"])
            if contact not in self.contacts:
                return error(
                    400,
                    "VALIDATION_ERROR",
                    f"The deal is associated with contact {contact}, which does not exist.",
                )
        self._ids += 1
        moment = stamp(self.clock())
        deal = {
            "id": str(self._ids),
            "values": dict(body["values"]),
            "associations": body.get("associations") or [],
            "createdAt": moment,
            "updatedAt": moment,
            "archived": False,
        }
        self.deals[deal["id"]] = deal
        self.deal_stages[deal["id"]] = [deal["values"]["stage"]]
        response = httpx.Response(201, json=deal)
        if key:
            self.answered[key] = (response.status_code, response.content)
        return response

    # --- the tool's side of a test --------------------------------------------------------------

    def edit_contact(self, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]:
        """Somebody edits a contact in the CRM (its values by the CRM's names): the signed delivery
        the CRM sends about it, one event per value changed."""
        with self.lock:
            self._write(self.contacts[contact_id], values, source="CRM_UI")
            events = list(self.last_events)
        return self.delivery(events)

    def other_portals_edit(self, portal: str, contact_id: str, **values: str) -> tuple[dict[str, str], bytes]:
        """A contact of another portal that installed the app too, edited there: the delivery the
        CRM sends (the same app, the same secret); nothing of this portal changes."""
        with self.lock:
            moment = self.clock()
            events = [
                self._event("contact.propertyChange", contact_id, "CRM_UI", moment, k, v, portal=portal)
                for k, v in values.items()
            ]
        return self.delivery(events)

    def take_pending(self) -> list[dict[str, Any]]:
        """The events of the API's writes not delivered yet (the CRM batches them)."""
        with self.lock:
            events, self.pending = self.pending, []
            return events

    def delivery(
        self,
        events: list[dict[str, Any]],
        *,
        secret: str = CLIENT_SECRET,
        sent_at: datetime.datetime | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """The signed request that carries ``events`` to the app's address."""
        body = json.dumps(events, separators=(",", ":")).encode()
        return self.signed(body, secret=secret, sent_at=sent_at), body

    def signed(
        self, body: bytes, *, secret: str = CLIENT_SECRET, sent_at: datetime.datetime | None = None
    ) -> dict[str, str]:
        timestamp = str(int((sent_at or self.clock()).timestamp() * 1000))
        return {
            "Content-Type": "application/json",
            "User-Agent": "Pipeline-Webhooks/1.0",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, "POST", self.hook_url, body, timestamp),
        }
