"""The webhooks the fake QuickBooks sends on its own when an object changes, as Intuit does.

An app has one webhook endpoint (set in the developer portal; here ``set_webhook_endpoint(url,
entities=None)``), for every company connected to it, and a verifier token. Every change in a
realm (a create, update, delete, void or merge, through the API or "in QuickBooks" by a test
control) queues one delivery to it, in one of two bodies:

* legacy ``eventNotifications`` (``webhook_legacy_eventNotifications.json``):
  ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id",
  "operation": Create|Update|Delete|Merge|Void, "lastUpdated": "...000Z", "deletedId"?}]}}]}``,
  ``Content-Type: application/json; charset=utf-8``;
* CloudEvents (``webhook_cloudevents.json``): a JSON array of ``{"specversion": "1.0", "id":
  "<uuid>-<Entity>-<id>", "source": "intuit.<hash>", "type": "qbo.<entity>.<created|updated|
  deleted|merged|voided>.v1", "datacontenttype": "application/json", "time", "intuitentityid",
  "intuitaccountid": realmId, "data": {} | {"deletedid": "45"}}``, ``Content-Type:
  application/json``.

Which one: ``webhook_format`` "legacy", "cloudevents", or "auto" (the default): legacy before
``CLOUDEVENTS_FROM`` (2026-05-15, Intuit's announced deadline for the migration) on the fake's
clock, CloudEvents from then on. Bodies are compact JSON; each carries one event (Intuit batches
several changes of a realm into one notification; a receiver must take either). Headers:
``intuit-signature`` = base64(HMAC-SHA256(key=verifier token, msg=raw body)), the same on every
attempt, and ``intuit-t-id``. A non-2xx answer (or none) is retried after 20, 30 and 50 minutes
[inferred], then given up (the endpoint stays on). At-least-once faults (``duplicate_next``,
``drop_next``, ``delay_next``) are ``integrations.fakes.webhooks.WebhookSender``'s.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.fakes.webhooks import WebhookSender
from integrations.quickbooks.fake_data import (
    CLOUDEVENTS_FROM,
    VERIFIER_TOKEN,
    sample_bytes,
    sample_webhook_headers,
    utc_z,
)

RETRY_SCHEDULE: tuple[datetime.timedelta, ...] = tuple(datetime.timedelta(minutes=m) for m in (20, 30, 50))
PAST_TENSE = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Merge": "merged",
    "Void": "voided",
    "Emailed": "emailed",
}
SUBSCRIPTION = "app"


def sign(verifier_token: str, body: bytes) -> str:
    """``intuit-signature``: base64 of HMAC-SHA256 of the raw body keyed by the verifier token."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def verify(verifier_token: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a delivery's ``intuit-signature`` holds for ``body``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return hmac.compare_digest(sign(verifier_token, body), lowered.get("intuit-signature", ""))


def sample_webhook(kind: str) -> tuple[dict[str, str], bytes]:
    """A sample delivery (``kind`` "legacy" or "cloudevents"): its headers and exact body bytes."""
    name = "webhook_legacy_eventNotifications.json" if kind == "legacy" else "webhook_cloudevents.json"
    return sample_webhook_headers(kind), sample_bytes(name)


def compact(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def legacy_body(realm: str, events: Iterable[Mapping[str, Any]]) -> bytes:
    entities = []
    for event in events:
        entity = {
            "name": event["name"],
            "id": event["id"],
            "operation": event["operation"],
            "lastUpdated": event["lastUpdated"],
        }
        if event.get("deletedId"):
            entity["deletedId"] = event["deletedId"]
        entities.append(entity)
    return compact({"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": entities}}]})


def cloudevents_body(source: str, realm: str, events: Iterable[Mapping[str, Any]]) -> bytes:
    body = []
    for event in events:
        data: dict[str, Any] = {"deletedid": event["deletedId"]} if event.get("deletedId") else {}
        body.append(
            {
                "specversion": "1.0",
                "id": f"{uuid.uuid4()}-{event['name']}-{event['id']}",
                "source": source,
                "type": f"qbo.{event['name'].lower()}.{PAST_TENSE[event['operation']]}.v1",
                "datacontenttype": "application/json",
                "time": event["time"],
                "intuitentityid": event["id"],
                "intuitaccountid": realm,
                "data": data,
            }
        )
    return compact(body)


class QuickBooksWebhooks(WebhookSender):
    """The app's webhook endpoint and its signed deliveries."""

    retry_schedule: tuple[datetime.timedelta, ...] = RETRY_SCHEDULE

    def reset_webhooks(self) -> None:
        super().reset_webhooks()
        self.webhook_url: str | None = getattr(self, "webhook_url", None)
        self.webhook_entities: set[str] | None = getattr(self, "webhook_entities", None)
        self.webhook_format: str = getattr(self, "webhook_format", "auto")
        self.verifier_token: str = getattr(self, "verifier_token", VERIFIER_TOKEN)
        self.event_source = "intuit." + base64.b64encode(secrets.token_bytes(32)).decode()

    def set_webhook_endpoint(
        self, url: str | None, *, entities: Iterable[str] | None = None, webhook_format: str | None = None
    ) -> None:
        """The app's endpoint (None: no webhooks), the entities it wants (None: all) and the body."""
        with self._lock:
            self.webhook_url = url
            self.webhook_entities = None if entities is None else set(entities)
            if webhook_format is not None:
                if webhook_format not in ("auto", "legacy", "cloudevents"):
                    raise ValueError("webhook_format is auto, legacy or cloudevents")
                self.webhook_format = webhook_format

    def current_format(self) -> str:
        if self.webhook_format != "auto":
            return self.webhook_format
        return "cloudevents" if self.clock() >= CLOUDEVENTS_FROM else "legacy"

    def notify(
        self, realm: str, entity: str, object_id: str, operation: str, *, deleted_id: str | None = None
    ) -> None:
        """An object changed in ``realm``: queue its event (called under the lock)."""
        moment = self.clock()
        self._emit(
            f"{entity}.{operation}",
            {
                "realmId": realm,
                "name": entity,
                "id": object_id,
                "operation": operation,
                "lastUpdated": utc_z(moment.replace(microsecond=0)),
                "time": utc_z(moment),
                "deletedId": deleted_id,
            },
        )

    def events(self, realm: str | None = None) -> list[dict[str, Any]]:
        """Every queued or sent event (name, id, operation, realm), oldest first, for tests."""
        with self._lock:
            found = []
            for delivery in self.outbox:
                if delivery.duplicate:
                    continue
                payload = delivery.payload
                if isinstance(payload, list):
                    for event in payload:
                        name = event["type"].split(".")[1]
                        found.append(
                            {
                                "realm": event["intuitaccountid"],
                                "id": event["intuitentityid"],
                                "type": event["type"],
                                "name": name,
                            }
                        )
                else:
                    for note in payload["eventNotifications"]:
                        for event in note["dataChangeEvent"]["entities"]:
                            found.append(
                                {
                                    "realm": note["realmId"],
                                    "id": event["id"],
                                    "operation": event["operation"],
                                    "name": event["name"].lower(),
                                }
                            )
            return [e for e in found if realm in (None, e["realm"])]

    # --- the sender's dialect ------------------------------------------------------------------

    def _subscriptions(self, topic: str) -> Iterable[Mapping[str, Any]]:
        entity = topic.split(".", 1)[0]
        if not self.webhook_url or (
            self.webhook_entities is not None and entity not in self.webhook_entities
        ):
            return []
        return [{"id": SUBSCRIPTION, "address": self.webhook_url}]

    def _render(
        self,
        subscription: Mapping[str, Any],
        topic: str,
        payload: Mapping[str, Any],
        *,
        delivery_id: str,
        event_id: str,
        moment: datetime.datetime,
    ) -> tuple[dict[str, str], bytes]:
        if self.current_format() == "cloudevents":
            body = cloudevents_body(self.event_source, payload["realmId"], [payload])
            content_type = "application/json"
        else:
            body = legacy_body(payload["realmId"], [payload])
            content_type = "application/json; charset=utf-8"
        headers = {
            "Content-Type": content_type,
            "intuit-signature": sign(self.verifier_token, body),
            "intuit-t-id": f"1-{int(moment.timestamp()):x}-{delivery_id.replace('-', '')[:24]}",
        }
        return headers, body

    def _give_up(self, subscription_id: Any, policy: Any) -> None:
        """Intuit gives up on the event only; the endpoint keeps getting new ones."""
        self._failed_in_a_row.pop(subscription_id, None)
