"""Outbound: the outbox fanned out to every target, and each delivery attempted until it lands.

Fan-out (``integrations.fanout``, an outbox subscriber installed by ``install()``) makes one
Delivery per target that takes the event. Inventory level changes to a connection are coalesced:
the first of them that comes due collapses the pending ones into the newest and pushes once the
quantity read at push time (``_claim``); a stock recheck among them survives instead, so the push
is forced. A connection whose tool takes batches (``Connector.batch_size`` > 1) pushes the due stock
deliveries of other products and locations with it in one ``push_batch`` (``_claim_more``), each
key collapsed the same way and each delivery keeping its own outcome.

An attempt (``delivery_attempt``) claims the delivery under its row lock (skipping
a row another worker holds) with a lease (``claimed_until``); one record's pushes to a
connection go one at a time (a delivery of a record in flight there waits for it), does the network
call outside any transaction, then records the outcome only if it still holds the
claim. The attempt branches on the target: a connection gets ``connector.push`` of
an item resolved from hub state (``integrations.pushing``), a subscription gets the
signed event (``webhooks_out``). The outcome rules are the
same for both:

* success -> succeeded;  nothing to do (no mapping, no change) -> skipped;
* Throttled -> wait Retry-After, not counted as an attempt;
* TransientError or an unexpected error -> attempts + 1, exponential backoff with full
  jitter, dead letter after INTEGRATIONS_MAX_ATTEMPTS;
* PermanentError -> dead letter at once;
* AuthFailed -> stays failed, the connection needs re-authorisation, not counted; the
  connection's deliveries then wait INTEGRATIONS_REAUTH_RETRY_SECONDS between probes.

Retries are picked up by ``deliveries_due()`` (a periodic task); ``delivery_retry``
puts a dead or failed delivery back to pending now (the UI's Retry button).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from erp import events, retry
from erp.exceptions import DomainError, InvalidTransition
from erp.models import OutboxEvent
from integrations import alerts, fanout, pushing, queueing, webhooks_out
from integrations.fanout import fan_out
from integrations.models import (
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryStatus,
    WebhookSubscription,
)
from integrations.outbound_items import STOCK_RECHECK
from integrations.outcomes import Kind, Outcome, outcome_of

logger = logging.getLogger(__name__)

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
DONE = (DeliveryStatus.SUCCEEDED, DeliveryStatus.SKIPPED)  # a delivery waiting for one of these goes


def max_attempts() -> int:
    return int(settings.INTEGRATIONS_MAX_ATTEMPTS)


def backoff_seconds(attempts: int) -> float:
    """The wait before the next attempt of a delivery (erp.retry: exponential, full jitter)."""
    return retry.backoff_seconds(
        attempts,
        base=float(settings.INTEGRATIONS_RETRY_BASE_SECONDS),
        cap=float(settings.INTEGRATIONS_RETRY_CAP_SECONDS),
    )


def _id(pk: int | None) -> int:
    if pk is None:
        raise ValueError("A delivery without this target.")
    return pk


# --- fan-out ----------------------------------------------------------------------------------


def install() -> None:
    """Subscribe the fan-out to the outbox (from IntegrationsConfig.ready)."""
    events.subscribe("*", fan_out, name="integrations.outbound.fan_out")


def coalesce_seconds() -> float:
    return fanout.coalesce_seconds()


# --- attempting ---------------------------------------------------------------------------------


def delivery_attempt(delivery_pk: int) -> Delivery | None:
    """Attempt one delivery if it is due and nobody else holds it. None if there was nothing to do."""
    delivery = _claim(delivery_pk)
    if delivery is None:
        return None
    together = [delivery]
    try:
        if delivery.connection_id is None:
            outcome = _send_webhook(delivery)
        else:
            with alerts.acting(delivery.connection):  # what a push records is the connection's doing
                if delivery.job_id:  # the tool runs it as a job: ask once for every delivery of the job
                    together += _claim_more(delivery, delivery.claimed_until, job_id=delivery.job_id)
                    return _finish_all(together, pushing.poll_job(together))
                if (size := pushing.batch_size(delivery)) > 1:
                    together += _claim_more(delivery, delivery.claimed_until, limit=size * 4 - 1)
                    return _finish_all(together, pushing.push_batch(together))
                outcome = pushing.push(delivery)
    except Exception as exc:  # resolving failed: recorded like any failed attempt, never left claimed
        outcome = outcome_of(exc)
        for other in together[1:]:
            _finish(other, outcome)
    return _finish(delivery, outcome)


def _claim_more(
    first: Delivery, until: datetime | None, *, job_id: str = "", limit: int = 500
) -> list[Delivery]:
    """Claim, with ``first``'s lease, the other deliveries that go with it: the rest of its job, or
    (a tool with a batch endpoint) what else is due for the connection. A due stock push of another
    product or location goes too, once its key is collapsed into its newest delivery (``_collapse``:
    a key whose push is in flight waits); ``first``'s own key was collapsed when it was claimed. A
    delivery of a record another worker is pushing to the connection waits for it (``_claim``)."""
    moment = timezone.now()
    with transaction.atomic():
        found = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(connection_id=_id(first.connection_id), status__in=OPEN, job_id=job_id)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=moment))
            .exclude(pk=first.pk)
        )
        if not job_id:
            found = found.filter(next_attempt_at__lte=moment)
            if first.coalesce_key:
                found = found.exclude(coalesce_key=first.coalesce_key)
        candidates = list(found.order_by("next_attempt_at", "pk")[:limit])
        connection_id = _id(first.connection_id)
        records: dict[int, str] = {}  # an uncoalesced delivery's record: one push of it at a time
        if not job_id:
            plain = [d.pk for d in candidates if not d.coalesce_key]
            records = {
                pk: _record_key(kind, aggregate)
                for pk, kind, aggregate in Delivery.objects.filter(pk__in=plain).values_list(
                    "pk", "event__aggregate_type", "event__aggregate_id"
                )
            }
        # the keys' locks in one order, so two workers claiming batches never wait on each other
        for key in sorted({d.coalesce_key for d in candidates if d.coalesce_key} | set(records.values())):
            _lock_key(connection_id, key)
        busy = (
            _in_flight(connection_id, moment, exclude=[first.pk, *(d.pk for d in candidates)])
            if records
            else set()
        )
        more: list[Delivery] = []
        collapsed: set[str] = set()
        for delivery in candidates:
            if not delivery.coalesce_key:
                if records.get(delivery.pk) not in busy:
                    more.append(delivery)
            elif delivery.coalesce_key not in collapsed:
                collapsed.add(delivery.coalesce_key)
                survivor = _collapse(delivery, moment)
                if survivor is not None:
                    more.append(survivor)
        Delivery.objects.filter(pk__in=[d.pk for d in more]).update(claimed_until=until)
    for delivery in more:
        delivery.claimed_until = until
    return more


def _finish_all(deliveries: list[Delivery], outcomes: list[Outcome]) -> Delivery:
    finished = [_finish(d, o) for d, o in zip(deliveries, outcomes, strict=True)]
    return finished[0]


def _lock_key(connection_id: int, coalesce_key: str) -> None:
    """In the caller's transaction: hold the claims of one coalesce key of a connection until it
    ends. Two workers claiming two deliveries of one key at once each lock only their own row, and
    ``_collapse`` skips the rows it cannot lock: without this, each would miss the other's claim and
    both push, the slower one's stale count landing last. PostgreSQL's transaction advisory lock;
    SQLite writes one transaction at a time anyway."""
    if db_connection.vendor != "postgresql":
        return
    key = zlib.crc32(coalesce_key.encode()) - 2**31  # a signed 32-bit int, as the lock takes two
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [connection_id, key])


def _record_key(aggregate_type: str, aggregate_id: str) -> str:
    """The lock key of one record's pushes to a connection (``_claim``: one at a time, in order)."""
    return f"{aggregate_type}:{aggregate_id}"


def _in_flight(
    connection_id: int, moment: datetime, *, exclude: list[int], record: tuple[str, str] | None = None
) -> dict[str, int]:
    """The connection's uncoalesced deliveries a worker holds now (of ``record`` only, its
    aggregate type and id, if given), ``exclude``'s aside: their record (``_record_key``) -> one of
    them."""
    rows = Delivery.objects.filter(
        connection_id=connection_id, status__in=OPEN, coalesce_key="", claimed_until__gt=moment
    ).exclude(pk__in=exclude)
    if record is not None:
        rows = rows.filter(event__aggregate_type=record[0], event__aggregate_id=record[1])
    found = rows.values_list("pk", "event__aggregate_type", "event__aggregate_id")
    return {_record_key(kind, aggregate): pk for pk, kind, aggregate in found}


def _claim(delivery_pk: int) -> Delivery | None:
    """Claim one delivery for this worker (None: not now). Pushes of one record to one connection
    go one at a time: a delivery whose record has another push in flight there waits until it has
    landed (an order cancelled while its creation is on its way to a 3PL: the cancel, resolved
    before the creation's answer is known, would find nothing to cancel and skip, and the 3PL would
    ship a cancelled order). Coalesced stock pushes collapse instead (``_collapse``)."""
    moment = timezone.now()
    with transaction.atomic():
        head = (
            Delivery.objects.filter(pk=delivery_pk)
            .values_list("connection_id", "coalesce_key", "event__aggregate_type", "event__aggregate_id")
            .first()
        )
        if head is not None and head[0] is not None:
            _lock_key(head[0], head[1] or _record_key(head[2], head[3]))
        delivery = Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_pk).first()
        if (
            delivery is None
            or delivery.status not in OPEN
            or delivery.next_attempt_at > moment
            or (delivery.claimed_until is not None and delivery.claimed_until > moment)
        ):
            return None
        if delivery.connection_id is not None:
            status = (
                Connection.objects.filter(pk=delivery.connection_id).values_list("status", flat=True).get()
            )
            if status == ConnectionStatus.PAUSED:
                return None  # a paused connection's deliveries wait
        if delivery.coalesce_key and delivery.connection_id is not None:
            survivor = _collapse(delivery, moment)
            if survivor is None:
                return None
            delivery = survivor
        elif head is not None and head[0] is not None:
            record = (head[2], head[3])
            busy = _in_flight(head[0], moment, exclude=[delivery.pk], record=record)
            if busy:
                # attempted as soon as that one lands (``_release_waiting``; looked at again after
                # this commits, should it have landed meanwhile), or when due if it fails
                pushing_it = next(iter(busy.values()))
                delivery.blocked_on_id = pushing_it
                delivery.next_attempt_at = moment + timedelta(seconds=max(1.0, coalesce_seconds()))
                delivery.save(update_fields=["blocked_on", "next_attempt_at"])
                transaction.on_commit(lambda: _release_waiting(pushing_it, timezone.now()))
                return None
        delivery.claimed_until = moment + timedelta(seconds=float(settings.INTEGRATIONS_CLAIM_SECONDS))
        delivery.save(update_fields=["claimed_until"])
        return delivery


def _collapse(delivery: Delivery, moment: datetime) -> Delivery | None:
    """In the caller's transaction: the open deliveries of ``delivery``'s coalesce key collapsed
    into the one that goes (the others superseded), or None when a push of that key is in flight
    (``delivery`` is then looked at again once it has landed)."""
    group = list(
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(
            connection_id=_id(delivery.connection_id), coalesce_key=delivery.coalesce_key, status__in=OPEN
        )
        .order_by("pk")
    )
    if any(d.claimed_until is not None and d.claimed_until > moment for d in group):
        delivery.next_attempt_at = moment + timedelta(seconds=max(1.0, coalesce_seconds()))
        delivery.save(update_fields=["next_attempt_at"])
        return None
    # The newest survives; a stock recheck over a level change, for it pushes even an unchanged
    # level (it would be lost behind a level change that skips as "no change").
    rechecks = [d for d in group if d.topic == STOCK_RECHECK]
    newest = (rechecks or group)[-1] if group else delivery
    superseded = [d.pk for d in group if d.pk != newest.pk]
    if superseded:
        Delivery.objects.filter(pk__in=superseded).update(
            status=DeliveryStatus.SUPERSEDED, last_error=f"Coalesced into delivery {newest.pk}."
        )
    return newest


def _send_webhook(delivery: Delivery) -> Outcome:
    subscription = WebhookSubscription.objects.get(pk=_id(delivery.subscription_id))
    if not subscription.is_active:
        return Outcome(Kind.SKIP, "The subscription is inactive.")
    event = OutboxEvent.objects.get(pk=delivery.event_id)
    try:
        exchange = webhooks_out.webhook_send(delivery=delivery, subscription=subscription, event=event)
    except Exception as exc:
        return outcome_of(exc)
    return Outcome(Kind.SUCCESS, "", log=exchange.log)


def _finish(claimed: Delivery, outcome: Outcome) -> Delivery:
    """Record the outcome, if this worker still holds the claim."""
    moment = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(pk=claimed.pk, claimed_until=claimed.claimed_until)
            .first()
        )
        if delivery is None:
            logger.warning("Delivery %s: the claim was lost before the outcome was recorded", claimed.pk)
            return Delivery.objects.get(pk=claimed.pk)
        delivery.claimed_until = None
        if outcome.log is not None:
            delivery.last_status_code = outcome.log.status_code
            delivery.response_excerpt = outcome.log.response_body
        if outcome.status is not None:
            delivery.last_status_code = outcome.status
        kind = outcome.kind
        delivery.last_error = "" if kind is Kind.SUCCESS else outcome.message[:2000]
        # Dead for want of a person (a value with no mapping): what it waits for, so that mapping
        # it retries it (deliveries_waiting_replay); any other outcome waits for nothing.
        delivery.missing = (outcome.missing or {}) if kind is Kind.PERMANENT else {}
        if kind is not Kind.WAITING:
            delivery.job_id = ""  # done with the job, whatever became of it
        if kind is Kind.SUCCESS:
            delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, moment
            delivery.attempts += 1
            delivery.blocked_on_id = None
            if outcome.remember is not None:
                _remember(delivery, outcome.remember)
            _release_on_commit(delivery.pk)
        elif kind is Kind.SKIP:
            delivery.status = DeliveryStatus.SKIPPED
            # Done too (the tool has it as it is, or nothing is to be sent): what waits for it
            # looks again now, rather than at the hour's safety net.
            _release_on_commit(delivery.pk)
        elif kind is Kind.BLOCKED:
            # Not an attempt: it waits for the other delivery (released when that one lands); the
            # hour is a safety net should the release be lost.
            delivery.status, delivery.blocked_on_id = DeliveryStatus.PENDING, outcome.blocked_on
            delivery.next_attempt_at = moment + timedelta(hours=1)
            # The other one may have landed while this attempt was deciding to wait (its release
            # found nothing blocked yet): then this one is due now, not in an hour. Looked at again
            # once this commits: one landing between this look and the commit is seen then, and
            # one landing after it releases this (its release runs after its commit too).
            first = outcome.blocked_on
            if first is not None and Delivery.objects.filter(pk=first, status__in=DONE).exists():
                delivery.next_attempt_at = moment
                queueing.attempt_deliveries_on_commit([(delivery.pk, moment)])
            elif first is not None:
                transaction.on_commit(lambda: _release_waiting(first, timezone.now()))
        elif kind is Kind.THROTTLED:
            delivery.next_attempt_at = moment + timedelta(seconds=outcome.wait)
        elif kind is Kind.WAITING:  # not an attempt: the tool is working on it
            delivery.status, delivery.job_id = DeliveryStatus.PENDING, outcome.job_id
            delivery.next_attempt_at = moment + timedelta(seconds=outcome.wait)
        elif kind is Kind.AUTH:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = moment + timedelta(seconds=_reauth_seconds())
        elif kind is Kind.PERMANENT:
            delivery.status = DeliveryStatus.DEAD
            delivery.attempts += 1
        else:
            delivery.attempts += 1
            if delivery.attempts >= max_attempts():
                delivery.status = DeliveryStatus.DEAD
                delivery.last_error = f"Gave up after {delivery.attempts} attempts: {delivery.last_error}"[
                    :2000
                ]
            else:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = moment + timedelta(seconds=backoff_seconds(delivery.attempts))
        delivery.save()
        if delivery.connection_id is not None:
            _note_connection(delivery, outcome, moment)
            if delivery.status == DeliveryStatus.DEAD:
                alerts.dead_letter(delivery)  # the integration admins hear of it (erp.notifications)
    return delivery


def _release_on_commit(delivery_id: int) -> None:
    """Once this delivery's success (or skip) is committed, what waits for it is due. After the
    commit, not before: a delivery deciding to wait for this one at the same moment is seen by
    this release or sees this one done (``_finish``), never neither."""
    transaction.on_commit(lambda: _release_waiting(delivery_id, timezone.now()))


def _release_waiting(delivery_id: int, moment: datetime) -> None:
    """The deliveries waiting for ``delivery_id``, done, are due now (attempted after commit)."""
    if not Delivery.objects.filter(pk=delivery_id, status__in=DONE).exists():
        return
    waiting = Delivery.objects.filter(blocked_on_id=delivery_id, status__in=OPEN)
    due = [(pk, moment) for pk in waiting.values_list("pk", flat=True)]
    if due:
        waiting.update(next_attempt_at=moment)
        queueing.attempt_deliveries_on_commit(due)


def _remember(delivery: Delivery, remember: Callable[[], None]) -> None:
    """Record what the tool took. A failure here must not undo the success (and push twice)."""
    try:
        with transaction.atomic():
            remember()
    except Exception:
        logger.exception("Delivery %s landed but its result could not be recorded", delivery.pk)


def _reauth_seconds() -> float:
    return float(settings.INTEGRATIONS_REAUTH_RETRY_SECONDS)


def _note_connection(delivery: Delivery, outcome: Outcome, moment: datetime) -> None:
    """Keep the connection's health in step with what its pushes meet."""
    connection_id = _id(delivery.connection_id)
    connection = Connection.objects.filter(pk=connection_id)
    failure = {"last_failure_at": moment, "last_error": outcome.message[:2000]}
    if outcome.kind is Kind.SUCCESS:
        connection.update(last_success_at=moment)
        connection.filter(status__in=[ConnectionStatus.FAILING, ConnectionStatus.NEEDS_REAUTH]).update(
            status=ConnectionStatus.ACTIVE
        )
    elif outcome.kind is Kind.THROTTLED:
        until = moment + timedelta(seconds=outcome.wait)
        connection.exclude(throttled_until__gte=until).update(throttled_until=until)
    elif outcome.kind is Kind.TRANSIENT:
        connection.update(**failure)
        connection.filter(status=ConnectionStatus.ACTIVE).update(status=ConnectionStatus.FAILING)
    elif outcome.kind is Kind.PERMANENT:
        connection.update(**failure)
    elif outcome.kind is Kind.AUTH:
        connection.update(**failure)
        connection.exclude(status=ConnectionStatus.PAUSED).update(status=ConnectionStatus.NEEDS_REAUTH)
        # One probe per interval, not one 401 per waiting delivery.
        Delivery.objects.filter(connection_id=connection_id, status__in=OPEN).exclude(pk=delivery.pk).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=moment)
        ).update(next_attempt_at=delivery.next_attempt_at)


# --- due deliveries, manual retry ------------------------------------------------------------------


def deliveries_due() -> QuerySet[Delivery]:
    """Pending or failed deliveries whose time has come, unclaimed, not for a paused connection."""
    moment = timezone.now()
    return (
        Delivery.objects.filter(status__in=OPEN, next_attempt_at__lte=moment)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=moment))
        .exclude(connection__status=ConnectionStatus.PAUSED)
        .order_by("next_attempt_at", "pk")
    )


def deliveries_enqueue_due(*, limit: int = 500) -> int:
    """Queue an attempt of each due delivery (the periodic task)."""
    due = list(deliveries_due().values_list("pk", "next_attempt_at")[:limit])
    queueing.attempt_deliveries(due)
    return len(due)


@transaction.atomic
def delivery_retry(*, delivery: Delivery, user: Any = None) -> Delivery:
    """A dead or failed delivery back to pending now, with a fresh run of attempts, and queued."""
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
        raise InvalidTransition(document="delivery", current=locked.status, target=DeliveryStatus.PENDING)
    moment = timezone.now()
    if locked.claimed_until is not None and locked.claimed_until > moment:
        raise DomainError(f"Delivery {locked.pk} is being attempted right now.")
    who = getattr(user, "get_username", lambda: "")() if getattr(user, "is_authenticated", False) else ""
    previous = locked.last_error
    locked.status, locked.attempts, locked.next_attempt_at = DeliveryStatus.PENDING, 0, moment
    locked.last_error = (f"Retried by {who or 'the system'} after: {previous}" if previous else "")[:2000]
    locked.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
    queueing.attempt_deliveries_on_commit([(locked.pk, moment)])
    return locked


@transaction.atomic
def deliveries_waiting_replay(*, connection: Connection, kind: str, value: str, user: Any = None) -> int:
    """Retry every dead delivery of ``connection`` waiting for ``kind`` ``value`` (its ``missing``:
    a value now mapped, a setting now set); how many. One that fails again waits again."""
    waiting = list(
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(connection=connection, status=DeliveryStatus.DEAD)
        .filter(missing__kind=kind, missing__value=value)
        .order_by("pk")
    )
    for delivery in waiting:
        delivery_retry(delivery=delivery, user=user)
    return len(waiting)
