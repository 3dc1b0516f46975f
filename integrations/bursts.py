"""Thin events in bursts: one fetch of a record covers the thin events about it that came before.

A tool that sends thin webhooks sends several for one change (BigCommerce: created, updated and
statusUpdated for one order, within about a second). Each says only "order 250 changed"; reading
the order once, after all of them arrived, tells everything they do. So, per (connection, object
type, external id), the key of a thin item read with ``fetch`` (not one read by URL):

* **Claim** (``claim``), before fetching, under the connection's row lock (claims of one
  connection are taken one at a time; the lock is held for two queries, never across the
  network): if a fetch of the same keys is in flight (another waiting event's claim, its lease
  not run out) and it began no earlier than this event arrived, that fetch will read what this
  event says: the event is left waiting, and is settled by it. Otherwise the event records its
  own claim in ``result["fetching"]`` (the keys, when the fetch began, the lease's end:
  INTEGRATIONS_CLAIM_SECONDS, as for deliveries), committed before the fetch begins.
* **Settle** (``settle``), in the transaction that records the fetching event's outcome (and
  drops its claim): every other event of the connection still waiting (received or failed) that
  arrived no later than the fetch began, and whose items are all thin reads of the fetched keys,
  ends skipped, ``result = {"covered_by": N, "fetched_at": T, "reason": ...}``. Only when the
  fetching event itself ended processed or skipped: a failed or quarantined one settles nothing.
  Rows another transaction holds are skipped (``skip_locked``): their own worker has fetched them.

An event that arrives after a fetch began is not covered by it (it may carry a later change): it
claims and fetches on its own. The settle window (``Connector.settle_seconds``) makes a burst spread
over a second arrive whole before the first of its events is processed.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.contract import Action, Connector, InboundItem
from integrations.models import Connection, InboundEvent, InboundStatus

logger = logging.getLogger(__name__)

WAITING = (InboundStatus.RECEIVED, InboundStatus.FAILED)
CLAIM = "fetching"  # the key of a claim in InboundEvent.result
# How many waiting events of the connection a fetch looks at (the latest): a burst is a handful.
SCAN_LIMIT = 200
SETTLED_FIELDS = ("status", "result", "last_error", "missing", "next_attempt_at", "processed_at", "attempts")

Key = tuple[str, str]  # (object type, external id)


def fetched_by_id(item: InboundItem) -> bool:
    """A thin item the hub reads with ``connector.fetch(type, id)``."""
    return item.record is None and item.action != Action.DELETE and not item.url


def thin_keys(items: Iterable[InboundItem]) -> frozenset[Key]:
    return frozenset((i.object_type, i.external_id) for i in items if fetched_by_id(i))


@dataclass(frozen=True)
class Claim:
    event: int
    keys: frozenset[Key]
    since: datetime.datetime  # when the fetch began: what arrived before is covered
    until: datetime.datetime  # the lease's end

    def as_json(self) -> dict[str, Any]:
        return {
            "keys": sorted([t, i] for t, i in self.keys),
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
        }

    @classmethod
    def of(cls, event: int, result: Any) -> Claim | None:
        held = result.get(CLAIM) if isinstance(result, dict) else None
        if not isinstance(held, dict):
            return None
        try:
            return cls(
                event=event,
                keys=frozenset((str(t), str(i)) for t, i in held["keys"]),
                since=datetime.datetime.fromisoformat(held["since"]),
                until=datetime.datetime.fromisoformat(held["until"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Covered:
    """The event waits for the fetch another event has claimed (``by``), which will settle it."""

    by: int


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(settings.INTEGRATIONS_CLAIM_SECONDS))


def claim(event: InboundEvent, keys: frozenset[Key], *, only_thin: bool) -> Claim | Covered | None:
    """Claim the fetch of ``keys`` for the event: its Claim; Covered when a fetch in flight will
    settle it (only for an event whose items are all thin reads: ``only_thin``); None when the
    event is no longer waiting (settled or finished meanwhile)."""
    with transaction.atomic():
        # Claims of one connection are taken one at a time (the connection's row lock, as the
        # token refresh's lease and the poll's cursor take it; held for two queries).
        Connection.objects.select_for_update().filter(pk=event.connection_id).first()
        row = InboundEvent.objects.filter(pk=event.pk).values("status", "received_at", "result").first()
        if row is None or row["status"] not in WAITING:
            return None
        moment = timezone.now()
        if only_thin:
            held = (
                InboundEvent.objects.filter(connection_id=event.connection_id, status__in=WAITING)
                .filter(result__has_key=CLAIM)
                .values_list("pk", "result")
            )
            for pk, result in held:
                other = Claim.of(pk, result)
                if (
                    other is not None
                    and other.until > moment
                    and other.since >= row["received_at"]
                    and keys <= other.keys
                ):
                    return Covered(by=pk)
        mine = Claim(event=event.pk, keys=keys, since=moment, until=moment + lease())
        result = dict(row["result"] or {}) | {CLAIM: mine.as_json()}
        # Conditional: a settle that committed meanwhile has made the event final.
        claimed = InboundEvent.objects.filter(pk=event.pk, status__in=WAITING).update(result=result)
        return mine if claimed else None


def release(event: InboundEvent) -> None:
    """Drop the event's claim (in memory; saved with its outcome)."""
    if isinstance(event.result, dict) and CLAIM in event.result:
        event.result = {k: v for k, v in event.result.items() if k != CLAIM}


def _covered(connector: Connector, candidate: tuple[Any, ...], keys: frozenset[Key]) -> bool:
    _pk, topic, headers, body = candidate
    try:
        items = connector.parse_webhook(topic, httpx.Headers(headers or {}), bytes(body))
    except Exception:  # not readable: its own processing says why
        return False
    return bool(items) and all(fetched_by_id(i) for i in items) and thin_keys(items) <= keys


def settle(event: InboundEvent, claim: Claim, connector: Connector) -> list[int]:
    """Settle, as covered by this event's fetch, the waiting events it read for: their pks.
    Runs inside the transaction that records the event's outcome."""
    candidates = list(
        InboundEvent.objects.filter(
            connection_id=event.connection_id,
            source=InboundEvent.Source.WEBHOOK,
            status__in=WAITING,
            received_at__lte=claim.since,
        )
        .exclude(pk=event.pk)
        .order_by("-received_at", "-pk")
        .values_list("pk", "topic", "headers", "body")[:SCAN_LIMIT]
    )
    covered = [c[0] for c in candidates if _covered(connector, c, claim.keys)]
    if not covered:
        return []
    rows = list(
        InboundEvent.objects.select_for_update(skip_locked=True).filter(
            pk__in=covered, status__in=WAITING, received_at__lte=claim.since
        )
    )
    moment = timezone.now()
    reason = f"Covered by the fetch of event {event.pk} at {claim.since.isoformat()}"
    for row in rows:
        row.status = InboundStatus.SKIPPED
        row.result = {"covered_by": event.pk, "fetched_at": claim.since.isoformat(), "reason": reason}
        row.last_error, row.missing, row.next_attempt_at = "", {}, None
        row.processed_at = moment
        row.attempts += 1  # processed once, by the fetch that covered it
        row.save(update_fields=[*SETTLED_FIELDS])
    if rows:
        logger.info("Event %s's fetch settled events %s", event.pk, [r.pk for r in rows])
    return [r.pk for r in rows]
