"""Outbound webhooks for API users, signed per the Standard Webhooks spec.

A subscription is a URL, topic patterns and a secret ("whsec_" + base64 of 32
random bytes, stored encrypted and shown once). Its deliveries are ordinary
Delivery rows: the fan-out, the attempts, the backoff, the dead letter, the
retry button and the log are the hub's (``integrations.outbound``); only the
send differs. Each attempt POSTs the event's envelope (``OutboxEvent.as_message``:
a stable event id and a per-aggregate sequence number) with the headers
``webhook-id`` (the event id: the same on every retry and replay, for the
receiver to de-duplicate), ``webhook-timestamp`` and ``webhook-signature``
("v1,<base64>") made by the ``standardwebhooks`` library. Any non-2xx answer is
retried with backoff; 429 waits as asked; 410 Gone deactivates the subscription.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets as secrets_module
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from standardwebhooks import Webhook

from erp.access import AREAS, user_can
from erp.exceptions import ValidationFailed
from erp.models import OutboxEvent
from integrations import http, queueing
from integrations.errors import PermanentError, Throttled, TransientError
from integrations.models import Delivery, WebhookSubscription

SECRET_PREFIX = "whsec_"
MAX_TOPICS = 50
_REDACTOR = http.Redactor.of(header_names=frozenset({"webhook-signature"}))


class SubscriptionGone(PermanentError):
    title = "The webhook endpoint is gone"


def _actor(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets_module.token_bytes(32)).decode()


def _clean_secret(secret: str) -> str:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        key = b""
    if not secret.startswith(SECRET_PREFIX) or not 24 <= len(key) <= 64:
        raise ValidationFailed(
            "A webhook secret is 'whsec_' followed by 24 to 64 base64-encoded bytes.",
            field_errors={"secret": ["Must be whsec_ + base64 of 24-64 bytes."]},
        )
    return secret


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationFailed(
            "Enter a valid http(s) URL.", field_errors={"url": ["Enter a valid URL."]}
        ) from None
    host = urlsplit(url).hostname or ""
    if not settings.INTEGRATIONS_WEBHOOK_ALLOW_PRIVATE_URLS and _is_private(host):
        raise ValidationFailed(
            "Webhooks are sent to public addresses only.",
            field_errors={"url": ["This address is local or private."]},
        )
    return url


def _is_private(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _clean_topics(topics: Any, user: Any) -> list[str]:
    if not isinstance(topics, list | tuple) or not topics or len(topics) > MAX_TOPICS:
        raise ValidationFailed(
            f"Give 1 to {MAX_TOPICS} topic patterns.", field_errors={"topics": ["Give at least one topic."]}
        )
    errors: list[str] = []
    clean: list[str] = []
    for pattern in topics:
        if not isinstance(pattern, str) or not pattern.strip() or len(pattern) > 100:
            errors.append(f"{pattern!r} is not a topic pattern.")
            continue
        pattern = pattern.strip()
        area = pattern.split(".", 1)[0]
        if not any(ch in area for ch in "*?[") and area not in AREAS:
            errors.append(f"{pattern}: no area {area!r} (known: {', '.join(AREAS)}).")
        elif area in AREAS and not user_can(user, area, "read"):
            errors.append(f"{pattern}: you may not read {AREAS[area].lower()}.")
        elif pattern not in clean:
            clean.append(pattern)
    if errors:
        raise ValidationFailed(errors[0], field_errors={"topics": errors})
    return clean


# --- subscriptions ---------------------------------------------------------------------------------


@transaction.atomic
def subscription_create(
    *, user: Any, url: str, topics: list[str], description: str = "", secret: str | None = None
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (returned this once; stored encrypted)."""
    secret = _clean_secret(secret) if secret else generate_secret()
    subscription = WebhookSubscription(
        user=user,
        url=_clean_url(url),
        topics=_clean_topics(topics, user),
        description=(description or "").strip()[:200],
        created_by=_actor(user),
        updated_by=_actor(user),
    )
    subscription.set_secret(secret)
    subscription.save()
    return subscription, secret


@transaction.atomic
def subscription_update(
    *,
    subscription: WebhookSubscription,
    user: Any = None,
    url: str | None = None,
    topics: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given; topics are checked against the owner's rights."""
    locked = WebhookSubscription.objects.select_for_update().select_related("user").get(pk=subscription.pk)
    if url is not None:
        locked.url = _clean_url(url)
    if topics is not None:
        locked.topics = _clean_topics(topics, locked.user)
    if description is not None:
        locked.description = description.strip()[:200]
    if is_active is not None:
        locked.is_active = is_active
    locked.updated_by = _actor(user) or locked.updated_by
    locked.save()
    return locked


@transaction.atomic
def subscription_rotate_secret(
    *, subscription: WebhookSubscription, user: Any = None, secret: str | None = None
) -> tuple[WebhookSubscription, str]:
    """A new secret (returned this once); later attempts, retries included, are signed with it."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    secret = _clean_secret(secret) if secret else generate_secret()
    locked.set_secret(secret)
    locked.updated_by = _actor(user) or locked.updated_by
    locked.save(update_fields=["secret_encrypted", "updated_by", "updated_at"])
    return locked, secret


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, user: Any = None) -> None:
    """Remove the subscription with its delivery log."""
    WebhookSubscription.objects.filter(pk=subscription.pk).delete()


# --- sending -----------------------------------------------------------------------------------------


def message_body(event: OutboxEvent) -> str:
    """The exact text that is signed and sent: the envelope as compact JSON."""
    return json.dumps(event.as_message(), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def signed_headers(*, secret: str, msg_id: str, body: str) -> dict[str, str]:
    moment = http.now().astimezone(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
        "Content-Type": "application/json",
    }


def webhook_send(
    *, delivery: Delivery, subscription: WebhookSubscription, event: OutboxEvent
) -> http.Exchange:
    """POST one event to the subscription. A 2xx returns; anything else raises (with its log row)."""
    body = message_body(event)
    exchange = http.send(
        "POST",
        subscription.url,
        target=http.LogTarget(delivery_id=delivery.pk),
        redactor=_REDACTOR,
        content=body.encode(),
        headers=signed_headers(secret=subscription.get_secret(), msg_id=str(event.event_id), body=body),
    )
    status = exchange.response.status_code
    if 200 <= status < 300:
        return exchange
    where = f"{subscription.url} answered {status}"
    if status == 410:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
        raise http.carrying(
            SubscriptionGone(f"{where} (Gone): the subscription is deactivated."), exchange.log
        )
    if status == 429:
        wait = http.retry_after(exchange.response)
        raise http.carrying(Throttled(f"{where}; retry in {wait:.0f} s.", retry_after=wait), exchange.log)
    raise http.carrying(TransientError(f"{where}."), exchange.log)


# --- replay ------------------------------------------------------------------------------------------


@transaction.atomic
def delivery_replay(*, delivery: Delivery, user: Any = None) -> Delivery:
    """A new delivery of the same event to the same target, queued now; the log keeps both."""
    original = Delivery.objects.select_related("subscription").get(pk=delivery.pk)
    if original.subscription is not None and not original.subscription.is_active:
        raise ValidationFailed("The subscription is inactive: activate it before replaying.")
    replay = Delivery.objects.create(
        event_id=original.event_id,
        connection_id=original.connection_id,
        subscription_id=original.subscription_id,
        topic=original.topic,
        coalesce_key=original.coalesce_key,
        replay_of=original,
    )
    queueing.attempt_deliveries_on_commit(
        [(replay.pk, replay.next_attempt_at)]
    )  # the broker down: the sweep queues it
    return replay
