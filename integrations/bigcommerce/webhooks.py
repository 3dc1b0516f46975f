"""BigCommerce webhook deliveries: who sent them, and which event each one is.

* Standard Webhooks signature (FORMAT.md; BigCommerce's https-webhook-overview): headers
  ``webhook-id``, ``webhook-timestamp`` (unix seconds) and ``webhook-signature`` (space-separated
  ``v1,<base64>``), each signature base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
  The key is the app's client secret, as bytes (BigCommerce's docs verify with
  ``standardwebhooks.Webhook(base64(client_secret))``); a ``whsec_``-prefixed secret is the
  Standard Webhooks form (base64 of the key) and is decoded. Refused outside five minutes.
* The custom header secret: the ``headers`` given when the hook was registered are sent verbatim
  with every delivery. The hub registers its hooks with ``SECRET_HEADER: webhook_secret``.

Where the connection holds the client secret and the delivery is signed, the signature decides
(the header secret alone does not protect the body). Otherwise the header secret must match.

The body is thin: ``{"scope", "store_id", "data": {"type", "id", ...}, "hash", "created_at",
"producer": "stores/{store_hash}"}``. The event id is its ``hash`` (BigCommerce's advice: dedupe
on it), else ``webhook-id``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from integrations.contract import WebhookEnvelope, WebhookRequest

SECRET_HEADER = "X-Webhook-Secret"
TOLERANCE = datetime.timedelta(minutes=5)
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def signing_key(client_secret: str) -> bytes:
    if client_secret.startswith("whsec_"):
        try:
            return base64.b64decode(client_secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            pass
    return client_secret.encode()


def sign(client_secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``id.timestamp.body``."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(client_secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed(headers: Mapping[str, str]) -> bool:
    return bool(headers.get("webhook-signature"))


def signature_valid(request: WebhookRequest, client_secret: str) -> bool:
    headers = request.headers
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (client_secret and webhook_id and timestamp and given):
        return False
    try:
        sent = datetime.datetime.fromtimestamp(int(timestamp), datetime.UTC)
    except (ValueError, OverflowError, OSError):
        return False
    if abs(request.received_at - sent) > TOLERANCE:
        return False
    expected = sign(client_secret, webhook_id, timestamp, request.body).encode()
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in given.split())


def header_secret_valid(request: WebhookRequest, webhook_secret: str) -> bool:
    given = request.headers.get(SECRET_HEADER, "")
    return bool(webhook_secret and given) and hmac.compare_digest(webhook_secret.encode(), given.encode())


def verify(request: WebhookRequest, *, client_secret: str, webhook_secret: str) -> bool:
    if client_secret and signed(request.headers):
        return signature_valid(request, client_secret)
    return header_secret_valid(request, webhook_secret)


def payload(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise ValueError("A BigCommerce webhook whose body is not JSON") from exc
    if not isinstance(value, dict) or not value.get("scope"):
        raise ValueError("A BigCommerce webhook without a scope")
    return value


def store_hash(producer: Any) -> str | None:
    """``"stores/abc123"`` -> ``"abc123"``."""
    text = str(producer or "").strip().lower()
    return text.removeprefix("stores/") or None


def envelope(request: WebhookRequest) -> WebhookEnvelope:
    body = payload(request.body)
    event_id = str(body.get("hash") or request.headers.get("webhook-id") or "")
    if not event_id:
        event_id = "sha256:" + hashlib.sha256(request.body).hexdigest()
    return WebhookEnvelope(
        event_id=event_id, topic=str(body["scope"]), account=store_hash(body.get("producer"))
    )


def sent_at(body: Mapping[str, Any]) -> datetime.datetime | None:
    """When BigCommerce says the change happened (``created_at``, unix seconds)."""
    try:
        return datetime.datetime.fromtimestamp(int(body["created_at"]), datetime.UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def resource_id(body: Mapping[str, Any]) -> str:
    data = body.get("data") or {}
    value = data.get("id") if isinstance(data, Mapping) else None
    if value in (None, ""):
        raise ValueError(f"A {body.get('scope')} webhook without data.id")
    return str(value)
